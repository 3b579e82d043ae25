/**
 * Helpers for the xAPI document resources' tests, which run on real PostgreSQL and on the
 * embedded PGlite alike: an app over either, a credential, and request builders.
 */

import type { App } from "../../src/app.ts";
import type { Database } from "../../src/db/client.ts";
import { buildApp } from "./app.ts";
import { DATABASE_KINDS, type DatabaseKind, openTestDatabase } from "./db.ts";
import { createCredential, type TestCredential } from "./xapi.ts";

export { DATABASE_KINDS, type DatabaseKind };

export interface DocumentsHarness {
  app: App;
  database: Database;
  credential: TestCredential;
  close(): Promise<void>;
}

/** The real app over a fresh PostgreSQL database or an in-memory PGlite, with one credential. */
export async function documentsHarness(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<DocumentsHarness> {
  const database = await openTestDatabase(kind);
  const app = await buildApp(database, env);
  const credential = await createCredential(database.db, { name: "lesson content" });
  return {
    app,
    database,
    credential,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

export const ACTIVITY = "https://lessons.example.com/course/day-1";
export const ADA = { objectType: "Agent", name: "Ada", mbox: "mailto:ada@example.com" };

/** `?a=1&b=…` with objects JSON-encoded (the `agent` parameter). */
export function query(parameters: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value === undefined) continue;
    search.append(name, typeof value === "string" ? value : JSON.stringify(value));
  }
  return `?${search.toString()}`;
}
