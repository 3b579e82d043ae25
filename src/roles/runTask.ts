/**
 * `cohort-lrs run-task NAME`: runs one task now and prints what it did. Against a running
 * embedded server (which holds the database) the server runs it.
 */
import { loadConfig } from "../config.ts";
import { isSaneInstant, SANE_DATES } from "../http/validation.ts";
import { createRunner } from "../jobs/createRunner.ts";
import { DAILY_REMINDERS, isTaskName, TASK_NAMES } from "../jobs/definitions.ts";
import { runTaskNow, type TaskReport } from "../jobs/runTaskNow.ts";
import { sweepProgress } from "../process/progressBar.ts";
import { commandRuntime } from "../process/runtime.ts";
import { runTaskOnServer } from "../process/serverFile.ts";
import { UsageError } from "../process/usageError.ts";

export interface RunTaskOptions {
  /** daily-reminders: the instant to plan, ISO 8601 (default now). */
  at?: string;
  /** daily-reminders: list who would be reminded; change and send nothing. */
  dryRun?: boolean;
}

export async function runTask(name: string | undefined, options: RunTaskOptions): Promise<void> {
  if (!name || !isTaskName(name)) {
    throw new UsageError(`run-task needs a task name: one of ${TASK_NAMES.join(", ")}`);
  }
  const at = options.at === undefined ? undefined : new Date(options.at);
  if (at && (Number.isNaN(at.getTime()) || !isSaneInstant(at)))
    throw new UsageError(
      `--at must be an ISO 8601 instant from ${SANE_DATES.from} to ${SANE_DATES.to} such as 2026-03-02T18:00:00Z, got "${options.at}"`,
    );
  if ((at || options.dryRun) && name !== DAILY_REMINDERS)
    throw new UsageError(`--at and --dry-run apply to ${DAILY_REMINDERS} only`);
  const request = { ...(at ? { at } : {}), ...(options.dryRun ? { dryRun: true } : {}) };
  const config = loadConfig();
  const runtime = await commandRuntime(config);
  if (!runtime) {
    // The embedded database is held by a running server: ask it to run the task.
    print(await runTaskOnServer(config, name, request));
    return;
  }
  // Sends go to the scheduler's queue when there is Redis; otherwise this process sends them.
  const runner = createRunner(runtime, { scheduled: [], work: !runtime.redis });
  await runner.start();
  try {
    const progress = sweepProgress(process.stdout, () => 0);
    const report = await runTaskNow(runtime, runner, name, request, progress.onProgress);
    progress.finish();
    print(report);
  } finally {
    await runner.stop();
    await runtime.close();
  }
}

function print(report: TaskReport): void {
  for (const line of report.lines) process.stdout.write(`${line}\n`);
  if (!report.ok) process.exitCode = 1;
}
