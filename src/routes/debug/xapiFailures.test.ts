/**
 * The log of refused xAPI requests through HTTP: every 4xx/5xx under /xapi recorded with what an
 * operator needs and no secret, the JSON route and its filters, the page, the dashboard count,
 * the Prometheus counter, and a log that cannot write leaving every answer as it was.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHeaders, buildApp, useTestApp } from "../../../test/helpers/app.ts";
import { DATABASE_KINDS, type OpenedDatabase, openTestDatabase } from "../../../test/helpers/db.ts";
import { ACTIVITY, ADA, query } from "../../../test/helpers/documents.ts";
import { basic, createCredential, statement, type TestCredential } from "../../../test/helpers/xapi.ts";
import type { App } from "../../app.ts";
import { queryRows } from "../../db/client.ts";
import { metrics } from "../../metrics.ts";

const harness = useTestApp({ BODY_LIMIT: "64kb" });
const WRONG_SECRET = "wrong-secret-0123456789";

/** Sends xAPI requests that are refused, one of each kind; returns what each answered. */
async function refusals(app: App, content: TestCredential) {
  const v = { "x-experience-api-version": "1.0.3" };
  const json = { "content-type": "application/json" };
  const id = randomUUID();
  await app.inject({
    method: "PUT",
    url: `/xapi/statements?statementId=${id}`,
    headers: { ...content.headers, ...json },
    payload: statement(),
  });
  const longInvalid = [
    statement({ actor: { name: "nobody" } }),
    ...Array.from({ length: 20 }, () => statement()),
  ];
  const requests: Record<string, InjectOptions> = {
    wrongSecret: {
      method: "POST",
      url: "/xapi/statements",
      headers: { authorization: basic(content.key, WRONG_SECRET), ...v, ...json },
      payload: statement(),
    },
    noVersion: {
      method: "GET",
      url: "/xapi/statements?limit=1",
      headers: { authorization: content.headers.authorization! },
    },
    invalidStatement: {
      method: "POST",
      url: "/xapi/statements",
      headers: { ...content.headers, ...json },
      payload: JSON.stringify(longInvalid),
    },
    invalidJson: {
      method: "POST",
      url: "/xapi/statements",
      headers: { ...content.headers, ...json },
      payload: Buffer.from([0x7b, 0x22, 0x61, 0x00, 0xff, 0x22]),
    },
    unknownPath: { method: "GET", url: "/xapi/statementz", headers: content.headers },
    conflict: {
      method: "PUT",
      url: `/xapi/statements?statementId=${id}`,
      headers: { ...content.headers, ...json },
      payload: statement({ verb: { id: "http://adlnet.gov/expapi/verbs/attempted" } }),
    },
    precondition: {
      method: "PUT",
      url: `/xapi/activities/state${query({ activityId: ACTIVITY, agent: ADA, stateId: "bookmark" })}`,
      headers: { ...content.headers, "content-type": "text/plain", "if-match": '"0000"' },
      payload: "slide-7",
    },
    tooLarge: {
      method: "POST",
      url: "/xapi/statements",
      headers: { ...content.headers, ...json },
      payload: JSON.stringify([statement({ result: { response: "x".repeat(70_000) } })]),
    },
  };
  const answers: Record<string, { status: number; body: Record<string, unknown> }> = {};
  for (const [name, request] of Object.entries(requests)) {
    const response = await app.inject(request);
    const { requestId: _, ...body } = response.json();
    answers[name] = { status: response.statusCode, body };
  }
  return { answers, longInvalid: JSON.stringify(longInvalid) };
}

async function failures(app: App, search = "") {
  const response = await app.inject({
    method: "GET",
    url: `/api/debug/xapi-failures${search}`,
    headers: adminHeaders,
  });
  return response;
}

const counted = async (status: string, code: string) =>
  (await metrics.xapiFailedRequests.get()).values.find(
    (v) => v.labels.status === status && v.labels.code === code,
  )?.value ?? 0;

