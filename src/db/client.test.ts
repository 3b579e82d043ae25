import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb, openDatabase, queryRows, redactUrl } from "./client.ts";
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
