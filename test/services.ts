/**
 * The services the suite needs, where the tests put their data (all from the environment, with
 * the defaults below; README "Tests"), and a one-line verdict when a service is missing. Used by
 * the test run's global setup, the test helpers, and `npm test`'s pretest check.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { maskUrl } from "../src/maskUrl.ts";

/**
 * Where the tests' databases are created (any database of the server; the tests create their own
 * next to it). Default postgres://postgres@127.0.0.1:5432/postgres.
 */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * The first part of every database a test run creates: `<prefix>_<run>_<id>`, all dropped when the
 * run ends. Default `cohort_lrs_test`. Lower-case letters, digits and underscores.
 */
export const TEST_DATABASE_PREFIX = process.env.TEST_DATABASE_PREFIX || "cohort_lrs_test";
if (!/^[a-z_][a-z0-9_]{0,30}$/.test(TEST_DATABASE_PREFIX)) {
  throw new Error(
    `TEST_DATABASE_PREFIX must be lower-case letters, digits and underscores (at most 31), got "${TEST_DATABASE_PREFIX}"`,
  );
}

/**
 * The Redis database the tests use: TEST_REDIS_DB, else the number in TEST_REDIS_URL's path, else
 * 15. Never 0 by default: that is where a developer's own Redis data lives.
 */
export const TEST_REDIS_DB = redisDatabase();

/** The tests' Redis: TEST_REDIS_URL (default redis://127.0.0.1:6379) on database TEST_REDIS_DB. */
export const TEST_REDIS_URL = redisUrl();

function redisDatabase(): number {
  const raw = process.env.TEST_REDIS_DB || new URL(redisBase()).pathname.slice(1) || "15";
  const db = Number(raw);
  if (!/^\d+$/.test(raw) || db > 15) {
    throw new Error(`TEST_REDIS_DB must be a Redis database number from 0 to 15, got "${raw}"`);
  }
  return db;
}

function redisBase(): string {
  return process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
}

function redisUrl(): string {
  const url = new URL(redisBase());
  url.pathname = `/${TEST_REDIS_DB}`;
  return url.toString();
}

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
