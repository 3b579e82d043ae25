import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/helpers/db.ts";
import { type Db, getDb, isDatabaseUnavailable, openDatabase, queryRows, redactUrl } from "./client.ts";
import { DirLockedError } from "./dirLock.ts";

describe("openDatabase and getDb", () => {
  it("opens the embedded database without DATABASE_URL, serves it from getDb(), and locks its directory", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-db-"));
    const database = await openDatabase({ databaseUrl: undefined, dataDir });
    try {
      expect(database.kind).toBe("pglite");
      expect(await queryRows<{ one: number }>(getDb(), sql`select 1 as one`)).toEqual([{ one: 1 }]);
      await expect(openDatabase({ databaseUrl: undefined, dataDir })).rejects.toThrow(DirLockedError);
    } finally {
      await database.close();
    }
    expect(() => getDb()).toThrow(/no database is open/);
  });

  it("never prints a database password", () => {
    expect(redactUrl("postgres://app:hunter2@db:5432/lrs")).toBe("postgres://app:***@db:5432/lrs");
  });
});

describe("a PostgreSQL connection ended by the server", () => {
  it("fails the transaction holding it, without crashing the process, and the pool recovers", async () => {
    const database = await createTestDatabase({ migrated: false });
    try {
      const backend = { pid: 0 };
      // Between two queries of a transaction the client is checked out, outside the pool's care:
      // the server ends its connection there, as a restart of PostgreSQL does.
      const transaction = database.db.transaction(async (tx) => {
        const [row] = await queryRows<{ pid: number }>(
          tx as unknown as Db,
          sql`select pg_backend_pid() as pid`,
        );
        backend.pid = row!.pid;
        await new Promise((resolve) => setTimeout(resolve, 500));
        await tx.execute(sql`select 1`);
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await queryRows(database.db, sql`select pg_terminate_backend(${backend.pid})`);
      const failure = await transaction.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      // …as the database being unavailable (a 503, a retry), not as a bad query.
      expect(isDatabaseUnavailable(failure)).toBe(true);
      // The process is alive (an unheard 'error' would have ended this test run), and the pool
      // hands out working connections.
      expect(await queryRows<{ one: number }>(database.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await database.drop();
    }
  });
});
