/**
 * Garbage at the xAPI endpoint: 10,000 generated invalid requests (fast-check), each answered
 * 400, 413 or 415 with a message that names the problem, none stored, no 5xx, the process alive.
 * Then the same treatment, smaller, for signup, lessons and reports. That its memory stays flat
 * under the same requests is a benchmark's to measure (`npm run bench -- bad-input`), not a test's:
 * the heap depends on the machine's load.
 */
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { queryRows } from "../src/db/client.ts";
import { adminHeaders, buildApp } from "./helpers/app.ts";
import { brokenRequest, invalidStatement } from "./helpers/badRequests.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { createCredential, statement, type TestCredential } from "./helpers/xapi.ts";

let database: TestDatabase;
let app: App;
let content: TestCredential;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database, { BODY_LIMIT: "256kb", SIGNUP_RATE_LIMIT: "100000/minute" });
  content = await createCredential(database.db);
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

async function rawCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from statements_raw`,
  );
  return row!.n;
}

describe("invalid xAPI statements", () => {
  it("answers each of 10,000 generated bad requests with 400/413/415 naming the problem, storing nothing", async () => {
    let cases = 0;
    const statuses = new Map<number, number>();
    const check = (status: number, body: string) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect([400, 413, 415]).toContain(status);
      const error = JSON.parse(body) as { error: string; message: string };
      expect(error.error).toMatch(/^[a-z_]+$/);
      expect(error.message.length).toBeGreaterThan(5);
      cases += 1;
    };
    await fc.assert(
      fc.asyncProperty(invalidStatement, async ({ body, names }) => {
        const response = await app.inject({
          method: "POST",
          url: "/xapi/statements",
          headers: { ...content.headers, "content-type": "application/json" },
          payload: JSON.stringify(body),
        });
        check(response.statusCode, response.body);
        expect(response.json().message).toContain(
          names
            .split(".")
            .at(-1)!
            .replace(/\[\d+\]$/, ""),
        );
      }),
      { numRuns: 8_000, seed: 20261127 },
    );
    await fc.assert(
      fc.asyncProperty(brokenRequest, async ({ payload, contentType }) => {
        const response = await app.inject({
          method: "POST",
          url: "/xapi/statements",
          headers: { ...content.headers, "content-type": contentType },
          payload,
        });
        check(response.statusCode, response.body);
      }),
      { numRuns: 2_000, seed: 20261127 },
    );
    expect(cases).toBe(10_000);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(await rawCount()).toBe(0);
    // Still alive and answering.
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/xapi/statements",
          headers: content.headers,
          payload: statement(),
        })
      ).statusCode,
    ).toBe(200);
  }, 300_000);
});

describe("invalid input elsewhere", () => {
  const signup = { name: "Ada", email: "ada@example.com", avatar: "ada", cohortId: "c1" };
  const lesson = {
    cohortId: "c1",
    activityId: "https://l.example.com/1",
    title: "Day 1",
    lessonDate: "2026-03-02",
  };

  it("answers 500 generated bad signups and lessons with 400 naming a field, storing nothing", async () => {
    const field = fc.constantFrom("name", "email", "avatar", "cohortId", "timezone");
    // Invalid for every one of these fields: wrong types, empty, far too long.
    const badValue = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(""),
      fc.string({ minLength: 2_100, maxLength: 2_200 }),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(field, badValue, async (key, value) => {
        const response = await app.inject({
          method: "POST",
          url: "/api/signup",
          payload: { ...signup, [key]: value },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json().details.some((detail: { field: string }) => detail.field === key)).toBe(true);
      }),
      { numRuns: 250, seed: 1 },
    );
    const lessonField = fc.constantFrom("cohortId", "activityId", "title", "url", "lessonDate");
    await fc.assert(
      fc.asyncProperty(lessonField, badValue, async (key, value) => {
        const response = await app.inject({
          method: "POST",
          url: "/api/lessons",
          headers: adminHeaders,
          payload: { ...lesson, [key]: value },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json().details.some((detail: { field: string }) => detail.field === key)).toBe(true);
      }),
      { numRuns: 250, seed: 2 },
    );
    const [counts] = await queryRows<{ users: number; lessons: number }>(
      database.db,
      sql`select (select count(*)::int from users) as users, (select count(*)::int from lessons) as lessons`,
    );
    expect(counts).toEqual({ users: 0, lessons: 0 });
  }, 120_000);

  it("answers bad report and debug parameters with 400 or 404, never 5xx", async () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.constantFrom(
        "'; drop table users; --",
        "%00",
        "../../etc/passwd",
        "-1",
        "1e309",
        "00000000-0000-0000-0000-00000000000g",
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          (v: string) => `/api/reports/cohorts/${encodeURIComponent(v)}/completions`,
          (v: string) => `/api/reports/cohorts/c1/completions?from=${encodeURIComponent(v)}`,
          (v: string) => `/api/reports/cohorts/c1/completions?limit=${encodeURIComponent(v)}`,
          (v: string) => `/api/reports/lessons/${encodeURIComponent(v)}/incomplete`,
          (v: string) => `/api/debug/raw-json/${encodeURIComponent(v)}`,
          (v: string) => `/api/debug/reminder-preview?at=${encodeURIComponent(v)}`,
          (v: string) => `/api/debug/recent-completions?limit=${encodeURIComponent(v)}`,
        ),
        junk,
        async (url, value) => {
          const response = await app.inject({ method: "GET", url: url(value), headers: adminHeaders });
          expect(response.statusCode).toBeLessThan(500);
          expect(
            response.statusCode === 200 || response.statusCode === 400 || response.statusCode === 404,
          ).toBe(true);
        },
      ),
      { numRuns: 300, seed: 3 },
    );
    const [users] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from users`);
    expect(users!.n).toBe(0);
  }, 120_000);
});

