/**
 * Floods of wrong credentials (issue #11, findings 3 and 4) on the real app and PostgreSQL:
 * failures are counted before the expensive check, so parallel guessing gets no further than
 * sequential guessing; the admin password is limited over HTTP Basic and Bearer as on the login
 * form; the right credential from elsewhere keeps working. Latency under a flood is measured by
 * `npm run bench -- floods`, not here.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { FailureLimiter, XAPI_FAILURE_LIMITS } from "../src/auth/failureLimiter.ts";
import { WorkGate } from "../src/auth/workGate.ts";
import { apiCredentials } from "../src/db/schema.ts";
import { ServerBusy, TooManyFailures, Unauthorized } from "../src/errors.ts";
import { metrics } from "../src/metrics.ts";
import { CredentialVerifier } from "../src/xapi/credentials.ts";
import { ADMIN_PASSWORD, buildApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { basic, createCredential, statement, type TestCredential } from "./helpers/xapi.ts";

let database: TestDatabase;
let app: App;
let content: TestCredential;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database);
  content = await createCredential(database.db, { name: "flooded course" });
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

const secretChecks = async () => (await metrics.xapiSecretChecks.get()).values[0]?.value ?? 0;

function postStatement(headers: Record<string, string>, remoteAddress: string) {
  return app.inject({
    method: "POST",
    url: "/xapi/statements",
    headers,
    payload: statement(),
    remoteAddress,
  });
}

const xapiHeaders = (authorization: string) => ({ authorization, "x-experience-api-version": "1.0.3" });

function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe("xAPI logins under a flood", () => {
  it("answers 60 parallel wrong secrets from one address with at most 20 401s and 429s after, running at most 20 scrypt checks", async () => {
    const checksBefore = await secretChecks();
    const flood = Array.from({ length: 60 }, (_, i) =>
      postStatement(xapiHeaders(basic(content.key, `wrong-secret-${i}`)), "10.3.0.1"),
    );
    // Meanwhile: the right credential from another address, and liveness.
    const other = postStatement(content.headers, "10.3.0.2");
    const health = app.inject({ method: "GET", url: "/health" });
    const responses = await Promise.all(flood);
    expect(tally(responses.map((response) => response.statusCode))).toEqual({ 401: 20, 429: 40 });
    expect((await secretChecks()) - checksBefore).toBeLessThanOrEqual(21); // 20 guesses + the right one
    const limited = responses.find((response) => response.statusCode === 429)!;
    expect(limited.json()).toMatchObject({ error: "rate_limited" });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect((await other).statusCode).toBe(200);
    expect((await health).statusCode).toBe(200);
    // The address stays limited, even with the right secret; another one is not.
    expect((await postStatement(content.headers, "10.3.0.1")).statusCode).toBe(429);
    expect((await postStatement(content.headers, "10.3.0.3")).statusCode).toBe(200);
  });

  it("shares one check among parallel requests with the same wrong secret, and still answers at most 20 of them 401", async () => {
    const checksBefore = await secretChecks();
    const wrong = xapiHeaders(basic(content.key, "the-same-wrong-secret"));
    const responses = await Promise.all(Array.from({ length: 60 }, () => postStatement(wrong, "10.3.1.1")));
    expect(tally(responses.map((response) => response.statusCode))).toEqual({ 401: 20, 429: 40 });
    expect((await secretChecks()) - checksBefore).toBeLessThanOrEqual(20);
  });

  it("lets a burst of right requests from one address through on one check, without using up its failures", async () => {
    const fresh = await createCredential(database.db, { name: "a busy class" });
    const checksBefore = await secretChecks();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => postStatement(fresh.headers, "10.3.2.1")),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(50).fill(200));
    expect((await secretChecks()) - checksBefore).toBe(1);
    // All 20 failures are still there for it.
    const wrong = [];
    for (let i = 0; i < 20; i++) {
      wrong.push((await postStatement(xapiHeaders(basic(fresh.key, `nope-${i}`)), "10.3.2.1")).statusCode);
    }
    expect(wrong).toEqual(Array(20).fill(401));
  });

  it("counts missing and malformed credentials too", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await postStatement({ "x-experience-api-version": "1.0.3" }, "10.3.3.1")).statusCode);
    }
    expect(tally(statuses)).toEqual({ 401: 20, 429: 1 });
  });
});

describe("CredentialVerifier", () => {
  it("stops accepting a remembered secret within 5 s of its revocation elsewhere, confirming it without scrypt", async () => {
    let now = 1_000_000;
    const verifier = new CredentialVerifier(database.db, { now: () => now });
    const key = await createCredential(database.db, { name: "to be revoked" });
    const header = key.headers.authorization!;
    expect((await verifier.authenticate(header, "10.4.0.1")).key).toBe(key.key);
    const checksBefore = await secretChecks();
    now += 5_000;
    // Confirmed by reading its row again: no scrypt.
    expect((await verifier.authenticate(header, "10.4.0.1")).key).toBe(key.key);
    expect(await secretChecks()).toBe(checksBefore);
    // Revoked now on the verifier's clock (a revoked_at still ahead of it would be an expiry).
    await database.db
      .update(apiCredentials)
      .set({ revokedAt: new Date(now) })
      .where(eq(apiCredentials.id, key.id));
    now += 4_999;
    // Within the 5 s: still remembered (this is the bound on a revocation made by another process).
    expect((await verifier.authenticate(header, "10.4.0.1")).key).toBe(key.key);
    now += 1;
    await expect(verifier.authenticate(header, "10.4.0.1")).rejects.toBeInstanceOf(Unauthorized);
    await expect(verifier.authenticate(header, "10.4.0.2")).rejects.toBeInstanceOf(Unauthorized);
  });

  it("takes a credential whose revoked_at is ahead until that instant, remembered or not", async () => {
    let now = 2_000_000;
    const verifier = new CredentialVerifier(database.db, { now: () => now });
    const key = await createCredential(database.db, { name: "expires" });
    await database.db
      .update(apiCredentials)
      .set({ revokedAt: new Date(now + 3_000) })
      .where(eq(apiCredentials.id, key.id));
    const header = key.headers.authorization!;
    expect((await verifier.authenticate(header, "10.4.3.1")).key).toBe(key.key);
    now += 2_999;
    expect((await verifier.authenticate(header, "10.4.3.1")).key).toBe(key.key);
    now += 1;
    await expect(verifier.authenticate(header, "10.4.3.1")).rejects.toBeInstanceOf(Unauthorized);
  });

  it("forgets every remembered secret at once in the process that revokes", async () => {
    const verifier = new CredentialVerifier(database.db);
    const key = await createCredential(database.db);
    await verifier.authenticate(key.headers.authorization, "10.4.1.1");
    await database.db
      .update(apiCredentials)
      .set({ revokedAt: new Date() })
      .where(eq(apiCredentials.id, key.id));
    verifier.forget();
    await expect(verifier.authenticate(key.headers.authorization, "10.4.1.1")).rejects.toBeInstanceOf(
      Unauthorized,
    );
  });

  it("does not take a remembered key with another secret", async () => {
    const verifier = new CredentialVerifier(database.db);
    const key = await createCredential(database.db);
    await verifier.authenticate(key.headers.authorization, "10.4.2.1");
    await expect(verifier.authenticate(basic(key.key, `${key.secret}x`), "10.4.2.1")).rejects.toBeInstanceOf(
      Unauthorized,
    );
  });

  it("answers 503 at once beyond the checks its gate may queue, and gives the attempt back", async () => {
    const limiter = new FailureLimiter(XAPI_FAILURE_LIMITS);
    const verifier = new CredentialVerifier(database.db, {
      limiter,
      gate: new WorkGate({ concurrency: 1, queueLimit: 2 }),
    });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        verifier.authenticate(basic(content.key, `guess-${i}`), "10.4.3.1").catch((error: unknown) => error),
      ),
    );
    const kinds = tally(
      outcomes.map((outcome) =>
        outcome instanceof ServerBusy ? 503 : outcome instanceof Unauthorized ? 401 : 0,
      ),
    );
    expect(kinds).toEqual({ 401: 3, 503: 5 });
    expect((outcomes.find((outcome) => outcome instanceof ServerBusy) as ServerBusy).retryAfterS).toBe(1);
    // Only the 3 checked guesses were counted: 17 are left for this address.
    for (let i = 0; i < 17; i++) {
      await expect(verifier.authenticate(basic(content.key, `more-${i}`), "10.4.3.1")).rejects.toBeInstanceOf(
        Unauthorized,
      );
    }
    await expect(verifier.authenticate(basic(content.key, "one-more"), "10.4.3.1")).rejects.toBeInstanceOf(
      TooManyFailures,
    );
  });
});

describe("admin password guessing", () => {
  const adminBasic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
  const adminRequest = (authorization: string, remoteAddress: string, target = app) =>
    target.inject({ method: "GET", url: "/api/lessons", headers: { authorization }, remoteAddress });

  it.each([
    ["HTTP Basic", adminBasic],
    ["Bearer", (password: string) => `Bearer ${password}`],
  ])(
    "ends 100 guesses over %s in 429 with Retry-After, while the password works from another address",
    async (scheme, header) => {
      const address = scheme === "Bearer" ? "10.5.0.2" : "10.5.0.1";
      const guesses = Array.from({ length: 100 }, (_, i) =>
        adminRequest(header(`guess-${i}-password`), address),
      );
      const rightOne = adminRequest(header(ADMIN_PASSWORD), "10.5.1.1");
      const responses = await Promise.all(guesses);
      expect(tally(responses.map((response) => response.statusCode))).toEqual({ 401: 10, 429: 90 });
      const limited = responses.find((response) => response.statusCode === 429)!;
      expect(limited.json()).toMatchObject({
        error: "rate_limited",
        message: expect.stringContaining("try again"),
      });
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(14 * 60);
      expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(15 * 60);
      expect((await rightOne).statusCode).toBe(200);
      // The guessing address is refused even with the password.
      expect((await adminRequest(header(ADMIN_PASSWORD), address)).statusCode).toBe(429);
    },
  );

  it("shares its count with the login form", async () => {
    for (let i = 0; i < 10; i++) {
      expect((await adminRequest(adminBasic(`basic-guess-${i}`), "10.5.2.1")).statusCode).toBe(401);
    }
    const form = await app.inject({ method: "GET", url: "/ui/login", remoteAddress: "10.5.2.1" });
    const nonce = /cohort_lrs_login=([^;]+)/.exec(String(form.headers["set-cookie"]))![1]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const login = await app.inject({
      method: "POST",
      url: "/ui/login",
      remoteAddress: "10.5.2.1",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `cohort_lrs_login=${nonce}` },
      payload: new URLSearchParams({ password: ADMIN_PASSWORD, _csrf: csrf }).toString(),
    });
    expect(login.statusCode).toBe(429);
    expect(login.headers["retry-after"]).toBeTruthy();
  });

  it("limits the account when guesses come from many addresses, except where the operator logged in before", async () => {
    const fresh = await buildApp(database);
    try {
      expect((await adminRequest(adminBasic(ADMIN_PASSWORD), "10.6.0.1", fresh)).statusCode).toBe(200);
      const guesses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          adminRequest(adminBasic(`spread-guess-${i}`), `10.7.${Math.floor(i / 200)}.${i % 200}`, fresh),
        ),
      );
      expect(guesses.every((response) => response.statusCode === 401)).toBe(true);
      const newcomer = await adminRequest(adminBasic(ADMIN_PASSWORD), "10.8.0.1", fresh);
      expect(newcomer.statusCode).toBe(429);
      expect(newcomer.json()).toMatchObject({ error: "rate_limited" });
      expect((await adminRequest(`Bearer ${ADMIN_PASSWORD}`, "10.6.0.1", fresh)).statusCode).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it("counts nothing for a request without credentials", async () => {
    for (let i = 0; i < 15; i++) {
      const response = await app.inject({ method: "GET", url: "/api/lessons", remoteAddress: "10.5.3.1" });
      expect(response.statusCode).toBe(401);
    }
    expect((await adminRequest(adminBasic(ADMIN_PASSWORD), "10.5.3.1")).statusCode).toBe(200);
  });
});
