import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/db.ts";
import { signUp } from "../commands/signUp.ts";
import { AvatarTaken, EmailTaken } from "../errors.ts";
import { type Database, openMemoryPglite, openPostgres, queryRows } from "./client.ts";
import { loadMigrations, migrate, SchemaError, schemaState } from "./migrate.ts";

const ALL = loadMigrations().map((migration) => migration.tag);

const TABLES = [
  "admin_sessions",
  "api_credentials",
  "lessons",
  "notifications",
  "settings",
  "statement_index",
  "statements_flat",
  "statements_raw",
  "task_status",
  "users",
  "xapi_attachments",
  "xapi_documents",
  "xapi_failed_requests",
];

async function tables(database: Database): Promise<string[]> {
  const rows = await queryRows<{ table_name: string }>(
    database.db,
    sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  return rows.map((row) => row.table_name);
}

/** Columns, constraints and indexes: what a second migrate must leave exactly as it was. */
async function shape(database: Database): Promise<unknown[]> {
  return queryRows(
    database.db,
    sql`
    select 'column' as kind, table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable as what
      from information_schema.columns where table_schema = 'public'
    union all select 'index', indexname || ' ' || indexdef from pg_indexes where schemaname = 'public'
    union all select 'constraint', conname from pg_constraint where connamespace = 'public'::regnamespace
    order by 1, 2`,
  );
}

let fresh: TestDatabase | undefined;
afterEach(async () => {
  await fresh?.drop();
  fresh = undefined;
});

describe("migrate on PostgreSQL", () => {
  it("creates every table of the data model, with its constraints and indexes", async () => {
    fresh = await createTestDatabase({ migrated: false });
    expect(await schemaState(fresh.db)).toEqual({ applied: [], pending: ALL });
    expect(await migrate(fresh.db)).toEqual(ALL);
    expect(await tables(fresh)).toEqual([...TABLES, "cohort_lrs_migrations"].sort());
    const names = JSON.stringify(await shape(fresh));
    for (const name of [
      "users_email_lower_key",
      "users_avatar_key",
      "users_avatar_format",
      "lessons_cohort_id_activity_id_key",
      "notifications_user_id_lesson_id_channel_key",
      "statements_flat_completion_cover_idx",
      "statements_flat_statement_id_statements_raw_id_fk",
      "statement_index_pkey",
      "xapi_documents_kind_check",
      "xapi_documents_scope_idx",
      "users_search_idx",
      "gin_trgm_ops",
      "users_name_id_idx",
      "users_cohort_id_name_id_idx",
      "xapi_failed_requests_credential_status_check",
      "xapi_failed_requests_at_idx",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("is a no-op the second time", async () => {
    fresh = await createTestDatabase({ migrated: false });
    await migrate(fresh.db);
    const before = await shape(fresh);
    expect(await migrate(fresh.db)).toEqual([]);
    expect(await shape(fresh)).toEqual(before);
    expect(await schemaState(fresh.db)).toEqual({ applied: ALL, pending: [] });
  });

  it("applies each migration once when several processes migrate at the same time", async () => {
    fresh = await createTestDatabase({ migrated: false });
    const pools = [openPostgres(fresh.url), openPostgres(fresh.url), openPostgres(fresh.url)];
    const results = await Promise.all(pools.map((pool) => migrate(pool.db)));
    await Promise.all(pools.map((pool) => pool.close()));
    expect(results.flat().sort()).toEqual(ALL);
  });

  it("refuses a database that is newer than the code, and changes nothing", async () => {
    fresh = await createTestDatabase({ migrated: false });
    await migrate(fresh.db);
    await fresh.db.execute(
      sql`insert into cohort_lrs_migrations (idx, tag, hash) values (999, '0999_from_the_future', 'x')`,
    );
    const before = await shape(fresh);
    await expect(migrate(fresh.db)).rejects.toThrow(SchemaError);
    await expect(migrate(fresh.db)).rejects.toThrow(/0999_from_the_future.*newer than the code/);
    await expect(schemaState(fresh.db)).rejects.toThrow(/upgrade cohort-lrs/);
    expect(await shape(fresh)).toEqual(before);
  });

  it("refuses a migration whose file changed after it was applied", async () => {
    fresh = await createTestDatabase({ migrated: false });
    await migrate(fresh.db);
    const edited = loadMigrations().map((migration) => ({ ...migration, hash: "edited" }));
    await expect(migrate(fresh.db, edited)).rejects.toThrow(/0000_init was changed after it was applied/);
  });
});

describe("migrate on the embedded PGlite", () => {
  it("creates the same tables, and the same constraints hold", async () => {
    const embedded = await openMemoryPglite();
    try {
      expect(await migrate(embedded.db)).toEqual(ALL);
      expect(await migrate(embedded.db)).toEqual([]);
      expect(await tables(embedded)).toEqual([...TABLES, "cohort_lrs_migrations"].sort());
      const ada = { name: "Ada", email: "ada@example.com", avatar: "ada", cohortId: "c1" };
      await signUp(embedded.db, ada);
      await expect(signUp(embedded.db, { ...ada, email: "other@example.com" })).rejects.toThrow(AvatarTaken);
      await expect(signUp(embedded.db, { ...ada, avatar: "ada2", email: "ADA@example.com" })).rejects.toThrow(
        EmailTaken,
      );
    } finally {
      await embedded.close();
    }
  });
});
