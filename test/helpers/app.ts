/** Builds the real app (`createApp`) over a test database, for `app.inject()` tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type App, type AppDeps, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/client.ts";

export const ADMIN_PASSWORD = "test-admin-password-0123";
export const SIGNING_SECRET = "test-signing-secret-0123456789-abcdefghij";

export const adminHeaders = {
  authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
};

export function testConfig(env: Record<string, string> = {}) {
  return loadConfig({
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-test-")),
    ADMIN_PASSWORD,
    LOG_LEVEL: "silent",
    SIGNUP_RATE_LIMIT: "10000/minute",
    ...env,
  });
}

export async function buildApp(
  database: Database,
  env: Record<string, string> = {},
  extra: Partial<Pick<AppDeps, "redis" | "onStatementsStored" | "runTask">> = {},
): Promise<App> {
  const app = await createApp({
    config: testConfig(env),
    database,
    adminPassword: ADMIN_PASSWORD,
    signingSecret: SIGNING_SECRET,
    ...extra,
  });
  await app.ready();
  return app;
}
