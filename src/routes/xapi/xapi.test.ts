import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "../../../test/helpers/db.ts";
import { basic, createCredential, statement, type TestCredential } from "../../../test/helpers/xapi.ts";
import type { App } from "../../app.ts";
import { ensureBootstrapCredential } from "../../auth/bootstrap.ts";
import { queryRows } from "../../db/client.ts";

let database: TestDatabase;
let app: App;
let content: TestCredential;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database, {
    CORS_ORIGINS: "https://lessons.example.com",
    PUBLIC_BASE_URL: "https://lrs.example.com",
  });
});
afterAll(async () => {
  await app.close();
  await database.drop();
});
beforeEach(async () => {
  await truncateAll(database);
  content = await createCredential(database.db, { name: "Storyline course" });
});

async function rawRows() {
  return queryRows<{ id: string; payload: Record<string, unknown>; credential_id: string | null }>(
    database.db,
    sql`select id, payload, credential_id from statements_raw order by seq`,
  );
}

function post(body: unknown, headers: Record<string, string> = content.headers) {
  return app.inject({ method: "POST", url: "/xapi/statements", headers, payload: body as object });
}

describe("authentication", () => {
  it.each([
    ["no credentials", {}],
    ["a wrong secret", { authorization: "" }],
    ["a bearer token", { authorization: "Bearer abc" }],
  ])("answers 401 with a Basic challenge for %s, and stores nothing", async (_, override) => {
    const headers: Record<string, string> = { "x-experience-api-version": "1.0.3", ...override };
    if (headers.authorization === "") headers.authorization = basic(content.key, "wrong-secret");
    if (!headers.authorization) delete headers.authorization;
    const response = await post(statement(), headers);
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toMatch(/^Basic realm="cohort-lrs xAPI"/);
    expect(response.headers["x-experience-api-version"]).toBeDefined();
    expect(await rawRows()).toEqual([]);
  });

  it("refuses a revoked credential", async () => {
    const revoked = await createCredential(database.db, { revoked: true });
    expect((await post(statement(), revoked.headers)).statusCode).toBe(401);
  });

  it("accepts the bootstrap credential from PUBLIC_PEM/SECRET_PEM", async () => {
    const bootstrap = await ensureBootstrapCredential(database.db, {
      bootstrapCredential: { key: "course-content", secret: "a-long-bootstrap-secret" },
      dataDir: "/nonexistent",
    });
    const response = await post(statement(), {
      authorization: basic("course-content", "a-long-bootstrap-secret"),
      "x-experience-api-version": "1.0.3",
    });
    expect(response.statusCode).toBe(200);
    expect((await rawRows())[0]!.credential_id).toBe(bootstrap.id);
  });

  it("rate-limits a client that keeps failing, with 429 and Retry-After", async () => {
    const wrong = { authorization: basic(content.key, "nope"), "x-experience-api-version": "1.0.3" };
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      statuses.push(
        (
          await app.inject({
            method: "POST",
            url: "/xapi/statements",
            headers: wrong,
            payload: statement(),
            remoteAddress: "10.9.9.9",
          })
        ).statusCode,
      );
    }
    expect(statuses.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    const limited = await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: statement(),
      remoteAddress: "10.9.9.9",
    });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBeTruthy();
    // Other clients are unaffected.
    expect((await post(statement())).statusCode).toBe(200);
  });
});

describe("scopes", () => {
  it("lets a write-only key store but not read, and a read-only key read but not store", async () => {
    const writer = await createCredential(database.db, { scopes: ["statements/write"] });
    const reader = await createCredential(database.db, { scopes: ["statements/read"] });
    const stored = await post(statement(), writer.headers);
    expect(stored.statusCode).toBe(200);
    const [id] = stored.json() as string[];
    const get = (headers: Record<string, string>) =>
      app.inject({ method: "GET", url: `/xapi/statements?statementId=${id}`, headers });
    expect((await get(reader.headers)).statusCode).toBe(200);
    const denied = await get(writer.headers);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({
      error: "insufficient_scope",
      message: expect.stringContaining("statements/read"),
    });
    expect((await post(statement(), reader.headers)).statusCode).toBe(403);
    expect(await rawRows()).toHaveLength(1);
  });
});

