/**
 * Jobs on BullMQ (Redis): one queue, `cohort-lrs-jobs`, for every job of the map. Repeatable jobs
 * are BullMQ job schedulers, upserted by every scheduler replica under the same id, so however
 * many replicas run, each tick is queued once and taken by one worker. Retries and exponential
 * backoff are BullMQ's; a job that gives up throws UnrecoverableError so it is not retried.
 */
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { JOB_QUEUE } from "../names.ts";
import { JOBS, type JobContext, type JobData, type JobName, type JobServices } from "./definitions.ts";
import { runAttempt } from "./runAttempt.ts";
import type { JobRunner } from "./runner.ts";

export { JOB_QUEUE };

/**
 * A job id means "not twice while one is queued or running" (the JobRunner contract). That is
 * BullMQ's deduplication id, not its job id: a job id also blocks adding the job again for as long
 * as the finished job is kept, so a send that must be queued again (a lost job) would be dropped.
 */
function once(jobId: string | undefined): { deduplication?: { id: string } } {
  return jobId ? { deduplication: { id: jobId } } : {};
}

export interface BullMqOptions {
  /** Jobs whose schedules this runner upserts. */
  scheduled: JobName[];
  /** Whether this process also works the queue (scheduler role: yes; run-task: no). */
  work: boolean;
  concurrency?: number;
  /** Redis key prefix of the queue (tests isolate runs with it). Default "bull". */
  prefix?: string;
  backoffScale?: number;
}

export class BullMqRunner implements JobRunner {
  readonly description = "BullMQ on Redis";
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connections: Redis[] = [];

  constructor(
    private readonly context: JobServices,
    redis: Redis,
    private readonly options: BullMqOptions,
  ) {
    const connection = this.connection(redis);
    this.queue = new Queue(JOB_QUEUE, { connection, prefix: options.prefix ?? "bull" });
    this.queue.on("error", (error) => context.log.warn({ err: error }, "job queue error"));
    this.baseRedis = redis;
  }

  private readonly baseRedis: Redis;

  /** BullMQ wants connections that retry forever (maxRetriesPerRequest: null). */
  private connection(redis: Redis): Redis {
    const connection = redis.duplicate({ maxRetriesPerRequest: null, enableAutoPipelining: false });
    connection.on("error", () => {}); // reported through the queue's and worker's error events
    this.connections.push(connection);
    return connection;
  }

  private jobOptions(name: JobName) {
    const definition = JOBS[name];
    return {
      attempts: definition.attempts,
      backoff: {
        type: "exponential" as const,
        delay: definition.backoffMs * (this.options.backoffScale ?? 1),
      },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    };
  }

  async enqueue<N extends JobName>(
    name: N,
    data: JobData<N>,
    options: { jobId?: string } = {},
  ): Promise<void> {
    await this.queue.add(name, data, { ...this.jobOptions(name), ...once(options.jobId) });
  }

  async enqueueBulk<N extends JobName>(name: N, jobs: { data: JobData<N>; jobId?: string }[]): Promise<void> {
    const options = this.jobOptions(name);
    const chunks: (typeof jobs)[] = [];
    for (let i = 0; i < jobs.length; i += 1_000) chunks.push(jobs.slice(i, i + 1_000));
    // A few chunks in flight at once: Redis works on one while the next is on the wire.
    for (let i = 0; i < chunks.length; i += 4) {
      await Promise.all(
        chunks.slice(i, i + 4).map((chunk) =>
          this.queue.addBulk(
            chunk.map((job) => ({
              name,
              data: job.data,
              opts: { ...options, ...once(job.jobId) },
            })),
          ),
        ),
      );
    }
  }

  async start(): Promise<void> {
    for (const name of this.options.scheduled) {
      const schedule = JOBS[name].schedule?.(this.context.config);
      if (!schedule) continue;
      await this.queue.upsertJobScheduler(
        name,
        "cron" in schedule ? { pattern: schedule.cron } : { every: schedule.everyMs },
        { name, data: {}, opts: this.jobOptions(name) },
      );
    }
    if (!this.options.work) return;
    const context: JobContext = {
      ...this.context,
      enqueue: (n, d, o) => this.enqueue(n, d, o),
      enqueueBulk: (n, jobs) => this.enqueueBulk(n, jobs),
    };
    this.worker = new Worker(
      JOB_QUEUE,
      async (job: Job, token?: string) => {
        const name = job.name as JobName;
        if (!(name in JOBS)) throw new UnrecoverableError(`unknown job ${job.name}`);
        const max = job.opts.attempts ?? 1;
        const number = job.attemptsMade + 1;
        const result = await runAttempt(
          context,
          name,
          job.data,
          { number, max, final: number >= max },
          String(job.id),
        );
        if (result.outcome === "wait") {
          // Back to the delayed set without using up an attempt (BullMQ's manual delay).
          await job.moveToDelayed(Math.max(result.until.getTime(), Date.now() + 1_000), token);
          throw new DelayedError();
        }
        if (result.outcome === "retry") throw new Error(result.error);
        if (result.outcome === "failed") throw new UnrecoverableError(result.error);
        return result.detail;
      },
      {
        connection: this.connection(this.baseRedis),
        prefix: this.options.prefix ?? "bull",
        concurrency: this.options.concurrency ?? 5,
      },
    );
    this.worker.on("error", (error) => this.context.log.warn({ err: error }, "job worker error"));
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }
}
