/**
 * The group commit's isolation: whatever error one request's statements cause while a group is
 * committed, only that request fails; the others of the group are committed and resolve. Only a
 * database that cannot be reached fails them all. On PostgreSQL and on the embedded PGlite.
 *
 * The poison here is a statement carrying a NUL, which PostgreSQL refuses: validation keeps it
 * out of the HTTP path, so these tests hand it to the store directly, as the last line of
 * defence against whatever else a database may refuse.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OpenedDatabase, openTestDatabase } from "../../test/helpers/db.ts";
import { statement } from "../../test/helpers/xapi.ts";
import { type Database, isDatabaseUnavailable, openPostgres, queryRows } from "../db/client.ts";
import { type PreparedStatement, prepareStatement } from "./prepareStatement.ts";
import { StatementConflict, StatementStore, type StoreResult } from "./storeStatements.ts";
import type { Statement } from "./validateStatement.ts";

const client = { credentialId: "", key: "k", name: "content", scopes: ["all"] };

function prepare(statements: Statement[]): PreparedStatement[] {
  return statements.map((s) =>
    prepareStatement(s, { client, version: "1.0.3", stored: new Date(), publicBaseUrl: "http://lrs.test" }),
  );
}

/** Ten statements from one client. */
const tenStatements = () => prepare(Array.from({ length: 10 }, () => statement({ id: randomUUID() })));

const engines: [string, () => Promise<OpenedDatabase>][] = [
  ["PostgreSQL", () => openTestDatabase("postgres")],
  ["the embedded PGlite", () => openTestDatabase("pglite")],
];

describe.each(engines)("group commit on %s", (_, open) => {
  let database: Database & { drop(): Promise<void> };

  beforeAll(async () => {
    database = await open();
  });
  afterAll(() => database.drop());
  beforeEach(() => database.db.execute(sql`truncate statements_raw cascade`));

  async function storedIds(): Promise<Set<string>> {
    const rows = await queryRows<{ id: string }>(database.db, sql`select id from statements_raw`);
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Stores `requests` as one group: with one commit in flight at a time, a first request holds
   * the slot while these queue behind it, so they are all committed together in the next one.
   */
  async function storeAsOneGroup(
    requests: PreparedStatement[][],
  ): Promise<PromiseSettledResult<StoreResult>[]> {
    const store = new StatementStore(database.db, 1);
    const first = store.store(tenStatements(), null);
    const settled = Promise.allSettled(requests.map((statements) => store.store(statements, null)));
    await first;
    return settled;
  }

  it("fails only the request whose statement the database refuses; the 15 others are stored", async () => {
    const requests = Array.from({ length: 16 }, tenStatements);
    const poisoned = requests[7]!;
    poisoned[3] = { ...poisoned[3]!, actor: { mbox: "mailto:ada@example.com", name: "Ada\u0000" } };

    const results = await storeAsOneGroup(requests);

    expect(results.map((result) => result.status)).toEqual(
      requests.map((_, i) => (i === 7 ? "rejected" : "fulfilled")),
    );
    const stored = await storedIds();
    expect(stored.size).toBe(10 + 15 * 10);
    for (const [i, statements] of requests.entries()) {
      const result = results[i]!;
      if (i === 7) {
        expect(statements.some((s) => stored.has(s.id))).toBe(false);
        expect(isDatabaseUnavailable((result as PromiseRejectedResult).reason)).toBe(false);
      } else {
        expect((result as PromiseFulfilledResult<StoreResult>).value.inserted).toEqual(statements);
        expect(statements.every((s) => stored.has(s.id))).toBe(true);
      }
    }
  });

  it("isolates a poisoned request and a conflicting id in the same group, each with its own error", async () => {
    const [taken] = prepare([statement({ id: randomUUID() })]);
    const store = new StatementStore(database.db);
    await store.store([taken!], null);
    const requests = Array.from({ length: 6 }, tenStatements);
    requests[1]![0] = { ...requests[1]![0]!, result: { response: "\ud800" } };
    requests[4]![9] = { ...taken!, verb: { id: "http://example.com/verbs/other" } };

    const results = await storeAsOneGroup(requests);

    expect(results.map((result) => result.status)).toEqual([
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect((results[4] as PromiseRejectedResult).reason).toBeInstanceOf(StatementConflict);
    expect((results[1] as PromiseRejectedResult).reason).not.toBeInstanceOf(StatementConflict);
    expect((await storedIds()).size).toBe(1 + 10 + 4 * 10);
  });
});

describe("group commit during an outage", () => {
  it("fails every request of the group as 'database unavailable', without storing one by one", async () => {
    // Nothing listens on port 1: every connection is refused, as when PostgreSQL is down.
    const down = openPostgres("postgres://postgres@127.0.0.1:1/cohort_lrs_down");
    try {
      let transactions = 0;
      const db = new Proxy(down.db, {
        get(target, property, receiver) {
          if (property === "transaction") transactions += 1;
          return Reflect.get(target, property, receiver);
        },
      });
      const store = new StatementStore(db, 1);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => store.store(tenStatements(), null)),
      );
      expect(results.every((result) => result.status === "rejected")).toBe(true);
      for (const result of results)
        expect(isDatabaseUnavailable((result as PromiseRejectedResult).reason)).toBe(true);
      // The first request alone, then the other seven as one group: two transactions, no retries.
      expect(transactions).toBe(2);
    } finally {
      await down.close();
    }
  });
});
