/**
 * Where the ETL stands (plan a.05: `get_last_processed`), for the admin pages and the debug API:
 * the newest flattened statement, how many flat rows there are, how many raw statements still
 * wait for theirs, and how many stream entries are delivered but not yet acknowledged.
 */

import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import { type Db, queryRows } from "../db/client.ts";
import { CONSUMER_GROUP, STATEMENT_STREAM } from "../names.ts";

export interface LastProcessed {
  /** `stored` of the newest flattened statement, or null when nothing is flattened. */
  lastFlattenedStored: Date | null;
  lastFlattenedStatementId: string | null;
  flatCount: number;
  /** Raw statements without a flat row. */
  unflattenedCount: number;
  /** Stream entries delivered to a consumer and not yet acknowledged; null without Redis. */
  streamPending: number | null;
  /** Stream length (entries kept, acknowledged or not); null without Redis. */
  streamLength: number | null;
}

/** How many raw statements have no flat row. */
export async function countUnflattened(db: Db): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from statements_raw r
        where not exists (select 1 from statements_flat f where f.statement_id = r.id)`,
  );
  return row?.n ?? 0;
}

export async function getLastProcessed(db: Db, redis?: Redis): Promise<LastProcessed> {
  const [[newest], [counts], unflattenedCount, stream] = await Promise.all([
    queryRows<{ statement_id: string; stored: Date | string }>(
      db,
      sql`select statement_id, stored from statements_flat order by stored desc, statement_id desc limit 1`,
    ),
    queryRows<{ n: number }>(db, sql`select count(*)::int as n from statements_flat`),
    countUnflattened(db),
    redis ? streamState(redis) : Promise.resolve({ pending: null, length: null }),
  ]);
  return {
    lastFlattenedStored: newest ? new Date(newest.stored) : null,
    lastFlattenedStatementId: newest?.statement_id ?? null,
    flatCount: counts?.n ?? 0,
    unflattenedCount,
    streamPending: stream.pending,
    streamLength: stream.length,
  };
}

async function streamState(redis: Redis): Promise<{ pending: number | null; length: number | null }> {
  try {
    const length = await redis.xlen(STATEMENT_STREAM);
    const summary = (await redis.xpending(STATEMENT_STREAM, CONSUMER_GROUP)) as [number, ...unknown[]];
    return { pending: Number(summary[0]), length };
  } catch {
    // No stream or no group yet (nothing published), or Redis away: report what is known.
    return { pending: null, length: null };
  }
}
