/** Builds the real app (`createApp`) over a test database, for `app.inject()` tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type App, type AppDeps, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/client.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "./db.ts";

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

export interface TestApp {
  database: TestDatabase;
  app: App;
}

/**
 * The real app over a fresh PostgreSQL database, for the enclosing file (or describe): built
 * before its tests, closed and dropped after them, every table emptied before each test (unless
 * `truncate: false`, for files whose tests build on each other's data). The properties are set
 * once the tests start.
 */
export function useTestApp(env: Record<string, string> = {}, options: { truncate?: boolean } = {}): TestApp {
  const state = {} as TestApp;
  beforeAll(async () => {
    state.database = await createTestDatabase();
    state.app = await buildApp(state.database, env);
  });
  afterAll(async () => {
    await state.app?.close();
    await state.database?.drop();
  });
  if (options.truncate ?? true) beforeEach(() => truncateAll(state.database));
  return state;
}
