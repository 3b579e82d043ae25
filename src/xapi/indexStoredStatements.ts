/**
 * Statements stored before `statement_index` existed (migration 0008) have no query keys. This
 * writes them once, after migrating: every statement in insertion order, in batches, with the same
 * `writeStatementIndex` the insert path uses (rows already there are kept), then records that it
 * is done in `settings`, so later starts skip it. Safe to run from several processes at once, and
 * to resume after a crash (it starts over; writing a key twice is a no-op).
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import type { StoredStatement } from "./validateStatement.ts";
import { writeStatementIndex } from "./writeStatementIndex.ts";

const DONE_KEY = "statement_index_backfilled";

/** Indexes stored statements if that has not been done; resolves with how many it read. */
export async function indexStoredStatements(db: Db, batchSize = 2_000): Promise<number> {
  const [done] = await queryRows<{ value: string }>(
    db,
    sql`select value from settings where key = ${DONE_KEY}`,
  );
  if (done) return 0;
  let after = 0;
  let read = 0;
  for (;;) {
    const rows = await queryRows<{ seq: number | string; payload: StoredStatement }>(
      db,
      sql`select seq, payload from statements_raw where seq > ${after} order by seq limit ${batchSize}`,
    );
    if (rows.length === 0) break;
    await db.transaction((tx) =>
      writeStatementIndex(
        tx,
        rows.map((row) => row.payload),
        { fresh: false },
      ),
    );
    after = Number(rows.at(-1)!.seq);
    read += rows.length;
  }
  await db.execute(
    sql`insert into settings (key, value) values (${DONE_KEY}, ${new Date().toISOString()}) on conflict do nothing`,
  );
  return read;
}
