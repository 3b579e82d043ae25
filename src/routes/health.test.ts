import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, buildApp, SIGNING_SECRET, testConfig } from "../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/db.ts";
import { TEST_REDIS_URL } from "../../test/services.ts";
import { openPostgres } from "../db/client.ts";
import { createApp } from "../http/app.ts";

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

  it("checks Redis when it is configured, and names it when it fails", async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const up = await createApp({
      config: testConfig(),
      database,
      adminPassword: ADMIN_PASSWORD,
      signingSecret: SIGNING_SECRET,
      redis,
    });
    const ok = await up.inject({ method: "GET", url: "/health/ready" });
    expect(ok.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "ok" } });
    await up.close();
    redis.disconnect();

    const deadRedis = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    deadRedis.on("error", () => {});
    const down = await createApp({
      config: testConfig(),
      database,
      adminPassword: ADMIN_PASSWORD,
      signingSecret: SIGNING_SECRET,
      redis: deadRedis,
    });
    const failed = await down.inject({ method: "GET", url: "/health/ready" });
    expect(failed.statusCode).toBe(503);
    expect(failed.json().checks).toMatchObject({
      database: "ok",
      redis: expect.stringMatching(/^unreachable: /),
    });
    await down.close();
    deadRedis.disconnect();
  });
});
