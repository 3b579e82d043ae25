/**
 * `cohort-lrs cmi5-launch`, the real command: on PostgreSQL it writes the launch itself; on the
 * embedded database held by a running server it asks that server; bad options are usage errors
 * that name the option and change nothing.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCredentials, users, xapiDocuments } from "../src/db/schema.ts";
import { runCli, startServer } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const AU = "https://courses.example.com/loops/au-1";
const BASE = "https://lrs.example.com";
const launchArgs = [
  "cmi5-launch",
  "--learner",
  "ada",
  "--activity-id",
  AU,
  "--au-url",
  "https://au.example.com/",
];

describe("cmi5-launch on PostgreSQL", () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db
      .insert(users)
      .values({ name: "Ada Lovelace", email: "ada@example.com", avatar: "ada", cohortId: "c1" });
    env = {
      DATABASE_URL: database.url,
      PUBLIC_BASE_URL: BASE,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-cmi5-cli-")),
    };
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("prints the launch URL first, and writes LMS.LaunchData for the new registration", async () => {
    const result = await runCli([...launchArgs, "--move-on", "Completed", "--mastery-score", "0.7"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [url, registrationLine] = result.stdout.split("\n");
    const launch = new URL(url!);
    expect(launch.origin).toBe("https://au.example.com");
    expect(launch.searchParams.get("fetch")).toMatch(/^https:\/\/lrs\.example\.com\/xapi\/cmi5\/fetch\//);
    expect(registrationLine).toBe(`registration: ${launch.searchParams.get("registration")}`);
    const [state] = await database.db
      .select({ contents: xapiDocuments.contents })
      .from(xapiDocuments)
      .where(eq(xapiDocuments.registration, launch.searchParams.get("registration")!));
    expect(JSON.parse(state!.contents.toString())).toMatchObject({ moveOn: "Completed", masteryScore: 0.7 });
  });

  it("refuses bad options naming them, and an unknown learner, changing nothing", async () => {
    const [before] = await database.db.select({ n: count() }).from(apiCredentials);
    const missing = await runCli(["cmi5-launch", "--learner", "ada", "--activity-id", AU], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--au-url: is required");
    const bad = await runCli([...launchArgs, "--mastery-score", "high", "--launch-mode", "Fast"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--mastery-score:");
    expect(bad.stderr).toContain("--launch-mode:");
    const unknown = await runCli([...launchArgs.slice(0, 2), "grace", ...launchArgs.slice(3)], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no learner has the avatar "grace"');
    const elsewhere = await runCli(["migrate", "--learner", "ada"], env);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("--learner applies to cmi5-launch only");
    const [after] = await database.db.select({ n: count() }).from(apiCredentials);
    expect(after!.n).toBe(before!.n);
  });
});

describe("cmi5-launch on the embedded database", () => {
  it("asks the running server that holds the database", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-cmi5-cli-"));
    const env = { DATA_DIR: dataDir, ADMIN_PASSWORD: "cmi5-cli-admin-password", PUBLIC_BASE_URL: BASE };
    const server = await startServer(["all"], { ...env, PORT: "0" });
    try {
      const signup = await fetch(`${server.url}/api/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Ada", email: "ada@example.com", avatar: "ada", cohortId: "c1" }),
      });
      expect(signup.status).toBe(201);
      const result = await runCli(launchArgs, env);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const url = new URL(result.stdout.split("\n")[0]!);
      // The fetch URL works against that server.
      const fetchUrl = new URL(url.searchParams.get("fetch")!);
      const fetched = await fetch(`${server.url}${fetchUrl.pathname}`, { method: "POST" });
      expect(fetched.status).toBe(200);
      expect(Object.keys((await fetched.json()) as object)).toEqual(["auth-token"]);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
