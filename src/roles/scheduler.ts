/**
 * Role `scheduler`: every scheduled job (the sweep every INCREMENTAL_ETL_INTERVAL, the reminder
 * tick hourly) and the queue's work (reminder sends). Replicas share the work through BullMQ.
 */
import { loadConfig } from "../config.ts";
import { createRunner } from "../jobs/createRunner.ts";
import { DAILY_REMINDERS, SWEEP_TASK, TASK_NAMES } from "../jobs/definitions.ts";
import { startRoleMetrics } from "../process/metricsServer.ts";
import { startRuntime } from "../process/runtime.ts";
import { stopOnSignal } from "../process/shutdown.ts";

export async function scheduler(): Promise<void> {
  const runtime = await startRuntime(loadConfig(), { migrate: false, secrets: false });
  const { config, email } = runtime;
  const runner = createRunner(runtime, { scheduled: TASK_NAMES });
  await runner.start();
  stopOnSignal(runtime, [() => runner.stop(), ...(await startRoleMetrics(runtime, true))]);
  process.stdout.write(
    `cohort-lrs: role scheduler on ${runner.description}: ${SWEEP_TASK} every ${config.incrementalEtlIntervalMs / 1000} s, ` +
      `${DAILY_REMINDERS} hourly (REMINDER_HOUR ${config.reminderHour}, mail: ${email.description})\n`,
  );
}
