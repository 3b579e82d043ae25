/**
 * The xAPI app over each database this LRS runs on: PostgreSQL (a fresh test database) and the
 * embedded PGlite (in memory, migrated). Statement-resource tests run on both with `describe.each`.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { App } from "../../src/app.ts";
import type { Database } from "../../src/db/client.ts";
import { buildApp } from "./app.ts";
import { DATABASE_KINDS, type DatabaseKind, openTestDatabase, truncateAll } from "./db.ts";
import { createCredential, type TestCredential } from "./xapi.ts";

export const BACKENDS = DATABASE_KINDS;
export type Backend = DatabaseKind;

export interface XapiBackend {
  database: Database;
  app: App;
  /** A credential with scope `all`, fresh for each test; headers send version 1.0.3. */
  content: TestCredential;
}

/** Opens the app on `backend` for the enclosing describe; empties the tables before each test. */
export function useXapiBackend(backend: Backend, env: Record<string, string> = {}): XapiBackend {
  const state = {} as XapiBackend;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await openTestDatabase(backend);
    state.database = database;
    drop = () => database.drop();
    state.app = await buildApp(state.database, { PUBLIC_BASE_URL: "https://lrs.example.com", ...env });
  });
  afterAll(async () => {
    await state.app?.close();
    await drop?.();
  });
  beforeEach(async () => {
    await truncateAll(state.database);
    state.content = await createCredential(state.database.db, { name: "course content" });
  });
  return state;
}
