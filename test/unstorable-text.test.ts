/**
 * Text PostgreSQL cannot store: a NUL (U+0000) or an unpaired surrogate (U+D800–U+DFFF without its
 * other half) in any string or object key, on every route that takes input. Each is refused with
 * 400, a machine-readable code and a message naming the field, and nothing stored is changed;
 * in HTTP Basic credentials it is a 401. Before the central check these gave 500.
 */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { csrfToken } from "../src/auth/session.ts";
import { queryRows } from "../src/db/client.ts";
import { ADMIN_PASSWORD, adminHeaders, SIGNING_SECRET, useTestApp } from "./helpers/app.ts";
import { basic, createCredential, statement, type TestCredential } from "./helpers/xapi.ts";

let content: TestCredential;
const harness = useTestApp();
beforeEach(async () => {
  content = await createCredential(harness.database.db, { name: "Storyline course" });
});

/** Each kind of unstorable text, with the words the error uses for it. */
const POISONS = [
  ["a NUL", "\u0000", "U+0000 (NUL)"],
  ["a lone high surrogate", "\ud800", "unpaired surrogate U+D800"],
  ["a lone low surrogate", "\udc00", "unpaired surrogate U+DC00"],
] as const;

async function count(table: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    harness.database.db,
    sql.raw(`select count(*)::int as n from ${table}`),
  );
  return row!.n;
}

function postStatements(body: unknown, headers: Record<string, string> = content.headers) {
  return harness.app.inject({ method: "POST", url: "/xapi/statements", headers, payload: body as object });
}

const EXTENSION = "http://example.com/ext/notes";

describe.each(POISONS)("xAPI statements with %s", (_, bad, words) => {
  it.each([
    ["actor.name", statement({ actor: { name: `Ada${bad}`, mbox: "mailto:ada@example.com" } })],
    [
      "verb.display.en",
      statement({ verb: { id: "http://adlnet.gov/expapi/verbs/completed", display: { en: bad } } }),
    ],
    ["result.response", statement({ result: { response: `yes${bad}` } })],
    [
      `context.extensions["${EXTENSION}"].notes[1].text`,
      statement({
        context: { extensions: { [EXTENSION]: { notes: [{ text: "ok" }, { text: `x${bad}` }] } } },
      }),
    ],
    [
      `result.extensions[${JSON.stringify(`http://example.com/ext/${bad}`)}]`,
      statement({ result: { extensions: { [`http://example.com/ext/${bad}`]: 1 } } }),
    ],
    [
      `context.extensions["${EXTENSION}"][${JSON.stringify(`k${bad}`)}]`,
      statement({ context: { extensions: { [EXTENSION]: { [`k${bad}`]: true } } } }),
    ],
  ])(
    "refuses it in %s with 400 invalid_statement naming the field, storing nothing",
    async (path, poisoned) => {
      const response = await postStatements(poisoned);
      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body.error).toBe("invalid_statement");
      expect(body.details).toContainEqual({
        field: `statement.${path}`,
        message: expect.stringContaining(words),
      });
      expect(body.message).toContain(`statement.${path}`);
      expect(await count("statements_raw")).toBe(0);
    },
  );

  it("refuses a batch holding one such statement, and stores none of it", async () => {
    const response = await postStatements([statement(), statement({ result: { response: `no${bad}` } })]);
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toContainEqual({
      field: "statement[1].result.response",
      message: expect.stringContaining(words),
    });
    expect(await count("statements_raw")).toBe(0);
  });

  it("refuses it in a PUT", async () => {
    const response = await harness.app.inject({
      method: "PUT",
      url: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
      headers: content.headers,
      payload: statement({ actor: { mbox: "mailto:ada@example.com", name: bad } }) as object,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toContainEqual({
      field: "statement.actor.name",
      message: expect.stringContaining(words),
    });
    expect(await count("statements_raw")).toBe(0);
  });
});

describe("xAPI statements on the wire", () => {
  it("refuses JSON escapes of NUL and of a lone surrogate as sent by a client", async () => {
    const text = JSON.stringify(statement()).replace('"Ada"', '"Ada\\u0000\\ud800"');
    const response = await harness.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...content.headers, "content-type": "application/json" },
      payload: text,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toEqual([
      { field: "statement.actor.name", message: expect.stringContaining("U+0000 (NUL)") },
    ]);
  });

  it("stores a well-formed surrogate pair (an emoji) as sent", async () => {
    const response = await postStatements(
      statement({ actor: { name: "Ada \ud83d\ude00", mbox: "mailto:ada@example.com" } }),
    );
    expect(response.statusCode).toBe(200);
    const [row] = await queryRows<{ name: string }>(
      harness.database.db,
      sql`select payload->'actor'->>'name' as name from statements_raw`,
    );
    expect(row!.name).toBe("Ada 😀");
  });
});

