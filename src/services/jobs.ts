/**
 * The job runner of a process, and running one task now (run-task, the admin action).
 */
import { randomUUID } from "node:crypto";
import { countUnflattened } from "../data/getLastProcessed.ts";
import { sweepOnce } from "../etl/sweeper.ts";
import { BullMqRunner } from "../jobs/bullmqRunner.ts";
import { DAILY_REMINDERS, type JobContext, type JobName, type JobServices } from "../jobs/definitions.ts";
import { InProcessRunner } from "../jobs/inProcessRunner.ts";
import { runAttempt } from "../jobs/runAttempt.ts";
import type { JobRunner } from "../jobs/runner.ts";
import { reminderPreview } from "../reminders/plan.ts";
import type { Runtime } from "../runtime.ts";
import { flattenContext } from "./etl.ts";

export interface RunnerOptions {
  scheduled: JobName[];
  /** Work the queue in this process. Default true. */
  work?: boolean;
  /** BullMQ key prefix (tests). */
  prefix?: string;
  backoffScale?: number;
}

export function jobContext(runtime: Runtime): JobServices {
  return {
    db: runtime.database.db,
    log: runtime.log.child({ component: "jobs" }),
    config: runtime.config,
    email: runtime.email,
    signingSecret: runtime.signingSecret,
  };
}

/** BullMQ when Redis is configured (schedules shared by every replica), in-process otherwise. */
export function createRunner(runtime: Runtime, options: RunnerOptions): JobRunner {
  const context = jobContext(runtime);
  return runtime.redis
    ? new BullMqRunner(context, runtime.redis, {
        scheduled: options.scheduled,
        work: options.work ?? true,
        ...(options.prefix ? { prefix: options.prefix } : {}),
        ...(options.backoffScale ? { backoffScale: options.backoffScale } : {}),
      })
    : new InProcessRunner(context, {
        scheduled: options.scheduled,
        ...(options.backoffScale ? { backoffScale: options.backoffScale } : {}),
      });
}

export const TASKS = ["incremental-etl", "daily-reminders"] as const;
export type TaskName = (typeof TASKS)[number];

export interface TaskRequest {
  /** daily-reminders: plan this instant (default now). */
  at?: Date;
  /** daily-reminders: show who would be reminded, change nothing. */
  dryRun?: boolean;
}

/** What running a task now did, as printed by run-task and returned by the admin action. */
export interface TaskReport {
  task: TaskName;
  lines: string[];
  detail: Record<string, unknown>;
  ok: boolean;
}

/**
 * Runs a task now with the process's runner. Reminder sends go through `runner`: queued on
 * BullMQ (a scheduler sends them), or sent in this process, in which case this waits for them.
 */
export async function runTaskNow(
  runtime: Runtime,
  runner: JobRunner,
  name: TaskName,
  request: TaskRequest = {},
  onProgress?: Parameters<typeof sweepOnce>[2],
): Promise<TaskReport> {
  const db = runtime.database.db;
  if (name === "incremental-etl") {
    const backlog = await countUnflattened(db);
    const result = await sweepOnce(
      { db, log: runtime.log, context: flattenContext(runtime.config) },
      "manual",
      onProgress,
    );
    return {
      task: name,
      ok: result.failed === 0,
      detail: { ...result },
      lines: [
        `incremental-etl: ${backlog.toLocaleString("en-US")} statement(s) to flatten`,
        `incremental-etl: flattened ${result.flattened} statement(s) in ${result.elapsedMs} ms` +
          `${result.failed ? `; ${result.failed} could not be flattened (see task_status)` : ""}` +
          `${result.voidsReconciled ? `; ${result.voidsReconciled} void(s) reconciled` : ""}`,
        ...result.failures.slice(0, 10).map((failure) => `  ${failure.statementId}: ${failure.error}`),
      ],
    };
  }

  const at = request.at ?? new Date();
  const plan = { reminderHour: runtime.config.reminderHour, publicBaseUrl: runtime.config.publicBaseUrl };
  if (request.dryRun) {
    const preview = await reminderPreview(db, plan, at);
    return {
      task: name,
      ok: true,
      detail: preview as unknown as Record<string, unknown>,
      lines: [
        `daily-reminders at ${preview.at} (dry run: nothing sent): REMINDER_HOUR ${preview.reminderHour} in ${preview.zones.length} time zone(s)` +
          `${preview.zones.length ? ` (${preview.zones.map((z) => `${z.timezone} ${z.localDate} ${z.localTime}`).join(", ")})` : ""}`,
        `${preview.reminders.length} reminder(s) would be sent:`,
        ...preview.reminders.map(
          (r) => `  ${r.email} (${r.timezone}): ${r.lessonTitle} [${r.cohortId}, due ${r.lessonDate}]`,
        ),
      ],
    };
  }

  const context: JobContext = {
    ...jobContext(runtime),
    enqueue: (n, d, o) => runner.enqueue(n, d, o),
    enqueueBulk: (n, jobs) => runner.enqueueBulk(n, jobs),
  };
  const runId = randomUUID();
  const result = await runAttempt(
    context,
    DAILY_REMINDERS,
    { at: at.toISOString() },
    { number: 1, max: 1, final: true },
    runId,
  );
  if (result.outcome !== "succeeded") {
    return {
      task: name,
      ok: false,
      detail: { error: result.error },
      lines: [`daily-reminders failed: ${result.error}`],
    };
  }
  const detail = result.detail;
  const lines = [
    `daily-reminders at ${at.toISOString()}: ${detail.learnersDue} reminder(s) due, ${detail.notificationsCreated} new notification(s)`,
  ];
  if (runner instanceof InProcessRunner) {
    const before = runner.outcomes("send-reminder");
    await runner.drain();
    const after = runner.outcomes("send-reminder");
    const counts = Object.entries(after)
      .map(([outcome, n]) => [outcome, n - (before[outcome] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .map(([outcome, n]) => `${n} ${outcome}`);
    lines.push(`through ${runtime.email.description}: ${counts.join(", ") || "nothing to send"}`);
  } else {
    lines.push(`queued ${detail.sendsQueued} send(s) on ${runner.description}; a scheduler sends them`);
  }
  return { task: name, ok: true, detail, lines };
}
