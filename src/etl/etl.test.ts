/**
 * The ETL end to end on real services: HTTP → statements_raw → Redis stream → worker →
 * statements_flat, and the incremental sweep behind it.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../test/helpers/app.ts";
import {
  createTestDatabase,
  openTestDatabase,
  type TestDatabase,
  truncateAll,
} from "../../test/helpers/db.ts";
import { createTestRedis, type TestRedis, waitFor } from "../../test/helpers/redis.ts";
import {
  COMPLETED,
  createCredential,
  LESSON_1,
  statement,
  type TestCredential,
} from "../../test/helpers/xapi.ts";
import type { App } from "../app.ts";
import { countUnflattened, getLastProcessed } from "../data/getLastProcessed.ts";
import { openPostgres, queryRows } from "../db/client.ts";
import { metrics } from "../metrics.ts";
import { CONSUMER_GROUP, DEAD_STREAM, STATEMENT_STREAM } from "../names.ts";
import { prepareStatement } from "../xapi/prepareStatement.ts";
import { storeStatements } from "../xapi/storeStatements.ts";
import type { Statement } from "../xapi/validateStatement.ts";
import { runIncrementalEtl } from "./runIncrementalEtl.ts";
import { StreamConsumer } from "./streamConsumer.ts";

const BASE_URL = "https://lrs.example.com";
const context = { completionVerbs: new Set([COMPLETED]), publicBaseUrl: BASE_URL };
const log = pino({ level: "silent" });

let database: TestDatabase;
let testRedis: TestRedis;
let app: App;
let content: TestCredential;
const consumers: StreamConsumer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  testRedis = createTestRedis();
  app = await buildApp(
    database,
    { REDIS_URL: "redis://127.0.0.1:6379", PUBLIC_BASE_URL: BASE_URL },
    { redis: testRedis.redis },
  );
});
afterAll(async () => {
  await app.close();
  await testRedis.drop();
  await database.drop();
});
beforeEach(async () => {
  await truncateAll(database);
  await testRedis.redis.del(STATEMENT_STREAM, DEAD_STREAM);
  content = await createCredential(database.db);
});
afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.stop();
});

function post(body: unknown) {
  return app.inject({
    method: "POST",
    url: "/xapi/statements",
    headers: content.headers,
    payload: body as object,
  });
}

async function flatRows() {
  return queryRows<{
    statement_id: string;
    user_id: string | null;
    is_completion: boolean;
    voided: boolean;
    object_id: string;
  }>(
    database.db,
    sql`select statement_id, user_id, is_completion, voided, object_id from statements_flat order by stored, statement_id`,
  );
}

async function count(table: "statements_raw" | "statements_flat"): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from ${sql.raw(table)}`,
  );
  return row!.n;
}

function startConsumer(options: ConstructorParameters<typeof StreamConsumer>[1] = {}) {
  const consumer = new StreamConsumer(
    { db: database.db, redis: testRedis.duplicate(), log, context },
    { blockMs: 100, ...options },
  );
  consumers.push(consumer);
  return consumer.start().then(() => consumer);
}

/** Stores statements straight into statements_raw, bypassing the endpoint and the stream. */
async function storeRaw(statements: Statement[]) {
  const client = { credentialId: content.id, key: content.key, name: "test", scopes: ["all"] };
  const prepared = statements.map((s) =>
    prepareStatement(s, { client, version: "1.0.3", stored: new Date(), publicBaseUrl: BASE_URL }),
  );
  await storeStatements(database.db, prepared, content.id);
  return prepared.map((s) => s.id);
}

