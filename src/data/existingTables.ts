/** The tables the database this app uses holds, for the progress view's checks. */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

/** The names of the tables in the current schema. */
export async function existingTables(db: Db): Promise<Set<string>> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables where table_schema = current_schema()`,
  );
  return new Set(rows.map((row) => row.name));
}
