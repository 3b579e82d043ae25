/**
 * Once per test run: checks the services, creates a migrated template database that each test
 * file clones (`test/helpers/db.ts`), and afterwards drops every database this run created.
 * Databases are named `cohort_lrs_test_<run>_…`, so runs never touch each other or other data.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openPostgres } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { requireServices, TEST_DATABASE_URL } from "./services.ts";

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

export default async function setup(project: TestProject) {
  await requireServices();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const template = `cohort_lrs_test_${runId}_tpl`;
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
        [`cohort_lrs_test_${runId}_%`],
      );
      for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
    });
  };
}
