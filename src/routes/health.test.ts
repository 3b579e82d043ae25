import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, buildApp, SIGNING_SECRET, testConfig } from "../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/db.ts";
import { createCredential, statement } from "../../test/helpers/xapi.ts";
import { TEST_REDIS_URL } from "../../test/services.ts";
import { createApp } from "../app.ts";
import { openPostgres, queryRows } from "../db/client.ts";
import { checkReadiness } from "../health/readiness.ts";
import { startMetricsServer } from "../process/metricsServer.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe("GET /health", () => {
  it("answers 200 {status: ok}", async () => {
    const app = await buildApp(database);
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
    expect(response.headers["x-request-id"]).toBeTruthy();
    await app.close();
  });
});

describe("GET /health/ready", () => {
  it("answers 200 when the database answers", async () => {
    const app = await buildApp(database);
    const response = await app.inject({ method: "GET", url: "/health/ready" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", checks: { database: "ok" } });
    await app.close();
  });

  it("answers 503 naming the database when it is unreachable", async () => {
    // Port 1 on loopback: nothing listens there, so connecting fails at once.
    const unreachable = openPostgres("postgres://postgres@127.0.0.1:1/none");
    const app = await createApp({
      config: testConfig(),
      database: unreachable,
      adminPassword: ADMIN_PASSWORD,
      signingSecret: SIGNING_SECRET,
    });
    const response = await app.inject({ method: "GET", url: "/health/ready" });
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.status).toBe("unavailable");
    expect(body.checks.database).toMatch(/^unreachable: /);
    await app.close();
    await unreachable.close();
  });

  it("checks Redis when it is configured", async () => {
    const redis = new Redis(TEST_REDIS_URL);
    for (const redisRequired of [false, true]) {
      const up = await createApp({
        config: testConfig(),
        database,
        adminPassword: ADMIN_PASSWORD,
        signingSecret: SIGNING_SECRET,
        redis,
        redisRequired,
      });
      const ok = await up.inject({ method: "GET", url: "/health/ready" });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "ok" } });
      await up.close();
    }
    redis.disconnect();
  });

  describe("while Redis is down", () => {
    /** A Redis client for a port in this project's range where nothing listens. */
    const deadRedis = () => {
      const redis = new Redis("redis://127.0.0.1:32399", {
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        lazyConnect: true,
      });
      redis.on("error", () => {});
      return redis;
    };

    it("an api stays ready, reports Redis as degraded, and still stores statements and signups", async () => {
      const redis = deadRedis();
      // Streaming mode, as in production: the api would publish each statement to the stream.
      const api = await buildApp(database, { REDIS_URL: "redis://127.0.0.1:32399" }, { redis });
      const credential = await createCredential(database.db);
      try {
        const ready = await api.inject({ method: "GET", url: "/health/ready" });
        expect(ready.statusCode).toBe(200);
        expect(ready.json()).toEqual({
          status: "degraded",
          checks: { database: "ok", redis: expect.stringMatching(/^unreachable: /) },
        });
        const stored = await api.inject({
          method: "POST",
          url: "/xapi/statements",
          headers: credential.headers,
          payload: statement(),
        });
        expect(stored.statusCode).toBe(200);
        const [id] = stored.json() as string[];
        const rows = await queryRows<{ id: string }>(
          database.db,
          sql`select id from statements_raw where id = ${id}`,
        );
        expect(rows).toHaveLength(1);
        const signup = await api.inject({
          method: "POST",
          url: "/api/signup",
          payload: { name: "Ada", email: "ada-ready@example.com", avatar: "ada-ready", cohortId: "c1" },
        });
        expect(signup.statusCode).toBe(201);
      } finally {
        await api.close();
        redis.disconnect();
      }
    });

    it("a process that runs the worker or the scheduler (role all) is not ready", async () => {
      const redis = deadRedis();
      const all = await createApp({
        config: testConfig(),
        database,
        adminPassword: ADMIN_PASSWORD,
        signingSecret: SIGNING_SECRET,
        redis,
        redisRequired: true,
      });
      const failed = await all.inject({ method: "GET", url: "/health/ready" });
      expect(failed.statusCode).toBe(503);
      expect(failed.json()).toEqual({
        status: "unavailable",
        checks: { database: "ok", redis: expect.stringMatching(/^unreachable: /) },
      });
      await all.close();
      redis.disconnect();
    });

    it("a worker's metrics listener answers /health/ready 503, and 200 once Redis answers", async () => {
      const down = deadRedis();
      const live = new Redis(TEST_REDIS_URL);
      let redis: Redis = down;
      const server = await startMetricsServer(0, "127.0.0.1", () =>
        checkReadiness({ database, redis, redisRequired: true }),
      );
      try {
        const base = server.url.replace(/\/metrics$/, "");
        const notReady = await fetch(`${base}/health/ready`);
        expect(notReady.status).toBe(503);
        expect(await notReady.json()).toEqual({
          status: "unavailable",
          checks: { database: "ok", redis: expect.stringMatching(/^unreachable: /) },
        });
        redis = live;
        const ready = await fetch(`${base}/health/ready`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "ok" } });
        expect((await fetch(server.url)).status).toBe(200);
      } finally {
        await server.stop();
        down.disconnect();
        live.disconnect();
      }
    });
  });
});
