/**
 * A Redis connection whose keys live under a prefix of their own (`cohort-lrs-test:<run>:<id>:`),
 * so test files and runs never see each other's streams. `drop()` deletes the prefix's keys.
 */
import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { inject } from "vitest";
import { TEST_REDIS_URL } from "../services.ts";

export interface TestRedis {
  redis: Redis;
  prefix: string;
  /** Another connection with the same prefix (for a second consumer, say). */
  duplicate(options?: RedisOptions): Redis;
  drop(): Promise<void>;
}

export function createTestRedis(): TestRedis {
  const prefix = `cohort-lrs-test:${inject("testRunId")}:${randomBytes(4).toString("hex")}:`;
  const connect = (options: RedisOptions = {}) =>
    new Redis(TEST_REDIS_URL, { keyPrefix: prefix, ...options });
  const redis = connect();
  return {
    redis,
    prefix,
    duplicate: connect,
    async drop() {
      // SCAN patterns are not prefixed by ioredis: use a plain connection.
      const plain = new Redis(TEST_REDIS_URL);
      let cursor = "0";
      do {
        const [next, keys] = await plain.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        if (keys.length) await plain.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      plain.disconnect();
      redis.disconnect();
    },
  };
}

/** Resolves when `check` returns a truthy value; rejects after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T>, timeoutMs = 5_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
