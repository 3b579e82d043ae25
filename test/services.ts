/**
 * The services the suite needs, and a one-line verdict when one is missing. Used by the test
 * run's global setup and by `npm test`'s pretest check.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { maskUrl } from "../src/maskUrl.ts";

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const redact = maskUrl;

/** Resolves when PostgreSQL and Redis answer; rejects with one line saying what to start. */
export async function requireServices(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(TEST_DATABASE_URL)} (${(error as Error).message}): ` +
        "start PostgreSQL 15+ there (e.g. `bash .ci/run` sets it up) or set TEST_DATABASE_URL",
    );
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${redact(TEST_REDIS_URL)} (${(error as Error).message}): ` +
        "start Redis 7+ there (e.g. `redis-server --daemonize yes`) or set TEST_REDIS_URL",
    );
  } finally {
    redis.disconnect();
  }
}