describe("out-of-range numbers and dates", () => {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  /** Calendar-valid dates whose year is outside 1900–2999: PostgreSQL cannot store some, none is sane. */
  const outOfRangeDate = fc
    .tuple(
      fc.oneof(fc.integer({ min: 0, max: 1899 }), fc.integer({ min: 3000, max: 99_999 })),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
    )
    .map(([year, month, day]) => `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`);
  const outOfRangeDateTime = fc
    .tuple(outOfRangeDate, fc.constantFrom("Z", "+00:00", "-05:00", "+14:00", ".123Z"))
    .map(([date, zone]) => `${date}T12:00:00${zone}`);
  /** Just outside the range, by its edges' offsets. */
  const edgeInstants = fc.constantFrom(
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:30:00+01:00",
    "2999-12-31T23:00:00-05:00",
    "3000-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
  );
  /** Counts no list accepts: beyond 10^9 (PostgreSQL's bigint, JavaScript's safe integers), or negative. */
  const hugeNumber = fc.oneof(
    fc.constantFrom("1e20", "1e309", "9007199254740993", "1000000001", "2147483648", "-1", "-1e20"),
    fc.bigInt({ min: 10n ** 9n + 1n, max: 10n ** 40n }).map(String),
    fc.double({ min: 1e10, max: 1e300, noNaN: true }).map((x) => x.toExponential()),
  );
  type Case = { method: "GET" | "POST"; url: string; payload?: object; field: string };

  it("answers every route's numbers and dates out of range with 400 naming the parameter", async () => {
    const created = await app.inject({
      method: "POST",
      url: "/api/lessons",
      headers: adminHeaders,
      payload: {
        cohortId: "c1",
        activityId: "https://l.example.com/range",
        title: "Range",
        lessonDate: "2026-03-02",
      },
    });
    expect(created.statusCode).toBe(201);
    const lessonId = created.json().id as string;
    const query = (path: string, field: string) => (value: string) =>
      ({
        method: "GET",
        url: `${path}${path.includes("?") ? "&" : "?"}${field}=${encodeURIComponent(value)}`,
        field,
      }) as Case;
    const numberCases = [
      ...["limit", "offset"].flatMap((field) => [
        query("/api/users", field),
        query("/api/lessons", field),
        query("/api/reports/cohorts/c1/completions", field),
        query("/api/reports/cohorts/c1/completions?format=csv", field),
        query(`/api/reports/lessons/${lessonId}/incomplete`, field),
      ]),
      query("/api/debug/recent-completions", "limit"),
      (value: string) =>
        ({
          method: "POST",
          url: "/api/debug/query",
          payload: { name: "recent-statements", params: { limit: Number(value) } },
          field: "params.limit",
        }) as Case,
    ];
    const dateCases = [
      query("/api/lessons", "lessonDate"),
      query("/api/reports/cohorts/c1/completions", "from"),
      query("/api/reports/cohorts/c1/completions", "to"),
      query("/api/reports/cohorts/c1/completions?format=csv", "to"),
      (value: string) =>
        ({
          method: "POST",
          url: "/api/lessons",
          payload: {
            cohortId: "c1",
            activityId: `https://l.example.com/${value}`,
            title: "Far",
            lessonDate: value,
          },
          field: "lessonDate",
        }) as Case,
      (value: string) =>
        ({
          method: "POST",
          url: "/api/debug/query",
          payload: { name: "incomplete-learners-for-date", params: { date: value } },
          field: "params.date",
        }) as Case,
    ];
    const dateTimeCases = [
      query("/api/reports/cohorts/c1/completions", "from"),
      query("/api/reports/cohorts/c1/completions", "to"),
      query("/api/debug/reminder-preview", "at"),
      (value: string) =>
        ({
          method: "POST",
          url: "/api/tasks/daily-reminders/run",
          payload: { at: value, dryRun: true },
          field: "at",
        }) as Case,
    ];
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom(...numberCases), hugeNumber).map(([make, value]) => make(value)),
      fc.tuple(fc.constantFrom(...dateCases), outOfRangeDate).map(([make, value]) => make(value)),
      fc
        .tuple(fc.constantFrom(...dateTimeCases), fc.oneof(outOfRangeDateTime, edgeInstants))
        .map(([make, value]) => make(value)),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ method, url, payload, field }) => {
        const response = await app.inject({
          method,
          url,
          headers: adminHeaders,
          ...(payload ? { payload } : {}),
        });
        expect(response.statusCode, `${method} ${url} ${JSON.stringify(payload ?? "")}`).toBe(400);
        const body = response.json() as { error: string; message: string; details: { field: string }[] };
        expect(body.error).toBe("validation_error");
        expect(body.details.map((detail) => detail.field)).toContain(field);
        expect(body.message).toContain(field);
      }),
      { numRuns: 400, seed: 4 },
    );
    // The edges themselves are accepted, and nothing out of range was stored.
    for (const url of [
      "/api/lessons?lessonDate=1900-01-01&offset=1000000000",
      "/api/reports/cohorts/c1/completions?from=1900-01-01&to=2999-12-31",
      "/api/reports/cohorts/c1/completions?from=1900-01-01T00:00:00Z&to=2999-12-31T23:59:59Z",
      "/api/debug/reminder-preview?at=2999-12-31T23:59:59Z",
    ]) {
      expect((await app.inject({ method: "GET", url, headers: adminHeaders })).statusCode, url).toBe(200);
    }
    const [lessons] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from lessons`,
    );
    expect(lessons!.n).toBe(1);
  }, 120_000);

  it("the Reminders page refuses an instant out of range, showing now instead", async () => {
    for (const at of ["0000-01-01", "3000-01-01T00:00:00Z", "-271821-04-20"]) {
      const page = await app.inject({
        method: "GET",
        url: `/ui/test-reminders?at=${encodeURIComponent(at)}`,
        headers: adminHeaders,
      });
      expect(page.statusCode).toBe(400);
      expect(page.body).toContain("is not an instant from 1900-01-01 to 2999-12-31");
    }
  });
});
