/**
 * Opens the database: PostgreSQL over `pg` when `DATABASE_URL` is set, the embedded PGlite
 * otherwise. Both give the same Drizzle API (`Db`), so every query above this file is the same
 * code in both modes.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { type SQL, sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import type { Config } from "../config.ts";
import { maskUrl } from "../maskUrl.ts";
import { acquireDirLock } from "./dirLock.ts";
import { installParameterFreeQueryErrors } from "./errors.ts";
import * as schema from "./schema.ts";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

// Query errors never carry their parameters (keys, hashes, emails) into logs or pages: db/errors.ts.
installParameterFreeQueryErrors();

/**
 * Runs a raw SQL query and returns its rows. Both drivers answer `execute` with `{ rows }`;
 * the shared `Db` type cannot say so, hence this one typed door.
 */
export async function queryRows<T>(db: Pick<Db, "execute">, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  /** Where the data lives, safe to print (no password). */
  location: string;
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Pool size for PostgreSQL. Default 10. */
  poolSize?: number;
  /** Called when an idle pooled connection fails (the pool replaces it). */
  onPoolError?: (error: Error) => void;
}

let processDatabase: Database | undefined;

/** Opens the database the configuration names; the first one opened is what `getDb()` returns. */
export async function openDatabase(
  config: Pick<Config, "databaseUrl" | "dataDir">,
  options: OpenOptions = {},
): Promise<Database> {
  const database = config.databaseUrl
    ? openPostgres(config.databaseUrl, options)
    : await openPglite(path.join(config.dataDir, "pgdata"));
  processDatabase ??= database;
  const close = database.close;
  database.close = async () => {
    if (processDatabase === database) processDatabase = undefined;
    await close();
  };
  return database;
}

/**
 * The process's database (plan a.01: `get_db()`), as opened by the role that runs. Code that is
 * handed a `Db` should use that; this is for the few places that cannot be (scripts, a REPL).
 */
export function getDb(): Db {
  if (!processDatabase)
    throw new Error("no database is open in this process: start a role (or openDatabase) first");
  return processDatabase.db;
}

/** `postgres://user:***@host:port/db`: the URL with its password masked (see maskUrl.ts). */
export function redactUrl(raw: string): string {
  return maskUrl(raw);
}

export function openPostgres(connectionString: string, options: OpenOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    // Fail fast when PostgreSQL is down instead of queueing requests behind a dead server.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: "cohort-lrs",
  });
  pool.on("error", (error) => options.onPoolError?.(error));
  // The pool listens for errors only on idle clients. A client checked out (held by a
  // transaction between two of its queries) whose connection the server ends, as a restart of
  // PostgreSQL does, would emit an 'error' nobody hears and crash the process. Heard here, the
  // error reaches its holder as the failure of its next query, and the pool drops the client.
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    location: redactUrl(connectionString),
    ping: async (timeoutMs = 2_000) =>
      void (await withTimeout(db.execute(sql`select 1`), timeoutMs, "database")),
    close: () => pool.end(),
  };
}

/**
 * The PostgreSQL extensions the migrations create, which PGlite must load when it starts (a
 * server has them installed): pg_trgm, for the learners page's search (migration 0013).
 */
const PGLITE_EXTENSIONS = { pg_trgm };

/**
 * PGlite keeps the whole database in one process: a second process opening the same directory
 * would corrupt it, so the directory is locked for as long as it is open.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDirLock(dataDir, "the embedded database");
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir, { extensions: PGLITE_EXTENSIONS });
  } catch (error) {
    lock.release();
    throw error;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    location: dataDir,
    ping: async (timeoutMs = 2_000) =>
      void (await withTimeout(db.execute(sql`select 1`), timeoutMs, "database")),
    close: async () => {
      try {
        await client.close();
      } finally {
        lock.release();
      }
    },
  };
}

/** An in-memory PGlite, for tests of the embedded path. */
export async function openMemoryPglite(): Promise<Database> {
  const client = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    location: "memory://",
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.close(),
  };
}

export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The driver error behind a Drizzle error (Drizzle wraps driver errors in `DrizzleQueryError`). */
export function driverError(
  error: unknown,
): { code?: string; constraint?: string; message?: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const candidate = current as Error & { code?: unknown };
    if (typeof candidate.code === "string") return candidate as { code?: string; constraint?: string };
    current = candidate.cause;
  }
  return undefined;
}

/** True for errors meaning "the database is not reachable", as opposed to a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = driverError(error)?.code;
  if (
    code &&
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EPIPE", "57P01", "57P02", "57P03"].includes(
      code,
    )
  ) {
    return true;
  }
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (
      /timeout exceeded when trying to connect|Connection terminated|database did not answer|encountered a connection error and is not queryable/i.test(
        current.message,
      )
    ) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
