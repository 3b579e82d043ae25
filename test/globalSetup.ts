/**
 * Once per test run: checks the services and creates a migrated template database that each test
 * file clones (`test/helpers/db.ts`). Afterwards it drops every database this run created, and
 * deletes (and names) any Redis key a test left under the run's prefix. Databases are named
 * `<TEST_DATABASE_PREFIX>_<run>_…`, Redis keys `cohort-lrs-test:<run>:…` in database
 * TEST_REDIS_DB, so runs never touch each other or other data.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openPostgres } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { requireServices, TEST_DATABASE_PREFIX, TEST_DATABASE_URL, TEST_REDIS_URL } from "./services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    testRunId: string;
    templateDatabase: string;
  }
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Deletes the keys matching `pattern` and returns them. */
async function deleteKeys(pattern: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL);
  const deleted: string[] = [];
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      if (keys.length) await redis.del(...keys);
      deleted.push(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export default async function setup(project: TestProject) {
  await requireServices();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const template = `${TEST_DATABASE_PREFIX}_${runId}_tpl`;
  await admin((client) => client.query(`create database ${template}`));
  const database = openPostgres(databaseUrl(template));
  await migrate(database.db);
  await database.close();
  project.provide("testRunId", runId);
  project.provide("templateDatabase", template);

  return async () => {
    await admin(async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        "select datname from pg_database where datname like $1",
        [`${TEST_DATABASE_PREFIX}_${runId}_%`],
      );
      for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
    });
    const left = await deleteKeys(`cohort-lrs-test:${runId}:*`);
    if (left.length) {
      process.stderr.write(
        `test run ${runId} left ${left.length} Redis key(s) behind (now deleted): ${left.slice(0, 10).join(", ")}\n`,
      );
    }
  };
}
