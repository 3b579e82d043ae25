/** The job runner of a process: BullMQ when Redis is configured, in-process otherwise. */
import type { Runtime } from "../process/runtime.ts";
import { BullMqRunner } from "./bullmqRunner.ts";
import type { JobName, JobServices } from "./definitions.ts";
import { InProcessRunner } from "./inProcessRunner.ts";
import type { JobRunner } from "./runner.ts";

export interface RunnerOptions {
  /** Jobs whose schedules this runner runs (or upserts, on BullMQ). */
  scheduled: JobName[];
  /** Work the queue in this process. Default true. */
  work?: boolean;
  /** BullMQ key prefix (tests). */
  prefix?: string;
  backoffScale?: number;
}

/** What a job works with in this process. */
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