describe("streaming", () => {
  it("publishes a posted statement to the xapi:statements stream after the commit", async () => {
    const [id] = (await post(statement())).json() as string[];
    const entries = await testRedis.redis.xrange(STATEMENT_STREAM, "-", "+");
    expect(entries).toHaveLength(1);
    const [, fields] = entries[0]!;
    expect(fields[0]).toBe("id");
    expect(fields[1]).toBe(id);
    expect(JSON.parse(fields[3]!)).toMatchObject({ id, stored: expect.any(String), verb: { id: COMPLETED } });
  });

  it("has a flat row within 2 seconds of the POST", async () => {
    await startConsumer();
    const started = Date.now();
    const [id] = (await post(statement())).json() as string[];
    await waitFor(
      async () => (await flatRows()).some((row) => row.statement_id === id),
      2_000,
      "the flat row",
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    const [row] = await flatRows();
    expect(row).toMatchObject({ statement_id: id, is_completion: true, voided: false, object_id: LESSON_1 });
  });

  it("answers 200 when Redis is unreachable, counts the failed publish, and the sweep flattens", async () => {
    const { Redis } = await import("ioredis");
    const dead = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const offline = await buildApp(
      database,
      { REDIS_URL: "redis://127.0.0.1:1", PUBLIC_BASE_URL: BASE_URL },
      { redis: dead },
    );
    const failuresBefore = (await metrics.publishFailures.get()).values[0]?.value ?? 0;
    const response = await offline.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: [statement(), statement()],
    });
    expect(response.statusCode).toBe(200);
    expect(await count("statements_raw")).toBe(2);
    expect((await metrics.publishFailures.get()).values[0]?.value).toBe(failuresBefore + 2);
    const result = await runIncrementalEtl(database.db, context);
    expect(result.flattened).toBe(2);
    expect(await count("statements_flat")).toBe(2);
    await offline.close();
    dead.disconnect();
  });

  it("reclaims the entries of a consumer that died after reading, and flattens each exactly once", async () => {
    const ids = (await post(Array.from({ length: 30 }, () => statement()))).json() as string[];
    // A consumer reads everything and dies before acknowledging anything.
    await testRedis.redis.xgroup("CREATE", STATEMENT_STREAM, CONSUMER_GROUP, "0", "MKSTREAM");
    const read = (await testRedis.redis.xreadgroup(
      "GROUP",
      CONSUMER_GROUP,
      "doomed",
      "COUNT",
      100,
      "STREAMS",
      STATEMENT_STREAM,
      ">",
    )) as [string, unknown[]][];
    expect(read[0]![1]).toHaveLength(30);
    expect(await count("statements_flat")).toBe(0);

    await startConsumer({ consumer: "rescuer", claimIdleMs: 200 });
    await waitFor(async () => (await count("statements_flat")) === 30, 5_000, "30 flat rows");
    const pending = (await testRedis.redis.xpending(STATEMENT_STREAM, CONSUMER_GROUP)) as [number];
    expect(pending[0]).toBe(0);
    const rows = await flatRows();
    expect(rows.map((row) => row.statement_id).sort()).toEqual([...ids].sort());
  });

  it("moves a poison entry to the dead stream with its error, records it, and carries on", async () => {
    await testRedis.redis.xadd(STATEMENT_STREAM, "*", "id", "x", "payload", "{not json");
    const badId = randomUUID();
    await testRedis.redis.xadd(
      STATEMENT_STREAM,
      "*",
      "id",
      badId,
      "payload",
      JSON.stringify({ id: badId, stored: new Date().toISOString() }),
    );
    const consumer = await startConsumer();
    const [good] = (await post(statement())).json() as string[];
    await waitFor(
      async () => (await flatRows()).some((row) => row.statement_id === good),
      3_000,
      "the good row",
    );
    await waitFor(async () => (await testRedis.redis.xlen(DEAD_STREAM)) === 2, 3_000, "2 dead entries");
    const dead = await testRedis.redis.xrange(DEAD_STREAM, "-", "+");
    const errors = dead.map(([, fields]) => fields[fields.indexOf("error") + 1]);
    expect(errors[0]).toMatch(/JSON/);
    expect(errors[1]).toMatch(/actor/);
    expect(consumer.stats.dead).toBe(2);
    const recorded = await queryRows<{ status: string }>(
      database.db,
      sql`select status from task_status where task_name = 'stream-dead-letter'`,
    );
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.every((row) => row.status === "failed")).toBe(true);
    const pending = (await testRedis.redis.xpending(STATEMENT_STREAM, CONSUMER_GROUP)) as [number];
    expect(pending[0]).toBe(0);
  });

  it("writes the raw row of an entry from another publisher", async () => {
    await startConsumer();
    const id = randomUUID();
    const foreign = {
      ...statement(),
      id,
      stored: new Date().toISOString(),
      timestamp: new Date().toISOString(),
      version: "1.0.0",
    };
    await testRedis.redis.xadd(STATEMENT_STREAM, "*", "id", id, "payload", JSON.stringify(foreign));
    await waitFor(async () => (await count("statements_flat")) === 1, 3_000, "the flat row");
    expect(await count("statements_raw")).toBe(1);
  });
});

