/**
 * PostgreSQL stopped (a private server the test owns) during streaming ingestion: requests fail
 * fast with 503 and a clear error, nothing is acknowledged that is not stored, and after
 * PostgreSQL is back the api and the stream worker recover on their own, without a restart, and
 * every stored statement is flattened once. And stopped while a scheduler is sending reminders:
 * the emails the mail server accepted meanwhile are recorded once it is back, and none is sent
 * twice.
 */
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { openPostgres, queryRows } from "../../src/db/client.ts";
import { runCli, startServer } from "../helpers/cli.ts";
import { waitFor } from "../helpers/redis.ts";
import { startSmtp } from "../helpers/smtp.ts";
import { basic } from "../helpers/xapi.ts";
import {
  dataDir,
  knownStatement,
  privatePostgres,
  privateRedis,
  schedulerEnv,
  seedCohort,
} from "./harness.ts";

const KEY = "faults-content";
const SECRET = "faults-content-secret-0123";
const headers = {
  authorization: basic(KEY, SECRET),
  "x-experience-api-version": "1.0.3",
  "content-type": "application/json",
};

/** What each test started, stopped after it (the last started, first). */
const started: { stop(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const service of started.splice(0).reverse()) await service.stop().catch(() => {});
});
async function track<T extends { stop(): Promise<unknown> }>(service: Promise<T>): Promise<T> {
  started.push(await service);
  return started.at(-1) as T;
}

async function post(
  url: string,
): Promise<{ status: number | string; ids: string[]; ms: number; body: string }> {
  const statements = Array.from({ length: 10 }, () => knownStatement());
  const started = Date.now();
  try {
    const response = await fetch(`${url}/xapi/statements`, {
      method: "POST",
      headers,
      body: JSON.stringify(statements),
      signal: AbortSignal.timeout(30_000),
    });
    return {
      status: response.status,
      ids: statements.map((s) => s.id as string),
      ms: Date.now() - started,
      body: await response.text(),
    };
  } catch (error) {
    return {
      status: (error as Error).name,
      ids: statements.map((s) => s.id as string),
      ms: Date.now() - started,
      body: "",
    };
  }
}

describe("PostgreSQL stopped during ingestion", () => {
  it("fails fast with 503, acknowledges nothing it did not store, and recovers by itself", async () => {
    const postgres = await track(privatePostgres());
    const redis = await track(privateRedis());
    const env = {
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      DATA_DIR: dataDir(),
      PORT: "0",
      LOG_LEVEL: "warn",
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
      APP_SECRET: "faults-app-secret-0123456789-abcdefghijklmn",
    };
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const api = await track(startServer(["api"], env));
    const worker = await track(startServer(["worker"], env, 60_000, /role worker consuming/));

    // Statements keep arriving up to the stop, so the worker has entries in hand when it comes.
    const before = [];
    for (let i = 0; i < 10; i++) before.push(...(await Promise.all([post(api.url), post(api.url)])));
    expect(before.every((r) => r.status === 200)).toBe(true);

    await postgres.stop();
    const during = await Promise.all(Array.from({ length: 8 }, () => post(api.url)));
    for (const result of during) {
      expect(result.status).toBe(503);
      expect(JSON.parse(result.body)).toMatchObject({ error: "database_unavailable" });
      expect(result.ms).toBeLessThan(10_000); // bounded: the pool's 5 s connection timeout, never a hang
    }
    const ready = await fetch(`${api.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { database: string } }).checks.database).toMatch(
      /^unreachable/,
    );

    await postgres.start();
    let after = await post(api.url);
    for (let i = 0; i < 40 && after.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await post(api.url);
    }
    expect(after.status).toBe(200);
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);

    const database = openPostgres(postgres.url);
    try {
      const ids = async (table: string, column: string) =>
        (
          await queryRows<{ id: string }>(
            database.db,
            sql`select ${sql.raw(column)}::text as id from ${sql.raw(table)}`,
          )
        ).map((row) => row.id);
      const stored = new Set(await ids("statements_raw", "id"));
      for (const result of [...before, after]) for (const id of result.ids) expect(stored.has(id)).toBe(true);
      for (const result of during) for (const id of result.ids) expect(stored.has(id)).toBe(false);
      // The worker flattens every stored statement once, by itself.
      await waitFor(
        async () => (await ids("statements_flat", "statement_id")).length >= stored.size,
        30_000,
        "every statement flattened",
      );
      const flat = await ids("statements_flat", "statement_id");
      expect(flat).toHaveLength(stored.size);
      expect(new Set(flat)).toEqual(stored);
    } finally {
      await database.close();
    }
    // Neither process needed a restart.
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  });
});

describe("PostgreSQL stopped while reminders are being sent", () => {
  it("records the emails accepted meanwhile once it is back, and sends none twice", async () => {
    const postgres = await track(privatePostgres());
    const redis = await track(privateRedis());
    const smtp = await track(startSmtp().then((server) => Object.assign(server, { stop: server.close })));
    const env = schedulerEnv({ database: postgres.url, redis: redis.url, smtp: smtp.url });
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const LEARNERS = 30;
    const setup = openPostgres(postgres.url);
    await seedCohort(setup.db, LEARNERS);
    await setup.close();

    // The mail server takes a second per message, so sends are in flight when PostgreSQL stops.
    smtp.delayMs = 1_000;
    const scheduler = await track(startServer(["scheduler"], env, 60_000, /role scheduler/));
    const queued = await runCli(["run-task", "daily-reminders", "--at", "2026-03-02T18:00:00Z"], env);
    expect(queued.code).toBe(0);
    await waitFor(async () => smtp.received.length >= 5, 30_000, "the first emails");
    await waitFor(async () => smtp.inFlight >= 3, 10_000, "messages at the mail server");
    const beforeStop = smtp.received.length;
    await postgres.stop();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const acceptedDuringOutage = smtp.received.length - beforeStop;
    // The sends that were talking to the mail server finished while the database was down.
    expect(acceptedDuringOutage).toBeGreaterThan(0);
    await postgres.start();

    const database = openPostgres(postgres.url);
    try {
      const sent = async () =>
        (
          await queryRows<{ n: number }>(
            database.db,
            sql`select count(*)::int as n from notifications where status = 'sent'`,
          )
        )[0]!.n;
      await waitFor(async () => (await sent()) === LEARNERS, 90_000, "every notification sent");
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // a duplicate would arrive now
      const recipients = smtp.received.map((mail) => mail.to[0]);
      expect(recipients).toHaveLength(LEARNERS);
      expect(new Set(recipients).size).toBe(LEARNERS);
      // The scheduler lived through it: no crash, no restart.
      expect(scheduler.child.exitCode).toBeNull();
    } finally {
      await database.close();
    }
  });
});
