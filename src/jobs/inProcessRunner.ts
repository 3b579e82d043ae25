/**
 * The in-process scheduler and queue (embedded mode, or no Redis): croner for cron schedules,
 * timers for intervals, and retries with exponential backoff, all in this process. The same job
 * definitions and task_status records as with BullMQ; what it does not give is sharing the work
 * between processes, which needs Redis.
 */
import { randomUUID } from "node:crypto";
import { Cron } from "croner";
import { JOBS, type JobContext, type JobData, type JobName, type JobServices } from "./definitions.ts";
import { runAttempt } from "./runAttempt.ts";
import type { JobRunner } from "./runner.ts";

export interface InProcessOptions {
  /** Jobs whose schedules this runner runs. */
  scheduled: JobName[];
  /** Attempts running at once. Default 5. */
  concurrency?: number;
  /** Multiplies every job's backoff (tests shorten it). Default 1. */
  backoffScale?: number;
}

export class InProcessRunner implements JobRunner {
  readonly description = "in-process scheduler";
  private readonly crons: Cron[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly active = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private stopped = false;
  /** Final outcomes per job: "failed", or the `status` a job reported (sent, skipped…), else "succeeded". */
  private readonly finished = new Map<JobName, Record<string, number>>();

  /** How the jobs named `name` ended so far, by outcome. */
  outcomes(name: JobName): Record<string, number> {
    return { ...(this.finished.get(name) ?? {}) };
  }

  /** Resolves when no job is running or waiting for a retry. */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  constructor(
    private readonly context: JobServices,
    private readonly options: InProcessOptions,
  ) {}

  async start(): Promise<void> {
    for (const name of this.options.scheduled) {
      const schedule = JOBS[name].schedule?.(this.context.config);
      if (!schedule) continue;
      const fire = () => void this.enqueue(name, {} as JobData<typeof name>, { jobId: `${name}-scheduled` });
      if ("cron" in schedule) {
        this.crons.push(new Cron(schedule.cron, { protect: true }, fire));
      } else {
        const timer = setInterval(fire, schedule.everyMs);
        timer.unref();
        this.timers.add(timer);
      }
    }
  }

  async enqueue<N extends JobName>(
    name: N,
    data: JobData<N>,
    options: { jobId?: string } = {},
  ): Promise<void> {
    const jobId = options.jobId ?? randomUUID();
    if (this.stopped || this.active.has(jobId)) return;
    this.active.add(jobId);
    const run = this.run(name, data, jobId).finally(() => {
      this.active.delete(jobId);
      this.running.delete(run);
    });
    this.running.add(run);
  }

  async enqueueBulk<N extends JobName>(name: N, jobs: { data: JobData<N>; jobId?: string }[]): Promise<void> {
    for (const job of jobs) await this.enqueue(name, job.data, job.jobId ? { jobId: job.jobId } : {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cron of this.crons) cron.stop();
    for (const timer of this.timers) clearTimeout(timer);
    for (const wake of this.waiting.splice(0)) wake();
    await this.drain();
  }

  private async run<N extends JobName>(name: N, data: JobData<N>, runId: string): Promise<void> {
    const definition = JOBS[name];
    const context: JobContext = {
      ...this.context,
      enqueue: (n, d, o) => this.enqueue(n, d, o),
      enqueueBulk: (n, jobs) => this.enqueueBulk(n, jobs),
    };
    for (let number = 1; number <= definition.attempts && !this.stopped; number++) {
      await this.slot();
      let result: Awaited<ReturnType<typeof runAttempt>>;
      try {
        result = await runAttempt(
          context,
          name,
          data,
          { number, max: definition.attempts, final: number === definition.attempts },
          runId,
        );
      } finally {
        this.release();
      }
      if (result.outcome !== "retry" && result.outcome !== "wait") {
        const key =
          result.outcome === "failed"
            ? "failed"
            : typeof result.detail.status === "string"
              ? result.detail.status
              : "succeeded";
        const counts = this.finished.get(name) ?? {};
        counts[key] = (counts[key] ?? 0) + 1;
        this.finished.set(name, counts);
        return;
      }
      // Waiting for another attempt's claim to end does not use up an attempt.
      if (result.outcome === "wait") number -= 1;
      const delay =
        result.outcome === "wait"
          ? Math.max(result.until.getTime() - Date.now(), 1_000)
          : definition.backoffMs * 2 ** (number - 1) * (this.options.backoffScale ?? 1);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, delay);
        this.timers.add(timer);
        this.waiting.push(resolve);
      });
    }
  }

  private inUse = 0;
  private readonly queue: (() => void)[] = [];

  private async slot(): Promise<void> {
    if (this.inUse < (this.options.concurrency ?? 5)) {
      this.inUse += 1;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
    this.inUse += 1;
  }

  private release(): void {
    this.inUse -= 1;
    this.queue.shift()?.();
  }
}
