/**
 * The stream's `origin` field and the worker's trust boundary. Entries the api publishes say
 * `origin=cohort-lrs` and the version their statements were accepted under; the worker never
 * judges those again, so an accepted statement is always flattened. Entries without our origin
 * are validated, and a forged origin buys nothing: the worker flattens our entries from what
 * PostgreSQL holds, never from the entry's payload.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "../../test/helpers/db.ts";
import { createTestRedis, type TestRedis, waitFor } from "../../test/helpers/redis.ts";
import { COMPLETED, createCredential, statement, type TestCredential } from "../../test/helpers/xapi.ts";
import type { App } from "../app.ts";
import { queryRows } from "../db/client.ts";
import { DEAD_STREAM, OWN_ORIGIN, STATEMENT_STREAM } from "../names.ts";
import { StreamConsumer } from "./streamConsumer.ts";

const BASE_URL = "https://lrs.example.com";
const context = { completionVerbs: new Set([COMPLETED]), publicBaseUrl: BASE_URL };

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
  content = await createCredential(database.db, { version: "2.0.0" });
});
afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.stop();
});

function post(body: unknown, version = "2.0.0") {
  return app.inject({
    method: "POST",
    url: "/xapi/statements",
    headers: { ...content.headers, "x-experience-api-version": version },
    payload: body as object,
  });
}

async function startConsumer(): Promise<StreamConsumer> {
  const consumer = new StreamConsumer(
    { db: database.db, redis: testRedis.duplicate(), log: pino({ level: "silent" }), context },
    { blockMs: 100 },
  );
  consumers.push(consumer);
  await consumer.start();
  return consumer;
}

async function flatRow(id: string) {
  const [row] = await queryRows<{ verb_id: string; actor_mbox: string; object_id: string }>(
    database.db,
    sql`select verb_id, actor_mbox, object_id from statements_flat where statement_id = ${id}`,
  );
  return row;
}

async function waitForFlat(id: string) {
  await waitFor(async () => (await flatRow(id)) !== undefined, 5_000, `the flat row of ${id}`);
  return (await flatRow(id))!;
}

async function deadEntries(): Promise<Record<string, string>[]> {
  const entries = await testRedis.redis.xrange(DEAD_STREAM, "-", "+");
  return entries.map(([, fields]) => {
    const record: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
    return record;
  });
}

/** A 2.0.0 statement that calls itself 1.0.3 and uses contextAgents, a 2.0-only property. */
const twoPointOhIn103Clothing = () =>
  statement({
    version: "1.0.3",
    context: {
      contextAgents: [
        {
          objectType: "contextAgent",
          agent: { mbox: "mailto:coach@example.com" },
          relevantTypes: [COMPLETED],
        },
      ],
    },
  });

