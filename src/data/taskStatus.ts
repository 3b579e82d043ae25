/**
 * `task_status` bookkeeping (plan: `log_task_status`). One row per attempt of a run: written
 * `started` when the attempt begins, then moved to `succeeded`, `retrying` or `failed` with its
 * finish time, counts (`detail`) and error. The admin dashboard reads the newest rows.
 */
import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { taskStatus } from "../db/schema.ts";

export type TaskState = "started" | "succeeded" | "retrying" | "failed";

export interface TaskStatusOptions {
  /** Identifies the run across its attempts; default: a new UUID. */
  runId?: string;
  /** 1-based attempt number. Default 1. */
  attempt?: number;
  error?: string;
}

/**
 * Records `status` for an attempt of task `name` and returns its run id. The first call for a
 * (run, attempt) inserts the row; later calls update it, and a final state sets `finished_at`.
 */
export async function logTaskStatus(
  db: Db,
  name: string,
  status: TaskState,
  detail?: Record<string, unknown>,
  options: TaskStatusOptions = {},
): Promise<string> {
  const runId = options.runId ?? randomUUID();
  const attempt = options.attempt ?? 1;
  const finishedAt = status === "started" ? null : new Date();
  const values = { status, detail: detail ?? null, error: options.error ?? null, finishedAt };
  const updated = await db
    .update(taskStatus)
    .set(values)
    .where(and(eq(taskStatus.runId, runId), eq(taskStatus.attempt, attempt), eq(taskStatus.taskName, name)))
    .returning({ id: taskStatus.id });
  if (updated.length === 0) await db.insert(taskStatus).values({ taskName: name, runId, attempt, ...values });
  return runId;
}

export interface TaskRun {
  status: string;
  started_at: string;
  finished_at: string | null;
  detail: Record<string, unknown> | null;
  error: string | null;
}

/** The newest `limit` attempts of task `name`, newest first. */
export async function recentTaskRuns(db: Db, name: string, limit: number): Promise<TaskRun[]> {
  return queryRows<TaskRun>(
    db,
    sql`select status, started_at::text, finished_at::text, detail, error from task_status
        where task_name = ${name} order by id desc limit ${limit}`,
  );
}
