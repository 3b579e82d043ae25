/**
 * Faults in the ingestion pipeline, with real processes: the roles run as `cohort-lrs` child
 * processes, Redis is a private redis-server this file may kill. Every test posts statements with
 * known ids and then checks, by id, that every acknowledged statement is stored once and
 * flattened once.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.ts";
import { RESUME_BOUND_MS, StreamConsumer } from "../../src/etl/streamConsumer.ts";
import { CONSUMER_GROUP, STATEMENT_STREAM } from "../../src/names.ts";
import { connectRedis } from "../../src/process/runtime.ts";
import { type Server, startServer } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/redis.ts";
import { basic, COMPLETED } from "../helpers/xapi.ts";
import {
  dataDir,
  freePort,
  knownStatement,
  type PrivateRedis,
  postStatements,
  privateRedis,
} from "./harness.ts";

const KEY = "faults-content";
const SECRET = "faults-content-secret-0123";
const headers = { authorization: basic(KEY, SECRET), "x-experience-api-version": "1.0.3" };

let database: TestDatabase;
let redis: PrivateRedis;
let processes: Server[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir(),
    PORT: "0",
    LOG_LEVEL: "warn",
    PUBLIC_PEM: KEY,
    SECRET_PEM: SECRET,
    APP_SECRET: "faults-app-secret-0123456789-abcdefghijklmn",
    WORKER_CLAIM_IDLE: "2s",
    ...extra,
  };
}

async function role(
  name: "api" | "worker" | "scheduler",
  extra: Record<string, string> = {},
): Promise<Server> {
  const ready = name === "api" ? undefined : new RegExp(`role ${name}`);
  const server = await startServer([name], env(extra), 60_000, ...(ready ? [ready] : []));
  processes.push(server);
  return server;
}

function kill9(server: Server): Promise<void> {
  const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
  server.child.kill("SIGKILL");
  processes = processes.filter((p) => p !== server);
  return exited;
}

/** How many of `ids` are in `table`, and how many rows the table has in all. */
async function present(
  table: "statements_raw" | "statements_flat",
  ids: string[],
): Promise<{ found: number; total: number }> {
  const column = table === "statements_raw" ? "id" : "statement_id";
  const [row] = await queryRows<{ found: number; total: number }>(
    database.db,
    sql`select (select count(*)::int from ${sql.raw(table)}
                where ${sql.raw(column)} in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)) as found,
               (select count(*)::int from ${sql.raw(table)}) as total`,
  );
  return row!;
}

beforeEach(async () => {
  database = await createTestDatabase();
  redis = await privateRedis();
});
afterEach(async () => {
  for (const server of processes.splice(0)) await server.stop();
  await redis.stop();
  await database.drop();
});
afterAll(async () => {
  for (const server of processes.splice(0)) await server.stop();
});

describe("the worker killed in the middle of a stream", () => {
  it("kill -9 during 100,000 statements, a new worker started: 0 lost, 0 duplicated", async () => {
    const api = await role("api");
    let worker = await role("worker");
    let killed = false;
    const posted = await postStatements(api.url, headers, {
      batches: 200,
      perBatch: 500,
      concurrency: 4,
      during: async (batch) => {
        if (batch >= 60 && !killed) {
          killed = true;
          await kill9(worker);
          worker = await role("worker");
        }
      },
    });
    expect(killed).toBe(true);
    expect(posted.failed).toBe(0);
    expect(posted.acknowledged).toHaveLength(100_000);
    await waitFor(
      async () => (await present("statements_flat", posted.acknowledged)).found === 100_000,
      180_000,
      "100,000 flat rows",
    );
    expect(await present("statements_raw", posted.acknowledged)).toEqual({ found: 100_000, total: 100_000 });
    expect(await present("statements_flat", posted.acknowledged)).toEqual({ found: 100_000, total: 100_000 });
  });

  it("two workers in one group, one killed: the other takes over its entries", async () => {
    const api = await role("api");
    const [first] = [await role("worker"), await role("worker")];
    let killed = false;
    const posted = await postStatements(api.url, headers, {
      batches: 60,
      perBatch: 500,
      concurrency: 4,
      during: async (batch) => {
        if (batch >= 20 && !killed) {
          killed = true;
          await kill9(first!);
        }
      },
    });
    expect(posted.acknowledged).toHaveLength(30_000);
    await waitFor(
      async () => (await present("statements_flat", posted.acknowledged)).found === 30_000,
      120_000,
      "30,000 flat rows",
    );
    expect(await present("statements_raw", posted.acknowledged)).toEqual({ found: 30_000, total: 30_000 });
    expect(await present("statements_flat", posted.acknowledged)).toEqual({ found: 30_000, total: 30_000 });
  });
});