describe("the version header", () => {
  it.each([
    [undefined, "is required"],
    ["0.95", "is not supported"],
    ["3.0.0", "is not supported"],
  ])("answers 400 for %s", async (version, fragment) => {
    const headers: Record<string, string> = { authorization: content.headers.authorization! };
    if (version) headers["x-experience-api-version"] = version;
    const response = await post(statement(), headers);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: "unsupported_version",
      details: [{ field: "X-Experience-API-Version", message: fragment }],
    });
    expect(response.headers["x-experience-api-version"]).toBe("2.0.0");
    expect(await rawRows()).toEqual([]);
  });

  it("Communication §3.3: a request without it is refused in the version its client spoke last", async () => {
    const withoutVersion = { authorization: content.headers.authorization! };
    const refusedVersion = async () => {
      const response = await app.inject({ method: "GET", url: "/xapi/statements", headers: withoutVersion });
      expect(response.statusCode).toBe(400);
      return response.headers["x-experience-api-version"];
    };
    // A wrong secret teaches nothing: only verified requests are remembered.
    const impostor = basic(content.key, "not-the-secret");
    await app.inject({
      method: "GET",
      url: "/xapi/statements",
      headers: { authorization: impostor, "x-experience-api-version": "1.0.3" },
    });
    expect(await refusedVersion()).toBe("2.0.0");

    expect(
      (await post(statement(), { ...content.headers, "x-experience-api-version": "1.0.3" })).statusCode,
    ).toBe(200);
    expect(await refusedVersion()).toBe("1.0.3");
    expect((await post(statement(), withoutVersion)).headers["x-experience-api-version"]).toBe("1.0.3");
    const put = await app.inject({
      method: "PUT",
      url: `/xapi/statements?statementId=${randomUUID()}`,
      headers: withoutVersion,
      payload: statement(),
    });
    expect(put.statusCode).toBe(400);
    expect(put.headers["x-experience-api-version"]).toBe("1.0.3");

    await app.inject({
      method: "GET",
      url: "/xapi/statements",
      headers: { ...content.headers, "x-experience-api-version": "2.0.0" },
    });
    expect(await refusedVersion()).toBe("2.0.0");
    expect(await rawRows()).toHaveLength(1);
  });

  it.each([
    ["1.0.0", "1.0.3"],
    ["1.0.3", "1.0.3"],
    ["2.0.0", "2.0.0"],
  ])("accepts %s and answers with %s", async (sent, answered) => {
    const response = await post(statement(), { ...content.headers, "x-experience-api-version": sent });
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-experience-api-version"]).toBe(answered);
  });

  it("GET /xapi/about lists the versions without auth or version header", async () => {
    const response = await app.inject({ method: "GET", url: "/xapi/about" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ version: ["1.0.3", "2.0.0"], extensions: {} });
  });
});