describe("recording refused xAPI requests", () => {
  it("records each with time, credential, route, status, code, message and the body's first KiB, and no secret", async () => {
    const { app, database } = harness;
    const content = await createCredential(database.db, { name: "Storyline course" });
    const unauthorizedBefore = await counted("401", "unauthorized");
    const started = Date.now();
    const { answers, longInvalid } = await refusals(app, content);
    expect(Object.fromEntries(Object.entries(answers).map(([name, a]) => [name, a.status]))).toEqual({
      wrongSecret: 401,
      noVersion: 400,
      invalidStatement: 400,
      invalidJson: 400,
      unknownPath: 404,
      conflict: 409,
      precondition: 412,
      tooLarge: 413,
    });
    // A request that succeeds is not recorded.
    const ok = await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...content.headers, "content-type": "application/json" },
      payload: statement(),
    });
    expect(ok.statusCode).toBe(200);

    const response = await failures(app, "?limit=100");
    expect(response.statusCode).toBe(200);
    const { items, total, retention } = response.json();
    expect(total).toBe(8);
    expect(retention).toEqual({ maxRows: 10_000, maxAgeSeconds: 7 * 86_400 });
    const byCode = Object.fromEntries(items.map((item: { errorCode: string }) => [item.errorCode, item]));
    for (const item of items) {
      expect(Date.parse(item.at)).toBeGreaterThanOrEqual(started - 1000);
      expect(item.clientAddress).toBe("127.0.0.1");
      expect(item.requestId).toEqual(expect.any(String));
    }
    expect(byCode.unauthorized).toMatchObject({
      method: "POST",
      path: "/xapi/statements",
      status: 401,
      credentialKey: content.key,
      credentialStatus: "unverified",
      credentialName: "Storyline course",
      xapiVersion: "1.0.3",
      body: null,
    });
    expect(byCode.unsupported_version).toMatchObject({
      method: "GET",
      path: "/xapi/statements",
      query: "limit=1",
      status: 400,
      message: expect.stringContaining("X-Experience-API-Version header is required"),
      xapiVersion: null,
    });
    expect(byCode.invalid_statement).toMatchObject({
      status: 400,
      credentialKey: content.key,
      credentialStatus: "verified",
      message: expect.stringContaining("statement[0].actor"),
      body: longInvalid.slice(0, 1024),
      bodyBytes: Buffer.byteLength(longInvalid),
      contentType: "application/json",
    });
    expect(byCode.invalid_json).toMatchObject({ status: 400, body: '{"a\u2400\ufffd"', bodyBytes: 6 });
    expect(byCode.not_found).toMatchObject({ status: 404, path: "/xapi/statementz", body: null });
    expect(byCode.statement_conflict).toMatchObject({ status: 409, method: "PUT" });
    expect(byCode.precondition_failed).toMatchObject({
      status: 412,
      path: "/xapi/activities/state",
      body: "slide-7",
      contentType: "text/plain",
    });
    expect(byCode.payload_too_large).toMatchObject({
      status: 413,
      body: null,
      bodyBytes: expect.any(Number),
    });
    expect(byCode.payload_too_large.bodyBytes).toBeGreaterThan(70_000);
    // Newest first.
    expect(items.map((item: { id: number }) => item.id)).toEqual(
      [...items.map((item: { id: number }) => item.id)].sort((a, b) => b - a),
    );

    // No secret anywhere in the table.
    const stored = JSON.stringify(await queryRows(database.db, sql`select * from xapi_failed_requests`));
    expect(stored).not.toContain(WRONG_SECRET);
    expect(stored).not.toContain(content.secret);
    expect(stored).not.toContain(content.headers.authorization!.slice(6));
    expect(stored).not.toContain(basic(content.key, WRONG_SECRET).slice(6));

    expect(await counted("401", "unauthorized")).toBe(unauthorizedBefore + 1);
    const prometheus = await app.inject({ method: "GET", url: "/metrics", headers: adminHeaders });
    expect(prometheus.body).toMatch(
      /cohort_lrs_xapi_failed_requests_total\{status="412",code="precondition_failed"\} [1-9]/,
    );
  });

  it("keeps the content of an alternate-syntax request, never its form's Authorization", async () => {
    const { app, database } = harness;
    const content = await createCredential(database.db);
    const invalid = JSON.stringify({ ...statement(), verb: { id: "not an IRI" } });
    const response = await app.inject({
      method: "POST",
      url: "/xapi/statements?method=POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        Authorization: content.headers.authorization!,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        content: invalid,
      }).toString(),
    });
    expect(response.statusCode).toBe(400);
    const [item] = (await failures(app)).json().items;
    expect(item).toMatchObject({
      status: 400,
      errorCode: "invalid_statement",
      credentialKey: content.key,
      credentialStatus: "verified",
      body: invalid,
    });
    const stored = JSON.stringify(await queryRows(database.db, sql`select * from xapi_failed_requests`));
    expect(stored).not.toContain(content.secret);
    expect(stored).not.toContain(encodeURIComponent(content.headers.authorization!.slice(6)));
    expect(stored).not.toContain(content.headers.authorization!.slice(6));
  });

  it("filters by status, status class, credential, route, error code and time; newest first, paged", async () => {
    const { app, database } = harness;
    const content = await createCredential(database.db);
    await refusals(app, content);
    const totalOf = async (search: string) => {
      const response = await failures(app, search);
      expect(response.statusCode, search).toBe(200);
      return response.json().total as number;
    };
    expect(await totalOf("")).toBe(8);
    expect(await totalOf("?status=401")).toBe(1);
    expect(await totalOf("?status=4xx")).toBe(8);
    expect(await totalOf("?status=5xx")).toBe(0);
    expect(await totalOf(`?credential=${content.key}`)).toBe(8); // every one presented the key
    expect(await totalOf("?credential=someone-else")).toBe(0);
    expect(await totalOf("?route=/xapi/activities")).toBe(1);
    expect(await totalOf("?route=/xapi/statements")).toBe(6); // not /xapi/statementz
    expect(await totalOf("?errorCode=invalid_json")).toBe(1);
    expect(await totalOf("?status=400&route=/xapi/statements&errorCode=invalid_statement")).toBe(1);
    const today = new Date().toISOString().slice(0, 10);
    expect(await totalOf(`?from=${today}&to=${today}`)).toBe(8);
    expect(await totalOf("?to=2000-01-01")).toBe(0);
    expect(await totalOf(`?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toBe(0);

    const first = (await failures(app, "?limit=3")).json();
    const second = (await failures(app, "?limit=3&offset=3")).json();
    expect(first.items).toHaveLength(3);
    expect(second.items).toHaveLength(3);
    expect(first.items.at(-1).id).toBeGreaterThan(second.items[0].id);

    for (const [search, field] of [
      ["?status=abc", "status"],
      ["?from=2026-02-30", "from"],
      ["?to=yesterday", "to"],
      ["?limit=0", "limit"],
      ["?colour=red", "colour"],
    ] as const) {
      const refused = await failures(app, search);
      expect(refused.statusCode, search).toBe(400);
      expect(refused.json().error).toBe("validation_error");
      expect(refused.json().details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await harness.app.inject({ method: "GET", url: "/openapi.json" })).json();
    const route = doc.paths["/api/debug/xapi-failures"]?.get;
    expect(route?.responses?.["200"]).toBeDefined();
    expect(route.parameters.map((p: { name: string }) => p.name).sort()).toEqual(
      ["credential", "errorCode", "from", "limit", "offset", "route", "status", "to"].sort(),
    );
  });

  it("shows the log at /ui/xapi-log with its filters, and a bad filter next to its field", async () => {
    const { app, database } = harness;
    const content = await createCredential(database.db);
    await refusals(app, content);
    const page = await app.inject({ method: "GET", url: "/ui/xapi-log?status=401", headers: adminHeaders });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<strong>1</strong> refused request matches");
    expect(page.body).toContain(`<code>${content.key}</code>`);
    expect(page.body).toContain("not accepted");
    expect(page.body).toContain('<option value="401" selected>');
    expect(page.body).not.toContain("<script");
    // Pages of 25, newest first, the filters kept in the links.
    for (let i = 0; i < 3; i++) await refusals(app, content);
    const first = await app.inject({ method: "GET", url: "/ui/xapi-log?status=4xx", headers: adminHeaders });
    expect(first.body).toContain("<strong>32</strong> refused requests match");
    expect(first.body.match(/<li class="entry">/g)).toHaveLength(25);
    expect(first.body).toContain("page 1 of 2");
    expect(first.body).toContain('<a href="/ui/xapi-log?status=4xx&amp;page=2" rel="next">');
    const second = await app.inject({
      method: "GET",
      url: "/ui/xapi-log?status=4xx&page=2",
      headers: adminHeaders,
    });
    expect(second.body.match(/<li class="entry">/g)).toHaveLength(7);
    expect(second.body).toContain('<a href="/ui/xapi-log?status=4xx" rel="prev">');

    const bad = await app.inject({
      method: "GET",
      url: "/ui/xapi-log?status=abc&from=2026-02-30",
      headers: adminHeaders,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('<p class="field-error" id="status-error">');
    expect(bad.body).toContain('<p class="field-error" id="from-error">');
    expect(bad.body).toContain("nothing was searched");
  });

  it("counts the last 24 hours on the dashboard, linked to the log", async () => {
    const { app, database } = harness;
    const content = await createCredential(database.db);
    await refusals(app, content);
    await app.xapiFailureLog.flush();
    await database.db.execute(
      sql`update xapi_failed_requests set at = now() - interval '2 days' where error_code = 'not_found'`,
    );
    const dashboard = await app.inject({ method: "GET", url: "/ui", headers: adminHeaders });
    expect(dashboard.body).toMatch(
      /<div class="card" id="xapi-refused"><a class="value bad" href="\/ui\/xapi-log\?from=[^"]+">7<\/a>/,
    );
    expect(dashboard.body).toContain('<a href="/ui/xapi-log">xAPI requests refused (24 h)</a>');
  });

  it("leaves every answer unchanged when the log cannot write, and counts what it lost", async () => {
    const { app, database } = harness;
    const content = await createCredential(database.db);
    const reference = (await refusals(app, content)).answers;
    await app.xapiFailureLog.flush();
    const lostBefore =
      (await metrics.xapiLogLost.get()).values.find((v) => v.labels.reason === "write_failed")?.value ?? 0;
    await database.db.execute(sql`alter table xapi_failed_requests rename to xapi_failed_requests_away`);
    try {
      const again = (await refusals(app, content)).answers;
      // The conflict's id is new each time; otherwise the same answers.
      const without = (answers: typeof again) =>
        Object.fromEntries(
          Object.entries(answers).map(([name, { status, body }]) => [
            name,
            { status, error: body.error, message: String(body.message).replace(/[0-9a-f-]{36}/g, "<id>") },
          ]),
        );
      expect(without(again)).toEqual(without(reference));
      await app.xapiFailureLog.flush();
      const lostAfter =
        (await metrics.xapiLogLost.get()).values.find((v) => v.labels.reason === "write_failed")?.value ?? 0;
      expect(lostAfter).toBe(lostBefore + 8);
    } finally {
      await database.db.execute(sql`alter table xapi_failed_requests_away rename to xapi_failed_requests`);
    }
  });
});

describe.each(DATABASE_KINDS)("on %s", (kind) => {
  let database: OpenedDatabase;
  let app: App;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await buildApp(database);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it("records a wrong key and an invalid statement, and lists them", async () => {
    const content = await createCredential(database.db);
    await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { authorization: basic("lrs_nobody", WRONG_SECRET), "x-experience-api-version": "2.0.0" },
      payload: statement(),
    });
    await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: { ...statement(), actor: { mbox: "ada@example.com" } },
    });
    const { items } = (await failures(app)).json();
    expect(items).toMatchObject([
      {
        status: 400,
        errorCode: "invalid_statement",
        credentialStatus: "verified",
        credentialKey: content.key,
      },
      {
        status: 401,
        errorCode: "unauthorized",
        credentialStatus: "unverified",
        credentialKey: "lrs_nobody",
        credentialName: null,
        xapiVersion: "2.0.0",
      },
    ]);
    expect(items[0].body).toContain('"mbox":"ada@example.com"');
  });
});
