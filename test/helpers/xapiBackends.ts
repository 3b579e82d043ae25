/**
 * The xAPI app over each database this LRS runs on: PostgreSQL (a fresh test database) and the
 * embedded PGlite (in memory, migrated). Statement-resource tests run on both with `describe.each`.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { App } from "../../src/app.ts";
import { type Database, openMemoryPglite } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { buildApp } from "./app.ts";
import { createTestDatabase, truncateAll } from "./db.ts";
import { createCredential, type TestCredential } from "./xapi.ts";

export const BACKENDS = ["postgres", "pglite"] as const;
export type Backend = (typeof BACKENDS)[number];

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
    if (backend === "postgres") {
      const database = await createTestDatabase();
      state.database = database;
      drop = () => database.drop();
    } else {
      const database = await openMemoryPglite();
      await migrate(database.db);
      state.database = database;
      drop = () => database.close();
    }
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
