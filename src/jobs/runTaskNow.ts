/**
 * Running one task now: `cohort-lrs run-task NAME` and `POST /api/tasks/NAME/run` (the admin
 * action). The sweep takes its one path (`sweepOnce`); the reminder tick runs as its job does.
 */
import { randomUUID } from "node:crypto";
import { countUnflattened } from "../data/getLastProcessed.ts";
import { flattenContext } from "../etl/flattenContext.ts";
import { sweepOnce } from "../etl/sweeper.ts";
import type { Runtime } from "../process/runtime.ts";
import { reminderPreview } from "../reminders/plan.ts";
import { jobContext } from "./createRunner.ts";
import { DAILY_REMINDERS, type JobContext, SWEEP_TASK, type TaskName } from "./definitions.ts";
import { InProcessRunner } from "./inProcessRunner.ts";
import { runAttempt } from "./runAttempt.ts";
import type { JobRunner } from "./runner.ts";

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
  if (name === SWEEP_TASK) {
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
        `${name}: ${backlog.toLocaleString("en-US")} statement(s) to flatten`,
        `${name}: flattened ${result.flattened} statement(s) in ${result.elapsedMs} ms` +
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
        `${name} at ${preview.at} (dry run: nothing sent): REMINDER_HOUR ${preview.reminderHour} in ${preview.zones.length} time zone(s)` +
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
      lines: [`${name} failed: ${result.error}`],
    };
  }
  const detail = result.detail;
  const lines = [
    `${name} at ${at.toISOString()}: ${detail.learnersDue} reminder(s) due, ${detail.notificationsCreated} new notification(s)`,
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
