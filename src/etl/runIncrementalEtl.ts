/**
 * The incremental sweep (plan a.05b: `run_incremental_etl`): flattens every raw statement that
 * has no flat row yet. It is the whole ETL in `incremental` mode and the safety net behind the
 * stream in `streaming` mode.
 *
 * - Bounded batches, walked in `seq` order with a cursor, so a row that cannot be flattened is
 *   counted and passed over instead of stopping the sweep.
 * - Idempotent and safe to run concurrently: rows are written with ON CONFLICT DO NOTHING.
 * - Ends by reconciling voids that raced with flattening.
 */
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { countUnflattened } from "../data/getLastProcessed.ts";
import { type Db, queryRows } from "../db/client.ts";
import type { StoredStatement } from "../xapi/validateStatement.ts";
import { type FlatRow, type FlattenContext, flattenStatement } from "./flattenStatement.ts";
import { reconcileVoided, writeFlatRows } from "./writeFlatRows.ts";

export interface SweepProgress {
  /** Rows flattened and written so far. */
  flattened: number;
  /** Rows that could not be flattened (left raw, reported in `failures`). */
  failed: number;
  /** Raw rows still without a flat row when the sweep started. */
  backlog: number;
  elapsedMs: number;
}

export interface SweepResult extends SweepProgress {
  voidsReconciled: number;
  failures: { statementId: string; error: string }[];
}

export interface SweepOptions {
  /** Rows per batch (one transaction each). Default 2,000. */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (progress: SweepProgress) => void;
  log?: Logger;
}

export async function runIncrementalEtl(
  db: Db,
  context: FlattenContext,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const batchSize = options.batchSize ?? 2_000;
  const started = Date.now();
  const backlog = await countUnflattened(db);
  const failures: SweepResult["failures"] = [];
  let flattened = 0;
  let cursor = 0;
  for (;;) {
    const batch = await queryRows<{ id: string; seq: number; payload: StoredStatement }>(
      db,
      sql`select r.id, r.seq, r.payload from statements_raw r
          where r.seq > ${cursor}
            and not exists (select 1 from statements_flat f where f.statement_id = r.id)
          order by r.seq
          limit ${batchSize}`,
    );
    if (batch.length === 0) break;
    cursor = Number(batch.at(-1)!.seq);
    const rows: FlatRow[] = [];
    for (const raw of batch) {
      try {
        rows.push(flattenStatement(raw.payload, context));
      } catch (error) {
        failures.push({ statementId: raw.id, error: (error as Error).message });
      }
    }
    flattened += await db.transaction((tx) => writeFlatRows(tx, rows, context.publicBaseUrl));
    options.onProgress?.({ flattened, failed: failures.length, backlog, elapsedMs: Date.now() - started });
    if (batch.length < batchSize) break;
  }
  const voidsReconciled = await reconcileVoided(db);
  if (failures.length)
    options.log?.warn({ failures: failures.slice(0, 20) }, "sweep could not flatten some statements");
  return {
    flattened,
    failed: failures.length,
    backlog,
    elapsedMs: Date.now() - started,
    voidsReconciled,
    failures,
  };
}