describe("entries this service publishes", () => {
  it("carry origin=cohort-lrs and the version the request was accepted under", async () => {
    const [id] = (await post(statement(), "2.0.0")).json() as string[];
    const [[, fields]] = (await testRedis.redis.xrange(STATEMENT_STREAM, "-", "+")) as [[string, string[]]];
    const entry = Object.fromEntries(
      Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]),
    );
    expect(entry).toEqual({ id, payload: expect.any(String), origin: OWN_ORIGIN, version: "2.0.0" });
    expect(JSON.parse(entry.payload!)).toMatchObject({ id });
  });

  it("are flattened as accepted: a 2.0.0 request's statement saying version 1.0.3 with 2.0-only properties", async () => {
    const response = await post(twoPointOhIn103Clothing(), "2.0.0");
    expect(response.statusCode).toBe(200);
    const [id] = response.json() as string[];
    const consumer = await startConsumer();
    expect(await waitForFlat(id!)).toMatchObject({ verb_id: COMPLETED });
    expect(await deadEntries()).toEqual([]);
    expect(consumer.stats.dead).toBe(0);
  });

  it("are flattened from the statement PostgreSQL holds, so a forged entry with our origin changes nothing", async () => {
    const [id] = (await post(statement(), "1.0.3")).json() as string[];
    await testRedis.redis.del(STATEMENT_STREAM); // the genuine entry is lost; a forged one takes its place
    const forged = {
      ...statement(),
      id,
      verb: { id: "http://example.com/verbs/forged" },
      stored: new Date().toISOString(),
    };
    await testRedis.redis.xadd(
      STATEMENT_STREAM,
      "*",
      "id",
      id!,
      "payload",
      JSON.stringify(forged),
      "origin",
      OWN_ORIGIN,
    );
    await startConsumer();
    expect(await waitForFlat(id!)).toMatchObject({
      verb_id: COMPLETED,
      actor_mbox: "mailto:ada@example.com",
    });
  });

  it("claiming our origin for a statement we never stored does not skip validation", async () => {
    const invalid = randomUUID();
    const valid = randomUUID();
    const stored = new Date().toISOString();
    await testRedis.redis.xadd(
      STATEMENT_STREAM,
      "*",
      "id",
      invalid,
      "payload",
      JSON.stringify({
        id: invalid,
        stored,
        timestamp: stored,
        actor: { name: "no identifier" },
        verb: { id: COMPLETED },
        object: { id: "https://lessons.example.com/1" },
      }),
      "origin",
      OWN_ORIGIN,
      "version",
      "2.0.0",
    );
    await testRedis.redis.xadd(
      STATEMENT_STREAM,
      "*",
      "id",
      valid,
      "payload",
      JSON.stringify({ ...statement(), id: valid, stored, timestamp: stored }),
      "origin",
      OWN_ORIGIN,
    );
    await startConsumer();
    await waitForFlat(valid);
    await waitFor(async () => (await deadEntries()).length === 1, 5_000, "one dead entry");
    expect(await deadEntries()).toEqual([
      expect.objectContaining({ id: invalid, error: expect.stringMatching(/actor/) }),
    ]);
    const raw = await queryRows<{ id: string }>(database.db, sql`select id::text from statements_raw`);
    expect(raw).toEqual([{ id: valid }]);
  });
});

describe("entries of another publisher", () => {
  const foreign = (body: Record<string, unknown>, ...extra: string[]) => {
    const id = randomUUID();
    const stored = new Date().toISOString();
    return testRedis.redis
      .xadd(
        STATEMENT_STREAM,
        "*",
        "id",
        id,
        "payload",
        JSON.stringify({ ...body, id, stored, timestamp: stored }),
        ...extra,
      )
      .then(() => id);
  };

  it("are validated by the version the entry names, else by the statement's own version", async () => {
    const byEntry = await foreign(twoPointOhIn103Clothing() as never, "version", "2.0.0");
    const byStatement = await foreign({ ...twoPointOhIn103Clothing(), version: "2.0.0" } as never);
    const refused = await foreign(twoPointOhIn103Clothing() as never);
    await startConsumer();
    await waitForFlat(byEntry);
    await waitForFlat(byStatement);
    await waitFor(async () => (await deadEntries()).length === 1, 5_000, "one dead entry");
    expect(await deadEntries()).toEqual([
      expect.objectContaining({ id: refused, error: expect.stringMatching(/contextAgents/) }),
    ]);
    // Theirs are stored raw beside the flat row; the refused one nowhere.
    const raw = await queryRows<{ id: string }>(
      database.db,
      sql`select id::text from statements_raw order by id`,
    );
    expect(raw.map((row) => row.id).sort()).toEqual([byEntry, byStatement].sort());
  });

  it("are refused when they hold text PostgreSQL cannot store, without holding up the others", async () => {
    const bad = await foreign({ ...statement(), actor: { mbox: "mailto:a@example.com", name: "A\u0000" } });
    const good = await foreign(statement() as never);
    await startConsumer();
    await waitForFlat(good);
    await waitFor(async () => (await deadEntries()).length === 1, 5_000, "one dead entry");
    expect(await deadEntries()).toEqual([
      expect.objectContaining({ id: bad, error: expect.stringMatching(/U\+0000/) }),
    ]);
  });
});