describe("getLastProcessed", () => {
  it("reports the newest flattened statement, counts, and the stream backlog", async () => {
    expect(await getLastProcessed(database.db)).toEqual({
      lastFlattenedStored: null,
      lastFlattenedStatementId: null,
      flatCount: 0,
      unflattenedCount: 0,
      streamPending: null,
      streamLength: null,
    });
    const ids = (await post([statement(), statement(), statement()])).json() as string[];
    // A consumer takes the entries and has not acknowledged them yet.
    await testRedis.redis.xgroup("CREATE", STATEMENT_STREAM, CONSUMER_GROUP, "0", "MKSTREAM");
    await testRedis.redis.xreadgroup(
      "GROUP",
      CONSUMER_GROUP,
      "slow",
      "COUNT",
      2,
      "STREAMS",
      STATEMENT_STREAM,
      ">",
    );
    await storeRaw([statement()]);
    await runIncrementalEtl(database.db, context);
    const state = await getLastProcessed(database.db, testRedis.redis);
    expect(state).toMatchObject({ flatCount: 4, unflattenedCount: 0, streamPending: 2, streamLength: 3 });
    expect(state.lastFlattenedStored).toBeInstanceOf(Date);
    expect(ids).not.toContain(state.lastFlattenedStatementId); // the raw-only one was stored last
  });
});

describe("the incremental sweep", () => {
  it("flattens raw rows the stream never saw, and a second run duplicates nothing", async () => {
    const ids = await storeRaw([
      statement(),
      statement(),
      statement({ verb: { id: "http://adlnet.gov/expapi/verbs/attempted" }, result: undefined }),
    ]);
    expect(await countUnflattened(database.db)).toBe(3);
    const first = await runIncrementalEtl(database.db, context, { batchSize: 2 });
    expect(first).toMatchObject({ flattened: 3, failed: 0, backlog: 3 });
    const second = await runIncrementalEtl(database.db, context);
    expect(second.flattened).toBe(0);
    const rows = await flatRows();
    expect(rows.map((row) => row.statement_id).sort()).toEqual([...ids].sort());
    expect(rows.filter((row) => row.is_completion)).toHaveLength(2);
  });

  it("inserts nothing twice when sweeps run concurrently", async () => {
    await storeRaw(Array.from({ length: 500 }, () => statement()));
    const pools = [openPostgres(database.url), openPostgres(database.url), openPostgres(database.url)];
    const results = await Promise.all(
      pools.map((pool) => runIncrementalEtl(pool.db, context, { batchSize: 50 })),
    );
    await Promise.all(pools.map((pool) => pool.close()));
    expect(results.reduce((sum, result) => sum + result.flattened, 0)).toBe(500);
    expect(await count("statements_flat")).toBe(500);
  });

  it("passes over a statement it cannot flatten, reporting it, and flattens the rest", async () => {
    const [good] = await storeRaw([statement()]);
    const broken = randomUUID();
    await database.db.execute(sql`
      insert into statements_raw (id, payload, stored)
      values (${broken}, ${JSON.stringify({ id: broken, stored: "not a date", timestamp: "never", actor: {}, verb: { id: COMPLETED }, object: { id: LESSON_1 } })}::jsonb, now())`);
    const [after] = await storeRaw([statement()]);
    const result = await runIncrementalEtl(database.db, context, { batchSize: 1 });
    expect(result.flattened).toBe(2);
    expect(result.failures).toEqual([{ statementId: broken, error: expect.any(String) }]);
    expect((await flatRows()).map((row) => row.statement_id).sort()).toEqual([good, after].sort());
  });

  it("flattens on the embedded PGlite too", async () => {
    const embedded = await openTestDatabase("pglite");
    try {
      const client = { credentialId: "", key: "k", name: "test", scopes: ["all"] };
      const prepared = [statement(), statement()].map((s) =>
        prepareStatement(s, { client, version: "1.0.3", stored: new Date(), publicBaseUrl: BASE_URL }),
      );
      await storeStatements(embedded.db, prepared, null);
      expect((await runIncrementalEtl(embedded.db, context)).flattened).toBe(2);
      expect((await runIncrementalEtl(embedded.db, context)).flattened).toBe(0);
    } finally {
      await embedded.drop();
    }
  });
});