describe.each(POISONS)("the JSON API with %s", (_, bad, words) => {
  const ada = { name: "Ada", email: "ada@example.com", avatar: "ada_l", cohortId: "c1" };

  it("signup refuses it in a value and in a key with 400 invalid_text naming the field", async () => {
    const value = await harness.app.inject({
      method: "POST",
      url: "/api/signup",
      payload: { ...ada, name: `Ada${bad}` },
    });
    expect(value.statusCode).toBe(400);
    expect(value.json()).toMatchObject({
      error: "invalid_text",
      details: [{ field: "name", message: expect.stringContaining(words) }],
    });
    expect(value.json().message).toContain("name");
    const key = await harness.app.inject({
      method: "POST",
      url: "/api/signup",
      payload: { ...ada, [`x${bad}`]: 1 },
    });
    expect(key.statusCode).toBe(400);
    expect(key.json()).toMatchObject({
      error: "invalid_text",
      details: [{ field: `[${JSON.stringify(`x${bad}`)}]`, message: expect.stringContaining(words) }],
    });
    expect(await count("users")).toBe(0);
  });

  it("lessons refuse it, and an existing lesson is left as it was", async () => {
    const lesson = {
      cohortId: "c1",
      activityId: "https://lessons.example.com/1",
      title: "Day 1",
      lessonDate: "2026-05-01",
    };
    expect(
      (
        await harness.app.inject({
          method: "POST",
          url: "/api/lessons",
          headers: adminHeaders,
          payload: lesson,
        })
      ).statusCode,
    ).toBe(201);
    const response = await harness.app.inject({
      method: "POST",
      url: "/api/lessons",
      headers: adminHeaders,
      payload: { ...lesson, activityId: "https://lessons.example.com/2", title: `Day 2${bad}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_text", details: [{ field: "title" }] });
    expect(await queryRows(harness.database.db, sql`select title from lessons`)).toEqual([
      { title: "Day 1" },
    ]);
  });

  it("the debug query API refuses it in a parameter", async () => {
    const response = await harness.app.inject({
      method: "POST",
      url: "/api/debug/query",
      headers: adminHeaders,
      payload: { name: "learner-flat-rows", params: { avatar: `ada${bad}` } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_text", details: [{ field: "params.avatar" }] });
  });
});

describe("many bad fields", () => {
  it("names the first 20, however many there are", async () => {
    const body = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, "\u0000"]));
    const response = await harness.app.inject({ method: "POST", url: "/api/signup", payload: body });
    expect(response.statusCode).toBe(400);
    const { error, details } = response.json();
    expect(error).toBe("invalid_text");
    expect(details.map((detail: { field: string }) => detail.field)).toEqual(
      Array.from({ length: 20 }, (_, i) => `f${i}`),
    );
  });
});

describe("query strings and path parameters", () => {
  it.each([
    ["/api/lessons?cohortId=c%00", "query.cohortId"],
    ["/ui/db-terminal?name=learner-flat-rows&run=1&p.avatar=a%00", 'query["p.avatar"]'],
    ["/api/reports/cohorts/c%00/completions", "params.cohortId"],
  ])("%s is refused with 400 invalid_text naming %s", async (url, field) => {
    const response = await harness.app.inject({ method: "GET", url, headers: adminHeaders });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: "invalid_text",
      details: [{ field, message: expect.stringContaining("U+0000 (NUL)") }],
    });
  });
});

describe("admin forms", () => {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  it("the keys page refuses a credential name with a NUL, and creates no key", async () => {
    const before = await count("api_credentials");
    const response = await harness.app.inject({
      method: "POST",
      url: "/ui/admin/keys",
      headers: { ...adminHeaders, "content-type": "application/x-www-form-urlencoded" },
      payload: form({ name: "Rise\u0000course", scope: "all", _csrf: csrfToken(SIGNING_SECRET, "basic") }),
    });
    // The form comes back as a page, the message next to the name field.
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    expect(response.body).toContain(
      '<p class="field-error" id="name-error">must not contain U+0000 (NUL)</p>',
    );
    expect(await count("api_credentials")).toBe(before);
  });

  it("the login form refuses a password with a NUL", async () => {
    const response = await harness.app.inject({
      method: "POST",
      url: "/ui/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: form({ password: `${ADMIN_PASSWORD}\u0000` }),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_text", details: [{ field: "password" }] });
  });
});

describe("HTTP Basic credentials", () => {
  it.each([
    ["a NUL in the key", () => basic(`${content.key}\u0000`, content.secret)],
    ["a NUL in the secret", () => basic(content.key, `${content.secret}\u0000`)],
    [
      "a lone surrogate in the key",
      () => `Basic ${Buffer.from([0xed, 0xa0, 0x80, 0x3a, 0x61]).toString("base64")}`,
    ],
  ])("xAPI answers 401 for %s, and stores nothing", async (_, authorization) => {
    const response = await postStatements(statement(), {
      ...content.headers,
      authorization: authorization(),
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toBe("unauthorized");
    expect(await count("statements_raw")).toBe(0);
  });

  it("the admin API answers 401 for a NUL in the user name or the password", async () => {
    for (const [user, password] of [
      ["admin\u0000", ADMIN_PASSWORD],
      ["admin", `${ADMIN_PASSWORD}\u0000`],
    ]) {
      const response = await harness.app.inject({
        method: "GET",
        url: "/api/lessons",
        headers: { authorization: basic(user!, password!) },
      });
      expect(response.statusCode).toBe(401);
    }
  });
});
