/**
 * Statements flattened in both modes through the real command, as an operator runs it:
 * embedded (`all` on PGlite, incremental) and production (`api` + `worker` processes on
 * PostgreSQL and Redis, streaming), plus `run-task incremental-etl`.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite, queryRows } from "../src/db/client.ts";
import { freePort, runCli, type Server, startServer } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { waitFor } from "./helpers/redis.ts";
import { deleteServiceKeys } from "./helpers/serviceKeys.ts";
import { basic, createCredential, statement } from "./helpers/xapi.ts";
import { TEST_REDIS_URL } from "./services.ts";

const created: TestDatabase[] = [];
const servers: Server[] = [];
const redisCleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const cleanup of redisCleanups) await cleanup();
  for (const database of created) await database.drop();
});

const KEY = "course-content";
const SECRET = "a-long-bootstrap-secret-for-tests";
const xapiHeaders = {
  authorization: basic(KEY, SECRET),
  "x-experience-api-version": "1.0.3",
  "content-type": "application/json",
};

describe("embedded mode (cohort-lrs all on PGlite)", () => {
  it("flattens a posted statement right after ingestion", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-etl-"));
    const server = await startServer(["all"], {
      DATA_DIR: dataDir,
      PORT: "0",
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
    });
    const response = await fetch(`${server.url}/xapi/statements`, {
      method: "POST",
      headers: xapiHeaders,
      body: JSON.stringify(statement()),
    });
    expect(response.status).toBe(200);
    const [id] = (await response.json()) as string[];
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the sweep runs ~100 ms after ingestion
    expect(await server.stop()).toBe(0);
    const embedded = await openPglite(path.join(dataDir, "pgdata"));
    const rows = await queryRows<{ statement_id: string }>(
      embedded.db,
      sql`select statement_id from statements_flat`,
    );
    const runs = await queryRows<{ status: string }>(
      embedded.db,
      sql`select status from task_status where task_name = 'incremental-etl'`,
    );
    await embedded.close();
    expect(rows).toEqual([{ statement_id: id }]);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((run) => run.status === "succeeded")).toBe(true);
  }, 60_000);
});

describe("production mode (api + worker on PostgreSQL and Redis)", () => {
  it("flattens through the stream, and run-task incremental-etl sweeps what the stream missed", async () => {
    const database = await createTestDatabase({ migrated: false });
    created.push(database);
    // The roles write their keys under their real names (no test prefix): none before, none after.
    const redisUrl = TEST_REDIS_URL;
    const redis = new Redis(redisUrl);
    redisCleanups.push(async () => {
      await deleteServiceKeys(redis);
      redis.disconnect();
    });
    await deleteServiceKeys(redis);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-prod-")),
      PORT: "0",
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
    };
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const api = await startServer(["api"], env);
    servers.push(api);
    // The worker's metrics listener prints where it listens only after it starts: a free port.
    const metricsPort = await freePort();
    const worker = await startServer(
      ["worker"],
      { ...env, METRICS_PORT: String(metricsPort) },
      60_000,
      /role worker consuming/,
    );
    servers.push(worker);
    // Both roles are ready, each checking what it needs: the worker answers on its metrics port.
    const workerReady = await fetch(`http://127.0.0.1:${metricsPort}/health/ready`);
    expect(workerReady.status).toBe(200);
    expect(await workerReady.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "ok" } });
    const apiReady = await fetch(`${api.url}/health/ready`);
    expect(await apiReady.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "ok" } });

    const response = await fetch(`${api.url}/xapi/statements`, {
      method: "POST",
      headers: xapiHeaders,
      body: JSON.stringify([statement(), statement()]),
    });
    expect(response.status).toBe(200);
    const ids = (await response.json()) as string[];
    const flat = async () =>
      (
        await queryRows<{ statement_id: string }>(database.db, sql`select statement_id from statements_flat`)
      ).map((row) => row.statement_id);
    await waitFor(async () => (await flat()).length === 2, 5_000, "2 flat rows from the worker");
    expect((await flat()).sort()).toEqual([...ids].sort());

    // Statements the stream never carried are the sweep's.
    const content = await createCredential(database.db);
    const missedId = randomUUID();
    await database.db.execute(sql`
      insert into statements_raw (id, payload, stored, credential_id)
      values (${missedId}, ${JSON.stringify({ ...statement(), id: missedId, stored: new Date().toISOString(), timestamp: new Date().toISOString() })}::jsonb, now(), ${content.id})`);
    const sweep = await runCli(["run-task", "incremental-etl"], env);
    expect(sweep.code).toBe(0);
    expect(sweep.stdout).toContain("incremental-etl: 1 statement(s) to flatten");
    expect(sweep.stdout).toMatch(/flattened 1 statement\(s\) in \d+ ms/);
    expect(await flat()).toContain(missedId);

    expect(await worker.stop()).toBe(0);
    expect(await api.stop()).toBe(0);
    servers.length = 0;
  }, 120_000);

  it("the scheduler role sweeps on its interval", async () => {
    const database = await createTestDatabase();
    created.push(database);
    const content = await createCredential(database.db);
    const id = randomUUID();
    await database.db.execute(sql`
      insert into statements_raw (id, payload, stored, credential_id)
      values (${id}, ${JSON.stringify({ ...statement(), id, stored: new Date().toISOString(), timestamp: new Date().toISOString() })}::jsonb, now(), ${content.id})`);
    const scheduler = await startServer(
      ["scheduler"],
      {
        DATABASE_URL: database.url,
        INCREMENTAL_ETL_INTERVAL: "1s",
        DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-sch-")),
      },
      60_000,
      /role scheduler on in-process scheduler: incremental-etl every 1 s/,
    );
    servers.push(scheduler);
    await waitFor(
      async () =>
        (await queryRows(database.db, sql`select 1 from statements_flat where statement_id = ${id}`))
          .length === 1,
      10_000,
      "the sweep",
    );
    expect(await scheduler.stop()).toBe(0);
    servers.splice(servers.indexOf(scheduler), 1);
  }, 60_000);

  it("run-task refuses an unknown task with a usage error", async () => {
    const result = await runCli(["run-task", "defragment"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("run-task needs a task name: one of incremental-etl");
  });
});