describe("learners and voiding in flat rows", () => {
  it("resolves learners by mbox (any case) and by account; attributes statements sent before signup", async () => {
    const signup = (avatar: string, email: string) =>
      app.inject({
        method: "POST",
        url: "/api/signup",
        payload: { name: avatar, email, avatar, cohortId: "c1" },
      });
    const ada = (await signup("ada", "ada@example.com")).json();
    const [byMbox, byAccount, early] = await storeRaw([
      statement({ actor: { mbox: "mailto:ADA@Example.COM" } }),
      statement({ actor: { account: { homePage: `${BASE_URL}/`, name: "ada" } } }),
      statement({ actor: { mbox: "mailto:grace@example.com" } }),
    ]);
    await runIncrementalEtl(database.db, context);
    let rows = await flatRows();
    const userOf = (id: string | undefined) => rows.find((row) => row.statement_id === id)?.user_id;
    expect(userOf(byMbox)).toBe(ada.id);
    expect(userOf(byAccount)).toBe(ada.id);
    expect(userOf(early)).toBeNull();
    const grace = (await signup("grace", "Grace@Example.com")).json();
    rows = await flatRows();
    expect(userOf(early)).toBe(grace.id);
  });

  it("marks a statement voided whether its voiding statement is flattened before or after it", async () => {
    const voiding = (target: string) =>
      statement({
        verb: { id: "http://adlnet.gov/expapi/verbs/voided" },
        object: { objectType: "StatementRef", id: target },
        result: undefined,
      });
    const [first] = await storeRaw([statement()]);
    await runIncrementalEtl(database.db, context); // target flattened first
    const [voidOfFirst] = await storeRaw([voiding(first!)]);
    const secondId = randomUUID();
    const [voidOfSecond] = await storeRaw([voiding(secondId)]); // voiding stored before its target
    await storeRaw([statement({ id: secondId })]);
    await runIncrementalEtl(database.db, context);
    const rows = await flatRows();
    const voided = (id: string | undefined) => rows.find((row) => row.statement_id === id)?.voided;
    expect(voided(first)).toBe(true);
    expect(voided(secondId)).toBe(true);
    expect(voided(voidOfFirst)).toBe(false);
    expect(voided(voidOfSecond)).toBe(false);
  });
});

describe("PostgreSQL unreachable", () => {
  it("answers 503 database_unavailable quickly and acknowledges nothing", async () => {
    const down = openPostgres("postgres://postgres@127.0.0.1:1/none");
    const offline = await buildApp(down);
    // Credentials cannot be checked either: the request must fail with 503, never 2xx.
    const started = Date.now();
    const response = await offline.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: statement(),
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: "database_unavailable" });
    expect(Date.now() - started).toBeLessThan(6_000);
    await offline.close();
    await down.close();
  });
});
