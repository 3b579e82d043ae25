import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, adminHeaders, buildApp } from "../../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "../../../test/helpers/db.ts";
import type { App } from "../../app.ts";
import { createLesson } from "../../commands/createLesson.ts";
import { signUp } from "../../commands/signUp.ts";
import { logTaskStatus } from "../../data/taskStatus.ts";
import { queryRows } from "../../db/client.ts";

let database: TestDatabase;
let app: App;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database);
});
afterAll(async () => {
  await app.close();
  await database.drop();
});
beforeEach(() => truncateAll(database));

function runQuery(body: unknown, headers: Record<string, string> = adminHeaders) {
  return app.inject({ method: "POST", url: "/api/debug/query", headers, payload: body as object });
}

async function seed() {
  await signUp(database.db, { name: "Ada", email: "ada@example.com", avatar: "ada", cohortId: "c1" });
  await createLesson(database.db, {
    cohortId: "c1",
    activityId: "https://lessons.example.com/day-1",
    title: "Day 1",
    lessonDate: "2026-03-02",
  });
  await logTaskStatus(database.db, "incremental-etl", "succeeded", { flattened: 0 });
}

describe("admin only", () => {
  it.each([
    ["GET", "/api/debug/queries"],
    ["POST", "/api/debug/query"],
  ] as const)("%s %s answers 401 without the admin login", async (method, url) => {
    const response = await app.inject({
      method,
      url,
      ...(method === "POST" ? { payload: { name: "etl-backlog" } } : {}),
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: "unauthorized", requestId: expect.any(String) });
  });

  it("answers 401 to a wrong password and before reading the body", async () => {
    const wrong = { authorization: `Bearer not-${ADMIN_PASSWORD}` };
    expect((await runQuery({ name: "etl-backlog" }, wrong)).statusCode).toBe(401);
    const response = await app.inject({
      method: "POST",
      url: "/api/debug/query",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(401);
  });

  it("registers both routes as admin routes", () => {
    expect(app.routeTable).toEqual(
      expect.arrayContaining([
        { method: "GET", url: "/api/debug/queries", auth: "admin" },
        { method: "POST", url: "/api/debug/query", auth: "admin" },
      ]),
    );
  });
});

describe("GET /api/debug/queries", () => {
  it("lists the descriptors, without SQL", async () => {
    const response = await app.inject({ method: "GET", url: "/api/debug/queries", headers: adminHeaders });
    expect(response.statusCode).toBe(200);
    const { items } = response.json();
    expect(items.map((item: { name: string }) => item.name)).toEqual([
      "recent-statements",
      "learner-flat-rows",
      "completions-by-lesson",
      "incomplete-learners-for-date",
      "notifications-by-status",
      "task-runs",
      "etl-backlog",
    ]);
    expect(items[0]).toEqual({
      name: "recent-statements",
      title: "Recent statements",
      description: expect.any(String),
      params: [
        {
          name: "limit",
          type: "integer",
          required: false,
          default: 50,
          min: 1,
          max: 500,
          description: expect.any(String),
        },
      ],
    });
    expect(items.find((item: { name: string }) => item.name === "learner-flat-rows").requireOneOf).toEqual([
      "email",
      "avatar",
    ]);
    expect(
      items.find((item: { name: string }) => item.name === "notifications-by-status").params[0].values,
    ).toEqual(["pending", "sending", "sent", "failed", "skipped", "unconfirmed"]);
    expect(response.body).not.toMatch(/select /i);
  });
});

describe("POST /api/debug/query", () => {
  it("runs a query and answers columns, rows, truncated and ms", async () => {
    await seed();
    const response = await runQuery({ name: "completions-by-lesson", params: { cohortId: "c1" } });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      columns: ["lesson_id", "lesson_date", "title", "activity_id", "learners", "completed", "incomplete"],
      rows: [[expect.any(String), "2026-03-02", "Day 1", "https://lessons.example.com/day-1", 1, 0, 1]],
      truncated: false,
      ms: expect.any(Number),
    });
  });

  it("runs a query without params, with their defaults", async () => {
    await seed();
    const tasks = await runQuery({ name: "task-runs" });
    expect(tasks.statusCode).toBe(200);
    const { columns, rows } = tasks.json();
    const row = Object.fromEntries(columns.map((column: string, i: number) => [column, rows[0][i]]));
    expect(row).toMatchObject({
      task_name: "incremental-etl",
      status: "succeeded",
      detail: { flattened: 0 },
    });
    expect(row.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const backlog = await runQuery({ name: "etl-backlog", params: {} });
    expect(backlog.json().rows).toEqual([[0, 0, 0, null, null, null, null]]);
  });

  it("answers 400 unknown_query naming the query", async () => {
    const response = await runQuery({ name: "drop-everything" });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: "unknown_query",
      message: expect.stringContaining('"drop-everything"'),
      requestId: expect.any(String),
      details: [{ field: "name", message: "is not a prebuilt query" }],
    });
  });

  it.each([
    [
      "an unknown parameter",
      { name: "recent-statements", params: { limit: 5, where: "1=1" } },
      "params.where",
    ],
    ["an integer sent as a string", { name: "recent-statements", params: { limit: "5" } }, "params.limit"],
    ["an integer out of range", { name: "recent-statements", params: { limit: 100_000 } }, "params.limit"],
    ["a bad date", { name: "incomplete-learners-for-date", params: { date: "2026-13-01" } }, "params.date"],
    ["a missing required parameter", { name: "incomplete-learners-for-date", params: {} }, "params.date"],
    ["a bad enum value", { name: "notifications-by-status", params: { status: "lost" } }, "params.status"],
    ["an oversize string", { name: "task-runs", params: { taskName: "x".repeat(201) } }, "params.taskName"],
    [
      "a bad uuid",
      { name: "notifications-by-status", params: { status: "sent", lessonId: "1" } },
      "params.lessonId",
    ],
    ["neither email nor avatar", { name: "learner-flat-rows", params: {} }, "params"],
    ["params that are not an object", { name: "recent-statements", params: [50] }, "params"],
    ["a body without a name", { params: {} }, "name"],
    ["SQL in the body", { name: "recent-statements", sql: "select * from users" }, "sql"],
  ])("answers 400 validation_error for %s, naming the field", async (_, body, field) => {
    const response = await runQuery(body);
    expect(response.statusCode).toBe(400);
    const json = response.json();
    expect(json).toMatchObject({ error: "validation_error", requestId: expect.any(String) });
    expect(json.message).toContain(field);
    expect(json.details.map((detail: { field: string }) => detail.field)).toContain(field);
  });

  it("treats SQL in a string parameter as data", async () => {
    await seed();
    for (const taskName of [
      "'; drop table users; --",
      "x'; select pg_sleep(10); --",
      "$$ delete from users $$",
    ]) {
      const started = Date.now();
      const response = await runQuery({ name: "task-runs", params: { taskName } });
      expect(response.statusCode).toBe(200);
      expect(response.json().rows).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3_000);
    }
    const [users] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from users`);
    expect(users?.n).toBe(1);
  });

  it("documents the endpoints in the OpenAPI document", async () => {
    const document = app.swagger() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
    };
    const post = document.paths["/api/debug/query"]?.post;
    expect(post?.responses).toHaveProperty("200");
    expect(post?.responses).toHaveProperty("422");
    expect(JSON.stringify(post?.responses["200"])).toContain("truncated");
    expect(post?.security).toEqual([{ adminBasic: [] }, { adminBearer: [] }]);
    expect(document.paths["/api/debug/queries"]?.get?.responses).toHaveProperty("200");
  });
});
