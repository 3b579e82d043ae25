import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { buildApp, useTestApp } from "../../../test/helpers/app.ts";
import { queryRows } from "../../db/client.ts";

const harness = useTestApp();

const ada = { name: "Ada Lovelace", email: "Ada@Example.com", avatar: "ada_l", cohortId: "2026-spring" };

function signup(body: unknown) {
  return harness.app.inject({ method: "POST", url: "/api/signup", payload: body as object });
}

async function userCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    harness.database.db,
    sql`select count(*)::int as n from users`,
  );
  return row!.n;
}

describe("POST /api/signup", () => {
  it("creates the learner and answers 201 with the public fields only", async () => {
    const response = await signup({ ...ada, timezone: "europe/berlin" });
    expect(response.statusCode).toBe(201);
    const user = response.json();
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "Ada Lovelace",
      email: "ada@example.com",
      avatar: "ada_l",
      cohortId: "2026-spring",
      timezone: "Europe/Berlin",
      createdAt: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(user.createdAt))).toBe(false);
    expect(user).not.toHaveProperty("remindersEnabled");
    const rows = await queryRows(
      harness.database.db,
      sql`select email, timezone, reminders_enabled from users`,
    );
    expect(rows).toEqual([{ email: "ada@example.com", timezone: "Europe/Berlin", reminders_enabled: true }]);
  });

  it("defaults the time zone to UTC", async () => {
    const response = await signup(ada);
    expect(response.json().timezone).toBe("UTC");
  });

  it.each([
    ["name", { ...ada, name: undefined }, "is required"],
    ["email", { ...ada, email: undefined }, "is required"],
    ["avatar", { ...ada, avatar: undefined }, "is required"],
    ["cohortId", { ...ada, cohortId: undefined }, "is required"],
    ["name", { ...ada, name: "" }, "must NOT have fewer than 1 characters"],
    ["name", { ...ada, name: "   " }, "must not be blank"],
    ["name", { ...ada, name: 42 }, "must be string"],
    ["email", { ...ada, email: "not-an-email" }, 'must match format "email"'],
    ["avatar", { ...ada, avatar: "Ada" }, "lower-case"],
    ["avatar", { ...ada, avatar: "ab" }, "3–32"],
    ["avatar", { ...ada, avatar: "a".repeat(33) }, "3–32"],
    ["avatar", { ...ada, avatar: "ada lovelace" }, "lower-case"],
    ["cohortId", { ...ada, cohortId: "" }, "letters, digits"],
    ["cohortId", { ...ada, cohortId: "has space" }, "letters, digits"],
    ["timezone", { ...ada, timezone: "Mars/Olympus" }, "not an IANA time zone"],
    ["cohortID", { ...ada, cohortID: "x" }, "is not a known property"],
  ])("rejects a bad %s with 400 validation_error naming the field", async (field, body, fragment) => {
    const response = await signup(body);
    expect(response.statusCode).toBe(400);
    const error = response.json();
    expect(error.error).toBe("validation_error");
    expect(error.requestId).toBeTruthy();
    expect(error.message).toContain(field);
    expect(error.details).toContainEqual({ field, message: expect.stringContaining(fragment) });
    expect(await userCount()).toBe(0);
  });

  it("rejects a body that is not an object", async () => {
    const response = await signup([ada]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe("validation_error");
  });

  it("answers 400 avatar_taken for a duplicate avatar and keeps the first learner", async () => {
    expect((await signup(ada)).statusCode).toBe(201);
    const response = await signup({ ...ada, email: "other@example.com", name: "Someone Else" });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: "avatar_taken",
      message: expect.stringContaining("ada_l"),
    });
    const rows = await queryRows(harness.database.db, sql`select name from users`);
    expect(rows).toEqual([{ name: "Ada Lovelace" }]);
  });

  it("answers 400 email_taken for the same email in another case", async () => {
    expect((await signup(ada)).statusCode).toBe(201);
    const response = await signup({ ...ada, avatar: "ada_2", email: "ADA@EXAMPLE.COM" });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe("email_taken");
    expect(await userCount()).toBe(1);
  });

  it("lets exactly one of many concurrent signups with one avatar through", async () => {
    const attempts = Array.from({ length: 12 }, (_, i) => signup({ ...ada, email: `ada${i}@example.com` }));
    const statuses = (await Promise.all(attempts)).map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 400)).toHaveLength(11);
    expect(await userCount()).toBe(1);
  });

  it("answers 400 invalid_json for malformed JSON", async () => {
    const response = await harness.app.inject({
      method: "POST",
      url: "/api/signup",
      headers: { "content-type": "application/json" },
      payload: '{"name": "Ada", ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_json", requestId: expect.any(String) });
  });

  it("answers 415 for a body that is not JSON", async () => {
    const response = await harness.app.inject({
      method: "POST",
      url: "/api/signup",
      headers: { "content-type": "text/plain" },
      payload: "name=Ada",
    });
    expect(response.statusCode).toBe(415);
    expect(response.json().error).toBe("unsupported_media_type");
  });

  it("answers 413 for a body over the limit, without a stack trace", async () => {
    const small = await buildApp(harness.database, { BODY_LIMIT: "2kb" });
    const response = await small.inject({
      method: "POST",
      url: "/api/signup",
      payload: { ...ada, name: "x".repeat(4096) },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({
      error: "payload_too_large",
      message: expect.stringContaining("2048"),
    });
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
    await small.close();
  });

  it("rate-limits signups per client IP with 429 rate_limited", async () => {
    const limited = await buildApp(harness.database, { SIGNUP_RATE_LIMIT: "3/minute" });
    const fromOneIp = (i: number, ip: string) =>
      limited.inject({
        method: "POST",
        url: "/api/signup",
        remoteAddress: ip,
        payload: { ...ada, avatar: `ada_${ip.replaceAll(".", "")}_${i}`, email: `${ip}.${i}@example.com` },
      });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fromOneIp(i, "10.0.0.1")).statusCode);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const limitedResponse = await fromOneIp(9, "10.0.0.1");
    expect(limitedResponse.json()).toMatchObject({ error: "rate_limited" });
    expect(limitedResponse.headers["retry-after"]).toBeTruthy();
    // Another client is not affected.
    expect((await fromOneIp(0, "10.0.0.2")).statusCode).toBe(201);
    await limited.close();
  });
});

describe("unknown routes", () => {
  it("answer 404 JSON", async () => {
    const response = await harness.app.inject({ method: "GET", url: "/api/nothing-here?x=1" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: "not_found", message: "no route GET /api/nothing-here" });
  });
});
