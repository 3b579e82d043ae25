/**
 * The Redis keys the service itself writes, under their real names (roles started as processes
 * take no key prefix): the statement stream and its dead letters, the BullMQ job queue, the
 * shared rate-limit counters. Tests and benchmarks that start roles delete them before and after,
 * in a Redis database of their own (TEST_REDIS_DB, BENCH_REDIS_DB). No vitest here: benchmarks use it.
 */
import type { Redis } from "ioredis";
import { RATE_LIMIT_NAMESPACE } from "../../src/app.ts";
import { JOB_QUEUE } from "../../src/jobs/bullmqRunner.ts";
import { STATEMENT_STREAM } from "../../src/names.ts";

export const SERVICE_KEY_PATTERNS = [
  `${STATEMENT_STREAM}*`,
  `bull:${JOB_QUEUE}:*`,
  `${RATE_LIMIT_NAMESPACE}*`,
];

/** Deletes every key of `SERVICE_KEY_PATTERNS` in `redis`'s database; returns how many. */
export async function deleteServiceKeys(redis: Redis): Promise<number> {
  let deleted = 0;
  for (const pattern of SERVICE_KEY_PATTERNS) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
  return deleted;
}
