/** What runs jobs: BullMQ when Redis is configured (`bullmqRunner.ts`), in-process otherwise. */
import type { JobData, JobName } from "./definitions.ts";

export interface JobRunner {
  /** Queues a job; a `jobId` already queued or running is not queued twice. */
  enqueue<N extends JobName>(name: N, data: JobData<N>, options?: { jobId?: string }): Promise<void>;
  /** Queues many jobs of one kind at once (one round trip per chunk on BullMQ). */
  enqueueBulk<N extends JobName>(name: N, jobs: { data: JobData<N>; jobId?: string }[]): Promise<void>;
  /** Starts the schedules of `scheduled` jobs and the processing of queued ones. */
  start(): Promise<void>;
  /** Stops scheduling and taking jobs; waits for the attempts in progress. */
  stop(): Promise<void>;
  readonly description: string;
}
