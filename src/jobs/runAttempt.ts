/**
 * One attempt of a job, recorded in task_status from start to end (plan a.06: `log_task_status`):
 * `started`, then `succeeded` with what it did, `retrying` with the error when another attempt
 * follows, or `failed` (except for a job that `recordsOwnRuns`: the sweep). Both runners call
 * this and act on its result; it does not throw.
 */

import { logTaskStatus } from "../data/taskStatus.ts";
import { metrics } from "../metrics.ts";
import {
  type Attempt,
  GiveUp,
  JOBS,
  type JobContext,
  type JobData,
  type JobName,
  RetryLater,
  WaitUntil,
} from "./definitions.ts";

export type AttemptResult =
  | { outcome: "succeeded"; detail: Record<string, unknown> }
  | { outcome: "retry"; error: string }
  /** Run again at `until`; the attempt does not count (WaitUntil). */
  | { outcome: "wait"; until: Date; error: string }
  | { outcome: "failed"; error: string };

export async function runAttempt<N extends JobName>(
  context: JobContext,
  name: N,
  data: JobData<N>,
  attempt: Attempt,
  runId: string,
): Promise<AttemptResult> {
  const started = Date.now();
  const recorded = !JOBS[name].recordsOwnRuns;
  const log = async (
    status: "started" | "succeeded" | "retrying" | "failed",
    detail: Record<string, unknown>,
    error?: string,
  ) =>
    recorded &&
    logTaskStatus(context.db, name, status, detail, {
      runId,
      attempt: attempt.number,
      ...(error ? { error } : {}),
    }).catch((logError: unknown) =>
      context.log.warn({ err: logError, job: name }, "could not record task status"),
    );
  await log("started", { data });
  try {
    const perform = JOBS[name].perform as (
      c: JobContext,
      d: JobData<N>,
      a: Attempt,
    ) => Promise<Record<string, unknown>>;
    const detail = { data, ...(await perform(context, data, attempt)), ms: Date.now() - started };
    await log("succeeded", detail);
    metrics.jobs.inc({ job: name, outcome: "succeeded" });
    return { outcome: "succeeded", detail };
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (error instanceof WaitUntil) {
      await log(
        "retrying",
        { data, ms: Date.now() - started, waitUntil: error.until.toISOString() },
        message,
      );
      metrics.jobs.inc({ job: name, outcome: "waiting" });
      return { outcome: "wait", until: error.until, error: message };
    }
    // Unexpected errors (a database outage, say) are retried like RetryLater; GiveUp is final.
    const retry = !(error instanceof GiveUp) && !attempt.final;
    await log(retry ? "retrying" : "failed", { data, ms: Date.now() - started }, message);
    metrics.jobs.inc({ job: name, outcome: retry ? "retrying" : "failed" });
    if (!(error instanceof RetryLater) && !(error instanceof GiveUp)) {
      context.log.warn({ err: error, job: name, attempt: attempt.number }, "job attempt failed");
    }
    return retry ? { outcome: "retry", error: message } : { outcome: "failed", error: message };
  }
}