describe("POST /xapi/statements", () => {
  it("stores one statement and answers 200 with its id, setting what the LRS sets", async () => {
    const before = Date.now();
    const response = await post(statement());
    expect(response.statusCode).toBe(200);
    const [id] = response.json() as string[];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = await rawRows();
    expect(row!.id).toBe(id);
    expect(row!.credential_id).toBe(content.id);
    const stored = row!.payload;
    expect(stored).toMatchObject({
      id,
      version: "1.0.0",
      authority: {
        objectType: "Agent",
        name: "Storyline course",
        account: { homePage: "https://lrs.example.com/xapi/credentials", name: content.key },
      },
    });
    expect(Date.parse(stored.stored as string)).toBeGreaterThanOrEqual(before - 5);
    expect(stored.timestamp).toBe(stored.stored);
  });

  it("keeps a given id (lower-cased), timestamp and version, and replaces a given authority", async () => {
    const id = randomUUID().toUpperCase();
    const response = await post(
      statement({
        id,
        timestamp: "2026-03-02T09:30:00+01:00",
        version: "1.0.3",
        authority: { mbox: "mailto:forged@example.com" },
      }),
    );
    expect(response.json()).toEqual([id.toLowerCase()]);
    const [row] = await rawRows();
    expect(row!.payload).toMatchObject({ timestamp: "2026-03-02T09:30:00+01:00", version: "1.0.3" });
    expect(row!.payload.authority).toMatchObject({ account: { name: content.key } });
  });

  it("stores an array in one request and answers with the ids in order", async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const response = await post([statement({ id: ids[0] }), statement(), statement({ id: ids[2] })]);
    expect(response.statusCode).toBe(200);
    const answered = response.json() as string[];
    expect(answered[0]).toBe(ids[0]);
    expect(answered[2]).toBe(ids[2]);
    expect((await rawRows()).map((row) => row.id).sort()).toEqual([...answered].sort());
  });

  it("rejects the whole request when one statement is invalid, naming its index and path", async () => {
    const response = await post([
      statement(),
      statement({ actor: { mbox: "ada@example.com" } }),
      statement(),
    ]);
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error).toBe("invalid_statement");
    expect(body.message).toContain("statement[1].actor.mbox");
    expect(body.details).toContainEqual({
      field: "statement[1].actor.mbox",
      message: expect.stringContaining("mailto:"),
    });
    expect(await rawRows()).toEqual([]);
  });

  it("names the path for a single statement", async () => {
    const response = await post(statement({ result: { score: { scaled: 1.5 } } }));
    expect(response.statusCode).toBe(400);
    expect(response.json().details[0].field).toBe("statement.result.score.scaled");
  });

  it("accepts a resent identical statement without a second row", async () => {
    const id = randomUUID();
    expect((await post(statement({ id }))).statusCode).toBe(200);
    // Verb display and activity definitions may differ (not part of the statement's identity).
    const resent = statement({
      id,
      verb: { id: "http://adlnet.gov/expapi/verbs/completed", display: { de: "abgeschlossen" } },
    });
    const again = await post(resent);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual([id]);
    expect(await rawRows()).toHaveLength(1);
  });

  it("Data §2.4.6.2: returns context activities as arrays, and accepts the single-object form again", async () => {
    const id = randomUUID();
    const course = { id: "https://lessons.example.com/course", objectType: "Activity" };
    const sent = statement({
      id,
      context: {
        contextActivities: {
          parent: course,
          category: [{ id: "https://w3id.org/xapi/cmi5/context/categories/cmi5" }],
        },
      },
    });
    expect((await post(sent)).statusCode).toBe(200);
    const read = await app.inject({
      method: "GET",
      url: `/xapi/statements?statementId=${id}`,
      headers: content.headers,
    });
    expect(read.json().context.contextActivities).toEqual({
      parent: [course],
      category: [{ id: "https://w3id.org/xapi/cmi5/context/categories/cmi5" }],
    });
    // The same statement sent again as it was first sent is the same statement, not a conflict.
    expect((await post(sent)).statusCode).toBe(200);
    expect(await rawRows()).toHaveLength(1);
  });

  it("answers 409 for a stored id with different content, storing nothing of the request", async () => {
    const id = randomUUID();
    await post(statement({ id }));
    const other = randomUUID();
    const response = await post([statement({ id: other }), statement({ id, result: { completion: false } })]);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      error: "statement_conflict",
      message: expect.stringContaining(id),
    });
    expect((await rawRows()).map((row) => row.id)).toEqual([id]);
  });

  it("answers 400 for the same id twice in one request", async () => {
    const id = randomUUID();
    const response = await post([statement({ id }), statement({ id })]);
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/statement\[1\]\.id/);
    expect(await rawRows()).toEqual([]);
  });

  it.each([
    ["an empty array", []],
    ["a string", "hello"],
    ["null", null],
  ])("answers 400 for %s", async (_, body) => {
    const response = await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...content.headers, "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(400);
    expect(await rawRows()).toEqual([]);
  });

  it("answers 413 for a body over the limit", async () => {
    const small = await buildApp(database, { BODY_LIMIT: "4kb" });
    const response = await small.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: Array.from({ length: 40 }, () => statement()),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toBe("payload_too_large");
    await small.close();
  });
});

