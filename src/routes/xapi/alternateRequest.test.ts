/**
 * Alternate request syntax (xAPI 1.0.3 Communication §1.3): `POST ...?method=GET|PUT|POST|DELETE`
 * with a form carrying the headers, the resource parameters and `content`, as TinCanJS sends it.
 * Every resource answers it as the request it stands for, under the same credential, version,
 * CORS and limit rules; anything else in the query, a body that is not a form, or a PUT without
 * content is 400 and stores nothing; xAPI 2.0.0 refuses the syntax (400). On PostgreSQL and PGlite.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { statement } from "../../../test/helpers/xapi.ts";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const ADA = { objectType: "Agent", mbox: "mailto:ada@example.com" };
const ACTIVITY = "https://lessons.example.com/day-1";

describe.each(BACKENDS)("alternate request syntax (Communication §1.3) on %s", (backend) => {
  const x = useXapiBackend(backend, { CORS_ORIGINS: "https://lessons.example.com" });

  /** Sends `POST <path>?method=<method>` with the form; the credential and version go in the form too. */
  const alternate = (
    path: string,
    method: string,
    form: Record<string, string>,
    options: { query?: string; headers?: Record<string, string> } = {},
  ) =>
    x.app.inject({
      method: "POST",
      url: `${path}?method=${method}${options.query ?? ""}`,
      headers: { ...FORM, ...options.headers },
      payload: new URLSearchParams({
        Authorization: x.content.headers.authorization!,
        "X-Experience-API-Version": "1.0.3",
        ...form,
      }).toString(),
    });
  const stored = async () =>
    (await x.app.inject({ method: "GET", url: "/xapi/statements", headers: x.content.headers })).json()
      .statements as { id: string }[];

  it("§1.3 PUT of a statement: the form's statementId and content, headers from the form alone", async () => {
    const id = randomUUID();
    const response = await alternate("/xapi/statements", "PUT", {
      statementId: id,
      content: JSON.stringify(statement()),
    });
    expect(response.statusCode, response.body).toBe(204);
    expect(response.headers["x-experience-api-version"]).toBe("1.0.3");
    expect((await stored()).map((s) => s.id)).toEqual([id]);
  });

  it("§1.3 POST of statements answers the ids; GET answers a StatementResult filtered by the form", async () => {
    const posted = await alternate("/xapi/statements", "POST", {
      content: JSON.stringify([
        statement(),
        statement({ verb: { id: "http://adlnet.gov/expapi/verbs/attempted" } }),
      ]),
    });
    expect(posted.statusCode, posted.body).toBe(200);
    const ids = posted.json() as string[];
    expect(ids).toHaveLength(2);

    const page = await alternate("/xapi/statements", "GET", {
      verb: "http://adlnet.gov/expapi/verbs/attempted",
      limit: "1",
    });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.json()).toMatchObject({ statements: [{ id: ids[1] }], more: "" });
    expect(page.headers["x-experience-api-consistent-through"]).toBeDefined();
  });

  it("§1.3 the headers may come as real headers too (the form's win), as the ADL suite sends a GET", async () => {
    await alternate("/xapi/statements", "POST", { content: JSON.stringify(statement()) });
    const response = await x.app.inject({
      method: "POST",
      url: "/xapi/statements?method=GET",
      headers: { ...FORM, ...x.content.headers },
      payload: "limit=1",
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().statements).toHaveLength(1);
  });

  it("§1.3 documents: PUT with Content-Type and If-None-Match from the form, GET, POST merges, DELETE", async () => {
    const address = { activityId: ACTIVITY, agent: JSON.stringify(ADA), stateId: "progress" };
    const put = await alternate("/xapi/activities/state", "PUT", {
      ...address,
      "Content-Type": "application/json",
      "If-None-Match": "*",
      content: JSON.stringify({ slide: 3 }),
    });
    expect(put.statusCode, put.body).toBe(204);
    // If-None-Match: * from the form is honoured: a second create is refused.
    const again = await alternate("/xapi/activities/state", "PUT", {
      ...address,
      "Content-Type": "application/json",
      "If-None-Match": "*",
      content: JSON.stringify({ slide: 9 }),
    });
    expect(again.statusCode).toBe(412);
    const merge = await alternate("/xapi/activities/state", "POST", {
      ...address,
      "Content-Type": "application/json",
      content: JSON.stringify({ score: 1 }),
    });
    expect(merge.statusCode, merge.body).toBe(204);
    const read = await alternate("/xapi/activities/state", "GET", address);
    expect(read.statusCode).toBe(200);
    expect(read.headers["content-type"]).toMatch(/^application\/json/);
    expect(read.json()).toEqual({ slide: 3, score: 1 });
    expect((await alternate("/xapi/activities/state", "DELETE", address)).statusCode).toBe(204);
    expect((await alternate("/xapi/activities/state", "GET", address)).statusCode).toBe(404);
  });

  it("§1.3 the rules of the rewritten request apply: credentials, version, CORS", async () => {
    const wrongSecret = await alternate(
      "/xapi/statements",
      "GET",
      { Authorization: `Basic ${Buffer.from(`${x.content.key}:wrong`).toString("base64")}` },
      { headers: { origin: "https://lessons.example.com" } },
    );
    expect(wrongSecret.statusCode).toBe(401);
    expect(wrongSecret.headers["access-control-allow-origin"]).toBe("https://lessons.example.com");

    const oldVersion = await alternate("/xapi/statements", "PUT", {
      statementId: randomUUID(),
      "X-Experience-API-Version": "0.8",
      content: JSON.stringify(statement()),
    });
    expect(oldVersion.statusCode).toBe(400);
    expect(oldVersion.json().error).toBe("unsupported_version");
    expect(await stored()).toEqual([]);
  });

  it("§1.3 refuses what is not the syntax, 400 naming the field, and stores nothing", async () => {
    const content = JSON.stringify(statement());
    const id = randomUUID();
    const cases = [
      // Another query parameter: everything but method belongs in the form.
      [
        alternate("/xapi/statements", "PUT", { statementId: id, content }, { query: `&statementId=${id}` }),
        "statementId",
      ],
      // A method the syntax does not carry.
      [alternate("/xapi/statements", "PATCH", { statementId: id, content }), "method"],
      // A PUT without content.
      [alternate("/xapi/statements", "PUT", { statementId: id }), "content"],
      // A body that is not a form.
      [
        x.app.inject({
          method: "POST",
          url: "/xapi/statements?method=PUT",
          headers: { ...x.content.headers, "content-type": "application/json" },
          payload: JSON.stringify({ statementId: id, content }),
        }),
        "Content-Type",
      ],
      // A form sent with the wrong media type, as a JSON string.
      [
        x.app.inject({
          method: "POST",
          url: "/xapi/statements?method=PUT",
          headers: { ...x.content.headers, ...FORM },
          payload: JSON.stringify({ statementId: id, content }),
        }),
        "content",
      ],
      // The syntax is POST only.
      [
        x.app.inject({
          method: "PUT",
          url: "/xapi/statements?method=POST",
          headers: { ...x.content.headers, ...FORM },
          payload: new URLSearchParams({ content }).toString(),
        }),
        "method",
      ],
    ] as const;
    for (const [pending, field] of cases) {
      const response = await pending;
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error).toBe("invalid_alternate_request");
      expect(response.json().details[0].field).toBe(field);
      expect(response.headers["x-experience-api-version"]).toBe("1.0.3");
    }
    expect(await stored()).toEqual([]);
  });

  it("§1.3 the content is held to the body limit of the request it stands for", async () => {
    const big = JSON.stringify(statement({ result: { response: "x".repeat(6 * 1024 * 1024) } }));
    const response = await alternate("/xapi/statements", "PUT", { statementId: randomUUID(), content: big });
    expect(response.statusCode).toBe(413);
    expect(await stored()).toEqual([]);
  });

  it("xAPI 2.0.0 has no alternate syntax: 400 whether the form or the header names 2.0.0", async () => {
    const content = JSON.stringify(statement());
    const byForm = await alternate("/xapi/statements", "PUT", {
      statementId: randomUUID(),
      "X-Experience-API-Version": "2.0.0",
      content,
    });
    const byHeader = await x.app.inject({
      method: "POST",
      url: "/xapi/statements?method=GET",
      headers: { ...FORM, ...x.content.headers, "x-experience-api-version": "2.0.0" },
      payload: "limit=1",
    });
    const notPost = await x.app.inject({
      method: "PUT",
      url: "/xapi/statements?method=POST",
      headers: { ...x.content.headers, "x-experience-api-version": "2.0.0" },
      payload: statement(),
    });
    for (const response of [byForm, byHeader, notPost]) {
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error).toBe("alternate_syntax_unsupported");
      expect(response.headers["x-experience-api-version"]).toBe("2.0.0");
    }
    expect(await stored()).toEqual([]);
  });
});
