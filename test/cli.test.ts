/** The real `cohort-lrs` command, as an operator runs it. */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite, queryRows } from "../src/db/client.ts";
import { loadMigrations } from "../src/db/migrate.ts";
import { runCli, startServer } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const ALL = loadMigrations().map((migration) => migration.tag);
const created: TestDatabase[] = [];
afterAll(async () => {
  for (const database of created) await database.drop();
});

describe("cohort-lrs all on the embedded database", () => {
  it("starts from an empty DATA_DIR, creates the secrets once, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-embedded-"));
    const first = await startServer(["all"], { DATA_DIR: dataDir, PORT: "0" });
    const health = await fetch(`${first.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);

    // A second process on the same embedded database is refused with a clear message.
    const second = await runCli(["all"], { DATA_DIR: dataDir, PORT: "0" });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/embedded database in .* is in use by process \d+/);

    const passwordFile = path.join(dataDir, "admin-password");
    const credentialFile = path.join(dataDir, "xapi-credential.json");
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(credentialFile).mode & 0o777).toBe(0o600);
    const adminPassword = readFileSync(passwordFile, "utf8").trim();
    const credential = JSON.parse(readFileSync(credentialFile, "utf8")) as { key: string; secret: string };
    expect(adminPassword.length).toBeGreaterThanOrEqual(12);

    // The admin password works for the admin API.
    const lessons = await fetch(`${first.url}/api/lessons`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString("base64")}` },
    });
    expect(lessons.status).toBe(200);

    const banner = first.output();
    expect(banner).toContain(`password in ${passwordFile}`);
    expect(banner).not.toContain(adminPassword);
    expect(banner.split(credential.secret)).toHaveLength(2); // printed exactly once
    expect(await first.stop()).toBe(0);

    // The second start prints where the secrets are, never the secrets.
    const restarted = await startServer(["all"], { DATA_DIR: dataDir, PORT: "0" });
    expect(restarted.output()).toContain(`key ${credential.key}, secret in ${credentialFile}`);
    expect(await restarted.stop()).toBe(0);
    expect(restarted.output()).not.toContain(credential.secret);
    expect(restarted.output()).not.toContain(adminPassword);

    // At rest the secret exists only as an scrypt hash.
    const embedded = await openPglite(path.join(dataDir, "pgdata"));
    const rows = await queryRows(embedded.db, sql`select key, secret_hash, bootstrap from api_credentials`);
    await embedded.close();
    expect(rows).toEqual([
      { key: credential.key, secret_hash: expect.stringMatching(/^scrypt\$/), bootstrap: true },
    ]);
    expect(JSON.stringify(rows)).not.toContain(credential.secret);
  }, 120_000);
});

describe("cohort-lrs on PostgreSQL", () => {
  it("migrate applies the migrations, then has nothing to do; api refuses a database that is behind", async () => {
    const database = await createTestDatabase({ migrated: false });
    created.push(database);
    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-pg-")),
      PORT: "0",
    };

    const behind = await runCli(["api"], env);
    expect(behind.code).toBe(1);
    expect(behind.stderr).toContain(
      `pending migration(s) (${ALL.join(", ")}); run \`cohort-lrs migrate\` first`,
    );

    const first = await runCli(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`applied ${ALL.length} migration(s): ${ALL.join(", ")}`);
    const second = await runCli(["migrate"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("nothing to apply");

    const api = await startServer(["api"], env);
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
    expect(await api.stop()).toBe(0);
  }, 120_000);
});

describe("cohort-lrs usage and configuration errors", () => {
  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ ETL_MODE: "fast" }, "ETL_MODE"],
    [{ DATABASE_URL: "postgres//nope" }, "DATABASE_URL"],
  ])("exits 2 with one line naming the variable for %o", async (env, variable) => {
    const result = await runCli(["api"], env);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^cohort-lrs: configuration error: ${variable}: `));
  });

  it("prints help with --help and exits 0", async () => {
    const result = await runCli(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: cohort-lrs <command>/);
    for (const command of ["all", "api", "migrate"]) expect(result.stdout).toContain(`  ${command} `);
  });

  it("rejects an unknown command with exit code 2", async () => {
    const result = await runCli(["launch"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "launch"');
  });
});
