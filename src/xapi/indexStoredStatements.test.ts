/** Statements stored before the query index existed are indexed once, then found by queries. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS, type OpenedDatabase, openTestDatabase } from "../../test/helpers/db.ts";
import { statement } from "../../test/helpers/xapi.ts";
import { type Db, queryRows } from "../db/client.ts";
import { loadMigrations, migrate } from "../db/migrate.ts";
import { indexStoredStatements } from "./indexStoredStatements.ts";
import { parseStatementQuery } from "./parseStatementQuery.ts";
import { prepareStatement } from "./prepareStatement.ts";
import { readStatements } from "./readStatements.ts";
import { hashKey, indexKey, NO_SINGLE_VERB, statementIndexKeys } from "./statementIndexKeys.ts";

describe.each(DATABASE_KINDS)("indexStoredStatements on %s", (backend) => {
  let database: OpenedDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(backend);
  });
  afterAll(() => database.drop());

  it("indexes statements stored without keys, once, and queries then find them", async () => {
    const db = database.db;
    const client = { credentialId: "", key: "k", name: "content", scopes: ["all"] };
    const prepared = Array.from({ length: 5 }, (_, n) =>
      prepareStatement(statement({ actor: { mbox: `mailto:old${n % 2}@example.com` } }), {
        client,
        version: "1.0.3",
        stored: new Date(Date.now() - 1_000 + n),
        publicBaseUrl: "https://lrs.example.com",
      }),
    );
    // As an older version stored them: statements_raw only.
    await db.execute(
      sql`insert into statements_raw (id, payload, stored)
          select (s->>'id')::uuid, s, (s->>'stored')::timestamptz
          from jsonb_array_elements(${JSON.stringify(prepared)}::jsonb) s`,
    );
    const find = async () => {
      const request = parseStatementQuery(
        new URLSearchParams({ agent: JSON.stringify({ mbox: "mailto:old0@example.com" }) }),
        "1.0.3",
      );
      const answer = await readStatements({ db, signingSecret: "secret" }, request);
      return (answer.body as { statements: { id: string }[] }).statements.map((s) => s.id).sort();
    };
    expect(await find()).toEqual([]);

    expect(await indexStoredStatements(db, 2)).toBe(5);
    expect(await find()).toEqual([prepared[0]!.id, prepared[2]!.id, prepared[4]!.id].sort());

    const [{ rows } = { rows: 0 }] = await queryRows<{ rows: number }>(
      db,
      sql`select count(*)::int as rows from statement_index`,
    );
    expect(await indexStoredStatements(db)).toBe(0);
    const [{ again } = { again: 0 }] = await queryRows<{ again: number }>(
      db,
      sql`select count(*)::int as again from statement_index`,
    );
    expect(again).toBe(rows);
  });
});

/**
 * What upgrading does to a database that already holds statements: migration 0010 (hashed keys)
 * drops the index and has it rebuilt from `statements_raw`, and 0012 gives the index rows already
 * there their statement's verb, as the insert path writes it.
 */
describe.each(DATABASE_KINDS)("upgrading the query index on %s", (backend) => {
  const migrations = loadMigrations();
  const through = (idx: number) => migrations.filter((migration) => migration.idx <= idx);
  const client = { credentialId: "", key: "k", name: "content", scopes: ["all"] };
  const stored = (n: number) => new Date(Date.parse("2026-03-01T00:00:00Z") + n);
  const completedA = prepareStatement(
    statement({ verb: { id: "http://adlnet.gov/expapi/verbs/completed" } }),
    {
      client,
      version: "1.0.3",
      stored: stored(1),
      publicBaseUrl: "https://lrs.example.com",
    },
  );
  const liked = prepareStatement(
    statement({
      verb: { id: "http://adlnet.gov/expapi/verbs/liked" },
      object: { objectType: "StatementRef", id: completedA.id },
    }),
    { client, version: "1.0.3", stored: stored(2), publicBaseUrl: "https://lrs.example.com" },
  );
  const statements = [completedA, liked];

  async function storeRaw(db: Db): Promise<void> {
    await db.execute(
      sql`insert into statements_raw (id, payload, stored)
          select (s->>'id')::uuid, s, (s->>'stored')::timestamptz
          from jsonb_array_elements(${JSON.stringify(statements)}::jsonb) s`,
    );
  }

  async function found(db: Db, params: Record<string, string>): Promise<string[]> {
    const answer = await readStatements(
      { db, signingSecret: "secret" },
      parseStatementQuery(new URLSearchParams(params), "1.0.3"),
    );
    return (answer.body as { statements: { id: string }[] }).statements.map((s) => s.id).sort();
  }
  const activity = (completedA.object as { id: string }).id;
  const verb = (name: string) => `http://adlnet.gov/expapi/verbs/${name}`;

  it("0010: statements indexed by an older version are indexed again after the upgrade", async () => {
    const database = await openTestDatabase(backend, { migrated: false });
    try {
      await migrate(database.db, through(9));
      await storeRaw(database.db);
      await database.db.execute(
        sql`insert into settings (key, value) values ('statement_index_backfilled', '2026-01-01T00:00:00Z')`,
      );
      await migrate(database.db);
      expect(await found(database.db, { activity })).toEqual([]);
      expect(await indexStoredStatements(database.db)).toBe(2);
      expect(await found(database.db, { activity })).toEqual([completedA.id, liked.id].sort());
      expect(await found(database.db, { activity, verb: verb("completed") })).toEqual(
        [completedA.id, liked.id].sort(),
      );
      expect(await found(database.db, { activity, verb: verb("liked") })).toEqual([liked.id]);
    } finally {
      await database.drop();
    }
  });

  it("0012: index rows written before it get their statement's verb, and verb filters find them", async () => {
    const database = await openTestDatabase(backend, { migrated: false });
    try {
      await migrate(database.db, through(11));
      await storeRaw(database.db);
      // The rows the insert path wrote before 0012: keys only (the StatementRef takes its target's).
      const rows = [
        ...statementIndexKeys(completedA).map((key) => [hashKey(key), completedA.stored, completedA.id]),
        ...[...new Set([...statementIndexKeys(liked), ...statementIndexKeys(completedA)])].map((key) => [
          hashKey(key),
          liked.stored,
          liked.id,
        ]),
      ];
      await database.db.execute(
        sql`insert into statement_index (key, stored, statement_id)
            select (r->>0)::uuid, (r->>1)::timestamptz, (r->>2)::uuid
            from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) r`,
      );
      await database.db.execute(
        sql`insert into settings (key, value) values ('statement_index_backfilled', '2026-01-01T00:00:00Z')`,
      );
      await migrate(database.db);

      const verbs = await queryRows<{ id: string; verb: string }>(
        database.db,
        sql`select distinct statement_id::text as id, verb::text from statement_index order by 1`,
      );
      expect(verbs).toEqual(
        [
          { id: completedA.id, verb: indexKey("verb", verb("completed")) },
          { id: liked.id, verb: NO_SINGLE_VERB },
        ].sort((a, b) => a.id.localeCompare(b.id)),
      );
      expect(await indexStoredStatements(database.db)).toBe(0);
      expect(await found(database.db, { activity, verb: verb("completed") })).toEqual(
        [completedA.id, liked.id].sort(),
      );
      expect(await found(database.db, { activity, verb: verb("liked") })).toEqual([liked.id]);
      expect(await found(database.db, { activity, verb: verb("attempted") })).toEqual([]);
    } finally {
      await database.drop();
    }
  });
});
