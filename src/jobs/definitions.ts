/**
 * Every background job, declared once: its retry policy, its schedule (for repeatable ones), and
 * a `perform()` that is idempotent and bounded. The runners (BullMQ with Redis, in-process
 * without) only dispatch by name, so a job that is not in this map cannot be queued (the
 * compiler checks the names and their data). The scheduled jobs are also the tasks one can run
 * now (`TASK_NAMES`): run-task, its help, the admin API and the scheduler role take them from here.
 */
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { flattenContext } from "../etl/flattenContext.ts";
import { SWEEP_TASK, sweepOnce } from "../etl/sweeper.ts";
import type { EmailClient } from "../mail/emailClient.ts";
import { hoursToPlan, lastPlannedHour, planReminders, staleNotifications } from "../reminders/plan.ts";
import { sendReminder } from "../reminders/sendReminder.ts";

export interface JobContext {
  db: Db;
  log: Logger;
  config: Readonly<Config>;
  email: EmailClient;
  signingSecret: string;
  /** Queues jobs on the runner this job runs in. */
  enqueue<N extends JobName>(name: N, data: JobData<N>, options?: { jobId?: string }): Promise<void>;
  enqueueBulk<N extends JobName>(name: N, jobs: { data: JobData<N>; jobId?: string }[]): Promise<void>;
}

/** What a job works with, before a runner adds its queueing functions. */
export type JobServices = Omit<JobContext, "enqueue" | "enqueueBulk">;

export interface Attempt {
  /** 1-based. */
  number: number;
  max: number;
  final: boolean;
}

/** Thrown by `perform()` to have the attempt retried after the job's backoff. */
export class RetryLater extends Error {}
/** Thrown by `perform()` when retrying cannot help; the job fails at once. */
export class GiveUp extends Error {}
/**
 * Thrown by `perform()` when the job must wait for something that ends at a known time (another
 * attempt's claim): the job runs again at `until`, and the wait does not use up an attempt.
 */
export class WaitUntil extends Error {
  constructor(
    readonly until: Date,
    message: string,
  ) {
    super(message);
    this.name = "WaitUntil";
  }
}

export type Schedule = { cron: string } | { everyMs: number };

interface JobDefinition<Data> {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First retry delay in ms; it doubles each retry. */
  backoffMs: number;
  schedule?: (config: Readonly<Config>) => Schedule;
  /**
   * The job writes its own task_status rows, so the runners' `runAttempt` writes none. Default
   * false. Only the sweep does: it is recorded the same way however it was started (sweeper.ts).
   */
  recordsOwnRuns?: boolean;
  perform(context: JobContext, data: Data, attempt: Attempt): Promise<Record<string, unknown>>;
}

/**
 * A scheduled job is also a task: `cohort-lrs run-task NAME` and `POST /api/tasks/NAME/run` run
 * it now. `summary` is its line in `cohort-lrs --help`.
 */
interface TaskDefinition<Data> extends JobDefinition<Data> {
  schedule: (config: Readonly<Config>) => Schedule;
  summary: string;
}

function define<Data>(definition: JobDefinition<Data>): JobDefinition<Data> {
  return definition;
}

function defineTask<Data>(definition: TaskDefinition<Data>): TaskDefinition<Data> {
  return definition;
}

export const DAILY_REMINDERS = "daily-reminders";
export { SWEEP_TASK };

/** One send job per notification: the job id makes queueing it twice a no-op. */
const sendJob = (notificationId: string) => ({
  data: { notificationId },
  jobId: `send-reminder-${notificationId}`,
});

