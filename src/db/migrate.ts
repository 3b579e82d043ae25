/**
 * Applies the SQL migrations drizzle-kit generated into `drizzle/`.
 *
 * - Each migration runs in its own transaction, under a transaction-scoped advisory lock, and is
 *   recorded in `cohort_lrs_migrations`; several processes migrating at once apply each once.
 * - A database that has a migration this code does not know is newer than the code: it is
 *   refused, never "downgraded" or written to.
 * - A recorded migration whose SQL changed since it was applied is refused too: committed
 *   migrations are immutable, a change is a new migration.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "./client.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../drizzle/", import.meta.url));
const MIGRATIONS_TABLE = "cohort_lrs_migrations";
/** Arbitrary constant identifying cohort-lrs's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_420_117_001;

export interface Migration {
  idx: number;
  tag: string;
  hash: string;
  statements: string[];
}

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaError";
  }
}

/** The migrations shipped with this code, in order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = JSON.parse(readFileSync(`${dir}/meta/_journal.json`, "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  return journal.entries.map(({ idx, tag }) => {
    const text = readFileSync(`${dir}/${tag}.sql`, "utf8");
    return {
      idx,
      tag,
      hash: createHash("sha256").update(text).digest("hex"),
      statements: text
        .split("--> statement-breakpoint")
        .map((statement) => statement.trim())
        .filter(Boolean),
    };
  });
}

interface AppliedRow extends Record<string, unknown> {
  idx: number;
  tag: string;
  hash: string;
}

async function ensureTable(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.execute(
      sql.raw(`create table if not exists ${MIGRATIONS_TABLE} (
        idx integer primary key,
        tag text not null,
        hash text not null,
        applied_at timestamptz not null default now()
      )`),
    );
  });
}

async function appliedMigrations(db: Pick<Db, "execute">): Promise<AppliedRow[]> {
  return queryRows<AppliedRow>(db, sql.raw(`select idx, tag, hash from ${MIGRATIONS_TABLE} order by idx`));
}

export interface SchemaState {
  applied: string[];
  pending: string[];
}

/** Throws `SchemaError` when the database is newer than the code or a migration was edited. */
function check(known: Migration[], applied: AppliedRow[]): void {
  for (const row of applied) {
    const mine = known.find((migration) => migration.idx === row.idx);
    if (!mine || mine.tag !== row.tag) {
      const newest = known.at(-1)?.tag ?? "none";
      throw new SchemaError(
        `the database has migration ${row.tag}, which this version of cohort-lrs does not know ` +
          `(it knows up to ${newest}): the database is newer than the code; upgrade cohort-lrs`,
      );
    }
    if (mine.hash !== row.hash) {
      throw new SchemaError(
        `migration ${row.tag} was changed after it was applied to this database; ` +
          "restore the original file and add the change as a new migration",
      );
    }
  }
}

/** What is applied and what is pending, without changing anything. */
export async function schemaState(db: Db, known = loadMigrations()): Promise<SchemaState> {
  const [{ exists } = { exists: false }] = await queryRows<{ exists: boolean }>(
    db,
    sql`select to_regclass(${MIGRATIONS_TABLE}) is not null as exists`,
  );
  const applied = exists ? await appliedMigrations(db) : [];
  check(known, applied);
  const done = new Set(applied.map((row) => row.idx));
  return {
    applied: applied.map((row) => row.tag),
    pending: known.filter((migration) => !done.has(migration.idx)).map((migration) => migration.tag),
  };
}

/** Applies every pending migration; returns the tags it applied (empty when up to date). */
export async function migrate(db: Db, known = loadMigrations()): Promise<string[]> {
  await ensureTable(db);
  const appliedNow: string[] = [];
  for (const migration of known) {
    const didApply = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      const applied = await appliedMigrations(tx);
      check(known, applied);
      if (applied.some((row) => row.idx === migration.idx)) return false;
      for (const statement of migration.statements) await tx.execute(sql.raw(statement));
      await tx.execute(
        sql`insert into ${sql.raw(MIGRATIONS_TABLE)} (idx, tag, hash) values (${migration.idx}, ${migration.tag}, ${migration.hash})`,
      );
      return true;
    });
    if (didApply) appliedNow.push(migration.tag);
  }
  return appliedNow;
}