describe("PUT /xapi/statements", () => {
  const put = (id: string | undefined, body: unknown) =>
    app.inject({
      method: "PUT",
      url: id ? `/xapi/statements?statementId=${id}` : "/xapi/statements",
      headers: content.headers,
      payload: body as object,
    });

  it("stores under the given id with 204; the same again is 204, different content 409", async () => {
    const id = randomUUID();
    const first = await put(id, statement());
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe("");
    expect((await rawRows())[0]!.id).toBe(id);
    expect((await put(id, statement())).statusCode).toBe(204);
    const conflict = await put(id, statement({ verb: { id: "http://adlnet.gov/expapi/verbs/failed" } }));
    expect(conflict.statusCode).toBe(409);
    expect(await rawRows()).toHaveLength(1);
  });

  it("answers 400 without statementId, for an id that differs, and for an array", async () => {
    expect((await put(undefined, statement())).statusCode).toBe(400);
    expect((await put("not-a-uuid", statement())).statusCode).toBe(400);
    const differs = await put(randomUUID(), statement({ id: randomUUID() }));
    expect(differs.statusCode).toBe(400);
    expect(differs.json().details).toContainEqual({
      field: "statement.id",
      message: "must equal the statementId parameter",
    });
    expect((await put(randomUUID(), [statement()])).statusCode).toBe(400);
    expect(await rawRows()).toEqual([]);
  });
});

describe("GET /xapi/statements", () => {
  const get = (query: string) =>
    app.inject({ method: "GET", url: `/xapi/statements?${query}`, headers: content.headers });

  it("returns a stored statement with Last-Modified and X-Experience-API-Consistent-Through", async () => {
    const [id] = (await post(statement())).json() as string[];
    const response = await get(`statementId=${id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id, verb: { id: "http://adlnet.gov/expapi/verbs/completed" } });
    expect(Date.parse(response.headers["last-modified"] as string)).not.toBeNaN();
    expect(Date.parse(response.headers["x-experience-api-consistent-through"] as string)).not.toBeNaN();
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    expect((await get(`statementId=${randomUUID()}`)).statusCode).toBe(404);
    expect((await get("statementId=42")).statusCode).toBe(400);
  });

  it("serves a voided statement only by voidedStatementId", async () => {
    const [target] = (await post(statement())).json() as string[];
    await post(
      statement({
        verb: { id: "http://adlnet.gov/expapi/verbs/voided", display: { "en-US": "voided" } },
        object: { objectType: "StatementRef", id: target!.toUpperCase() },
        result: undefined,
      }),
    );
    expect((await get(`statementId=${target}`)).statusCode).toBe(404);
    const voided = await get(`voidedStatementId=${target}`);
    expect(voided.statusCode).toBe(200);
    expect(voided.json().id).toBe(target);
  });
});

describe("CORS for browser content", () => {
  it("answers a preflight from an allowed origin without credentials", async () => {
    const response = await app.inject({
      method: "OPTIONS",
      url: "/xapi/statements",
      headers: {
        origin: "https://lessons.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-experience-api-version",
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe("https://lessons.example.com");
    expect(String(response.headers["access-control-allow-headers"]).toLowerCase()).toContain(
      "x-experience-api-version",
    );
    expect(String(response.headers["access-control-allow-headers"]).toLowerCase()).toContain("authorization");
  });

  it("exposes the xAPI headers on responses, and refuses other origins", async () => {
    const response = await post(statement(), { ...content.headers, origin: "https://lessons.example.com" });
    expect(String(response.headers["access-control-expose-headers"])).toContain(
      "X-Experience-API-Consistent-Through",
    );
    const other = await post(statement(), { ...content.headers, origin: "https://evil.example" });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
