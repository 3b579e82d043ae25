/** Statements stored before the query index existed are indexed once, then found by queries. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS, type OpenedDatabase, openTestDatabase } from "../../test/helpers/db.ts";
import { statement } from "../../test/helpers/xapi.ts";
import { queryRows } from "../db/client.ts";
import { indexStoredStatements } from "./indexStoredStatements.ts";
import { parseStatementQuery } from "./parseStatementQuery.ts";
import { prepareStatement } from "./prepareStatement.ts";
import { readStatements } from "./readStatements.ts";

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
