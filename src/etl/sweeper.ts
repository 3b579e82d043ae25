/**
 * The sweep, and the one path every sweep takes (`sweepOnce`: a task_status record, the metrics,
 * `runIncrementalEtl`), whoever starts it: the `incremental-etl` job of the scheduler, the
 * in-process `Sweeper` of role `all`, `run-task incremental-etl` and the admin API's
 * `POST /api/tasks/incremental-etl/run`, and the admin page's "Run a sweep now".
 *
 * The `Sweeper` runs it inside a process (role `all`): on an interval (`INCREMENTAL_ETL_INTERVAL`),
 * and soon after ingestion when nudged (embedded and incremental mode: statements are flattened
 * within moments of being stored). Runs never overlap; nudges during a run coalesce into one
 * more run.
 */
import type { Logger } from "pino";
import { logTaskStatus } from "../data/taskStatus.ts";
import type { Db } from "../db/client.ts";
import { metrics } from "../metrics.ts";
import type { Runtime } from "../process/runtime.ts";
import { flattenContext } from "./flattenContext.ts";
import type { FlattenContext } from "./flattenStatement.ts";
import { runIncrementalEtl, type SweepOptions, type SweepResult } from "./runIncrementalEtl.ts";

/** The sweep's name: its job, its task (run-task, the admin API) and its task_status rows. */
export const SWEEP_TASK = "incremental-etl";

/** One recorded sweep: a task_status row from start to finish; `trigger` says who started it. */
export async function sweepOnce(
  deps: { db: Db; log: Logger; context: FlattenContext },
  trigger: string,
  onProgress?: SweepOptions["onProgress"],
): Promise<SweepResult> {
  const runId = await logTaskStatus(deps.db, SWEEP_TASK, "started", { trigger });
  try {
    const result = await runIncrementalEtl(deps.db, deps.context, {
      log: deps.log,
      ...(onProgress ? { onProgress } : {}),
    });
    const { failures, ...counts } = result;
    metrics.rowsFlattened.inc({ path: "sweep" }, result.flattened);
    metrics.sweepRuns.inc({ outcome: failures.length ? "failed" : "succeeded" });
    await logTaskStatus(
      deps.db,
      SWEEP_TASK,
      failures.length ? "failed" : "succeeded",
      {
        trigger,
        ...counts,
        ...(failures.length ? { failures: failures.slice(0, 20) } : {}),
      },
      {
        runId,
        ...(failures.length ? { error: `${failures.length} statement(s) could not be flattened` } : {}),
      },
    );
    return result;
  } catch (error) {
    metrics.sweepRuns.inc({ outcome: "failed" });
    await logTaskStatus(
      deps.db,
      SWEEP_TASK,
      "failed",
      { trigger },
      { runId, error: (error as Error).message },
    ).catch(() => {});
    throw error;
  }
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private nudgeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: { db: Db; log: Logger; context: FlattenContext },
    private readonly intervalMs: number,
    /** How long a nudge waits, gathering more statements into one sweep. Default 100 ms. */
    private readonly nudgeDelayMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.trigger("interval"), this.intervalMs);
    this.timer.unref();
    this.trigger("start");
  }

  /** Asks for a sweep soon (after ingestion). */
  nudge(): void {
    if (this.stopped || this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      this.trigger("ingest");
    }, this.nudgeDelayMs);
    this.nudgeTimer.unref();
  }

  /** Stops scheduling and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.nudgeTimer);
    await this.running;
  }

  private trigger(reason: string): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        const result = await sweepOnce(this.deps, reason);
        if (result.flattened) this.deps.log.debug({ flattened: result.flattened, reason }, "sweep done");
      } catch (error) {
        this.deps.log.warn({ err: error }, "sweep failed; the next one will retry");
      } finally {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.trigger("coalesced");
        }
      }
    })();
  }
}

/** Role `all`'s in-process sweeper, started: the first sweep now, then every INCREMENTAL_ETL_INTERVAL. */
export function startSweeper(runtime: Runtime): Sweeper {
  const sweeper = new Sweeper(
    {
      db: runtime.database.db,
      log: runtime.log.child({ task: SWEEP_TASK }),
      context: flattenContext(runtime.config),
    },
    runtime.config.incrementalEtlIntervalMs,
  );
  sweeper.start();
  return sweeper;
}
