/**
 * A fresh PostgreSQL database per test file, cloned from the run's migrated template, or a
 * migrated in-memory PGlite: the two databases this service runs on.
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { inject } from "vitest";
import { type Database, openMemoryPglite, openPostgres } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { TEST_DATABASE_PREFIX, TEST_DATABASE_URL } from "../services.ts";

export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface TestDatabase extends Database {
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A new, empty database (`migrated: false`) or a migrated clone of the template (default). */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `${TEST_DATABASE_PREFIX}_${inject("testRunId")}_${randomBytes(4).toString("hex")}`;
  await adminQuery(
    options.migrated === false
      ? `create database ${name}`
      : `create database ${name} template ${inject("templateDatabase")}`,
  );
  const url = databaseUrl(name);
  const database = openPostgres(url);
  return {
    ...database,
    url,
    name,
    async drop() {
      await database.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

export const DATABASE_KINDS = ["postgres", "pglite"] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** A database to test on, and `drop()`, which closes it and (PostgreSQL) drops it. */
export type OpenedDatabase = Database & { drop(): Promise<void> };

/**
 * A migrated database of `kind`: a clone of the run's template on PostgreSQL, or a new in-memory
 * PGlite (migrating one takes a few seconds: share it within a file). `migrated: false`: an empty
 * one, to migrate step by step.
 */
export async function openTestDatabase(
  kind: DatabaseKind,
  options: { migrated?: boolean } = {},
): Promise<OpenedDatabase> {
  if (kind === "postgres") return createTestDatabase(options);
  const embedded = await openMemoryPglite();
  if (options.migrated !== false) await migrate(embedded.db);
  return { ...embedded, drop: () => embedded.close() };
}

const TABLES = [
  "xapi_documents",
  "xapi_attachments",
  "statements_flat",
  "statement_index",
  "statements_raw",
  "notifications",
  "task_status",
  "users",
  "lessons",
  "api_credentials",
  "admin_sessions",
  "xapi_failed_requests",
];

/** Empties every table, for a clean slate between tests. */
export async function truncateAll(database: Database): Promise<void> {
  await database.db.execute(sql.raw(`truncate ${TABLES.join(", ")} restart identity cascade`));
}