export const JOBS = {
  /** The incremental sweep (plan a.05b), every INCREMENTAL_ETL_INTERVAL: the one sweep path. */
  [SWEEP_TASK]: defineTask<Record<string, never>>({
    attempts: 1,
    backoffMs: 0,
    schedule: (config) => ({ everyMs: config.incrementalEtlIntervalMs }),
    summary: "flatten every stored statement that has no flat row yet",
    recordsOwnRuns: true,
    async perform({ db, log, config }) {
      const { failures, ...result } = await sweepOnce(
        { db, log, context: flattenContext(config) },
        "schedule",
      );
      return { ...result, ...(failures.length ? { failures: failures.slice(0, 20) } : {}) };
    },
  }),

  /**
   * The hourly reminder tick (plan a.06: `schedule_daily_reminders`). A scheduled tick plans every
   * hour since the last one it planned (catching up after downtime of less than a day); `at`
   * plans that one instant only (run-task, admin action), without moving the catch-up mark.
   */
  [DAILY_REMINDERS]: defineTask<{ at?: string }>({
    attempts: 3,
    backoffMs: 30_000,
    schedule: () => ({ cron: "0 * * * *" }),
    summary: "plan (and send) the reminders due at --at (default: now)",
    async perform(context, data) {
      const { db, config } = context;
      const plan = { reminderHour: config.reminderHour, publicBaseUrl: config.publicBaseUrl };
      const hours = data.at
        ? [new Date(data.at)]
        : hoursToPlan(await lastPlannedHour(db, DAILY_REMINDERS), new Date());
      let planned = 0;
      let created = 0;
      let queued = 0;
      for (const hour of hours) {
        const tick = await planReminders(db, plan, hour);
        planned += tick.reminders.length;
        created += tick.created;
        await context.enqueueBulk("send-reminder", tick.pendingIds.map(sendJob));
        queued += tick.pendingIds.length;
      }
      // Sends whose job was lost (a crash between planning and queueing, or Redis losing its
      // data) are queued again.
      const stale = data.at ? [] : await staleNotifications(db, config.reminderSendLeaseMs);
      await context.enqueueBulk("send-reminder", stale.map(sendJob));
      const last = hours.at(-1)?.toISOString();
      return {
        hours: hours.length,
        learnersDue: planned,
        notificationsCreated: created,
        sendsQueued: queued,
        staleRequeued: stale.length,
        // The catch-up mark: only scheduled ticks set it.
        ...(data.at ? { atHour: last } : { hour: last }),
      };
    },
  }),

  /**
   * One reminder email (plan a.06: `send_daily_reminders`), retried with exponential backoff. A
   * job that finds another attempt's claim (a crashed process's, most likely) waits for it to end.
   */
  "send-reminder": define<{ notificationId: string }>({
    attempts: 5,
    backoffMs: 2_000,
    async perform(context, data, attempt) {
      const outcome = await sendReminder(
        {
          db: context.db,
          email: context.email,
          publicBaseUrl: context.config.publicBaseUrl,
          signingSecret: context.signingSecret,
          sendLeaseMs: context.config.reminderSendLeaseMs,
        },
        data.notificationId,
        attempt.final,
      );
      if (outcome.status === "in_flight") {
        throw new WaitUntil(
          new Date(outcome.leaseEndsAt),
          `another attempt is sending it; its claim ends at ${outcome.leaseEndsAt}`,
        );
      }
      if (outcome.status === "retry") throw new RetryLater(outcome.error);
      // Unconfirmed: perhaps delivered, so never retried; task_status shows it `failed` with why.
      if (outcome.status === "failed" || outcome.status === "unconfirmed") throw new GiveUp(outcome.error);
      return { notificationId: data.notificationId, ...outcome };
    },
  }),
};

export type JobName = keyof typeof JOBS;
export type JobData<N extends JobName> = Parameters<(typeof JOBS)[N]["perform"]>[1];
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

export function isJobName(name: string): name is JobName {
  return name in JOBS;
}

/** The scheduled jobs, which are also the tasks one can run now (run-task, the admin API). */
export type TaskName = {
  [N in JobName]: (typeof JOBS)[N] extends { summary: string } ? N : never;
}[JobName];
export const TASK_NAMES = JOB_NAMES.filter((name): name is TaskName => "summary" in JOBS[name]);

export function isTaskName(name: string): name is TaskName {
  return (TASK_NAMES as string[]).includes(name);
}