/** The JSON log lines of a role (LOG_LEVEL info or lower) with message `msg`. */
function logLines(server: Server, msg: string): { time: number; [field: string]: unknown }[] {
  return server
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{") && line.endsWith("}") && line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as { time: number });
}

describe("Redis killed during ingestion", () => {
  it("stores every acknowledged statement, the sweep flattens what the stream missed, the worker reconnects", async () => {
    // Info level: the api's "redis connection restored" and the worker's "stream consumer resumed".
    const api = await role("api", { LOG_LEVEL: "info" });
    const metricsPort = await freePort();
    const worker = await role("worker", { METRICS_PORT: String(metricsPort), LOG_LEVEL: "info" });
    const scheduler = await role("scheduler", { INCREMENTAL_ETL_INTERVAL: "2s" });
    let phase = "up";
    let killedAt = 0;
    let answeringAt = 0;
    const posted = await postStatements(api.url, headers, {
      batches: 60,
      perBatch: 200,
      concurrency: 3,
      during: async (batch) => {
        if (batch === 15 && phase === "up") {
          phase = "down";
          killedAt = Date.now();
          await redis.kill();
        }
        if (batch === 40 && phase === "down") {
          phase = "back";
          await redis.start();
          answeringAt = Date.now();
        }
      },
    });
    expect(phase).toBe("back");
    // Redis away never fails ingestion: the statements are in PostgreSQL before the 2xx.
    expect(posted.failed).toBe(0);
    expect(posted.acknowledged).toHaveLength(12_000);
    expect(await present("statements_raw", posted.acknowledged)).toEqual({ found: 12_000, total: 12_000 });
    await waitFor(
      async () => (await present("statements_flat", posted.acknowledged)).found === 12_000,
      120_000,
      "12,000 flat rows",
    );
    expect(await present("statements_flat", posted.acknowledged)).toEqual({ found: 12_000, total: 12_000 });

    // The worker is back on the stream by itself, within the bound of Redis answering again: its
    // own signal says when, and how long it was off.
    const resumed = (await waitFor(
      async () => logLines(worker, "stream consumer resumed").find((line) => line.time >= killedAt),
      60_000,
      "the worker's 'stream consumer resumed'",
    ))!;
    expect(resumed.time - answeringAt).toBeLessThanOrEqual(RESUME_BOUND_MS);
    // Off from the kill (when its connection closed) until that line.
    const offSince = resumed.time - Number(resumed.offMs);
    expect(offSince).toBeGreaterThanOrEqual(killedAt);
    expect(offSince).toBeLessThan(answeringAt);
    // The api publishes again too, as soon.
    const restored = (await waitFor(
      async () => logLines(api, "redis connection restored").find((line) => line.time >= killedAt),
      60_000,
      "the api's 'redis connection restored'",
    ))!;
    expect(restored.time - answeringAt).toBeLessThanOrEqual(RESUME_BOUND_MS);

    // New statements reach the worker. The sweep is stopped first, so only the stream can flatten
    // them (a sweep could take rows the worker was about to write, and they would not count).
    await scheduler.stop();
    processes = processes.filter((p) => p !== scheduler);
    const streamed = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(/cohort_lrs_rows_flattened_total\{path="stream"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await streamed();
    const after = await postStatements(api.url, headers, { batches: 5, perBatch: 100, concurrency: 1 });
    expect(after.acknowledged).toHaveLength(500);
    await waitFor(
      async () => (await streamed()) >= before + 500,
      30_000,
      "the worker flattening new statements",
    );
    expect(await streamed()).toBe(before + 500);
    expect(await present("statements_flat", after.acknowledged)).toEqual({ found: 500, total: 12_500 });
  });
});

describe("Redis restarted empty after a long outage", () => {
  it("the consumer is reading again within RESUME_BOUND_MS of Redis answering, however far its back-off had grown", async () => {
    const lines: { time: number; msg: string; [field: string]: unknown }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // The worker's connection, except that commands fail at once while Redis is away instead of
    // waiting out three reconnect attempts: the back-off reaches 8 s after 8 s, not 30.
    const base = connectRedis(redis.url, log);
    const connection = base.duplicate({ enableOfflineQueue: false });
    base.disconnect();
    connection.on("error", () => {}); // reconnect attempts failing while Redis is away
    if (connection.status !== "ready") await once(connection, "ready");
    const consumer = new StreamConsumer(
      {
        db: database.db,
        redis: connection,
        log,
        context: { completionVerbs: new Set([COMPLETED]), publicBaseUrl: "https://lrs.example.com" },
      },
      { consumer: "recovering", blockMs: 200 },
    );
    await consumer.start();
    try {
      await redis.kill();
      await waitFor(
        async () => lines.some((line) => line.msg.includes("backing off") && Number(line.backoffMs) >= 8_000),
        60_000,
        "the back-off growing to 8 s",
      );
      // Back without its data, as a Redis without persistence: the consumer group is gone too.
      await redis.start({ empty: true });
      const answeringAt = Date.now();
      await waitFor(async () => consumer.stats.resumes === 1, 30_000, "the consumer resuming");
      const resumed = lines.find((line) => line.msg === "stream consumer resumed")!;
      expect(resumed.time - answeringAt).toBeLessThanOrEqual(RESUME_BOUND_MS);
      expect(consumer.stats.lastOffMs).toBe(resumed.offMs);

      // It reads for real: the group is there again, and a new entry is flattened and acknowledged.
      const producer = new Redis(redis.url);
      const id = randomUUID();
      const now = new Date().toISOString();
      const entry = { ...knownStatement(id), stored: now, timestamp: now, version: "1.0.0" };
      await producer.xadd(STATEMENT_STREAM, "*", "id", id, "payload", JSON.stringify(entry));
      await waitFor(
        async () => (await present("statements_flat", [id])).found === 1,
        10_000,
        "the new entry's flat row",
      );
      await waitFor(
        async () => ((await producer.xpending(STATEMENT_STREAM, CONSUMER_GROUP)) as [number])[0] === 0,
        5_000,
        "the entry acknowledged",
      );
      producer.disconnect();
    } finally {
      await consumer.stop();
      connection.disconnect();
    }
  });
});

describe("SIGTERM of the api under load", () => {
  it("finishes in-flight requests, refuses new ones cleanly, exits 0, and stored what it acknowledged", async () => {
    const api = await role("api", { REDIS_URL: "", ETL_MODE: "incremental" });
    const exited = new Promise<number | null>((resolve) => api.child.once("exit", (code) => resolve(code)));
    let stopped = false;
    const load = postStatements(api.url, headers, {
      batches: 400,
      perBatch: 20,
      concurrency: 16,
      during: async (batch) => {
        if (batch === 100 && !stopped) {
          stopped = true;
          api.child.kill("SIGTERM");
        }
      },
    });
    const [outcome, code] = await Promise.all([load, exited]);
    processes = processes.filter((p) => p !== api);
    expect(code).toBe(0);
    expect(outcome.acknowledged.length).toBeGreaterThanOrEqual(100 * 20);
    // Every answer was a success, a clean 503 while closing, a refused connection once closed, or a
    // reset of an idle keep-alive connection that the server closed just as the client reused it.
    for (const status of outcome.statuses.keys()) {
      expect(["200", "503", "ECONNREFUSED", "ECONNRESET", "UND_ERR_SOCKET"]).toContain(status);
    }
    expect(await present("statements_raw", outcome.acknowledged)).toMatchObject({
      found: outcome.acknowledged.length,
    });
    // No request was cut off half-way: what was not acknowledged was not stored either, so a
    // client may safely send it again.
    const unacknowledged = [...outcome.failedIds.values()].flat();
    expect(await present("statements_raw", unacknowledged)).toMatchObject({ found: 0 });
    expect((await present("statements_raw", [])).total).toBe(outcome.acknowledged.length);
  });
});
