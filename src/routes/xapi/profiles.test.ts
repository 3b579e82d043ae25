/**
 * Activity Profile (xAPI Communication §2.6) and Agent Profile (§2.7) resources: one document per
 * Activity or Agent and profileId; PUT replaces (409 over an existing document without a
 * concurrency header, §3.1), POST merges, GET one or the ids (`since`), DELETE. On PostgreSQL and
 * on the embedded PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACTIVITY,
  ADA,
  DATABASE_KINDS,
  type DocumentsHarness,
  documentsHarness,
  query,
} from "../../../test/helpers/documents.ts";

const PROFILES = [
  { resource: "Activity Profile", path: "/xapi/activities/profile", context: { activityId: ACTIVITY } },
  { resource: "Agent Profile", path: "/xapi/agents/profile", context: { agent: ADA } },
];

describe.each(DATABASE_KINDS)("profile resources on %s", (kind) => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness(kind);
  });
  afterAll(async () => {
    await h.close();
  });

  describe.each(PROFILES)("$resource", ({ path, context }) => {
    let n = 0;
    /** A fresh profileId per test, so the tests of one resource do not see each other's documents. */
    const fresh = () => `profile-${kind}-${++n}-${Date.now()}`;
    const url = (parameters: Record<string, unknown>) => `${path}${query({ ...context, ...parameters })}`;
    const send = (method: "PUT" | "POST", target: string, document: unknown, headers = {}) =>
      h.app.inject({
        method,
        url: target,
        headers: { ...h.credential.headers, "content-type": "application/json", ...headers },
        payload: JSON.stringify(document),
      });
    const get = (target: string) =>
      h.app.inject({ method: "GET", url: target, headers: h.credential.headers });

    it("2.0.0: PUT stores a new document without concurrency headers; GET returns it with its ETag", async () => {
      const target = url({ profileId: fresh() });
      const v2 = { "x-experience-api-version": "2.0.0" };
      expect((await send("PUT", target, { theme: "dark" }, v2)).statusCode).toBe(204);
      const response = await get(target);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ theme: "dark" });
      expect(response.headers.etag).toMatch(/^"[0-9a-f]{40}"$/);
      expect(response.headers["last-modified"]).toBeDefined();
    });

    it("1.0.3 (§2.6, §2.7, XAPI-00273): PUT of a new document without If-Match or If-None-Match is 400 and stores nothing", async () => {
      const target = url({ profileId: fresh() });
      const refused = await send("PUT", target, { theme: "dark" });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: "concurrency_header_required" });
      expect(refused.json().message).toMatch(/If-None-Match: \*/);
      expect((await get(target)).statusCode).toBe(404);
      expect((await send("PUT", target, { theme: "dark" }, { "if-none-match": "*" })).statusCode).toBe(204);
      expect((await get(target)).json()).toEqual({ theme: "dark" });
    });

    it("PUT over an existing document without If-Match or If-None-Match is 409 and changes nothing", async () => {
      const target = url({ profileId: fresh() });
      await send("PUT", target, { theme: "dark" }, { "if-none-match": "*" });
      const refused = await send("PUT", target, { theme: "light" });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ error: "document_conflict" });
      expect(refused.json().message).toMatch(/If-Match/);
      expect((await get(target)).json()).toEqual({ theme: "dark" });
    });

    it("PUT with the current ETag in If-Match replaces the document", async () => {
      const target = url({ profileId: fresh() });
      await send("PUT", target, { theme: "dark" }, { "if-none-match": "*" });
      const etag = String((await get(target)).headers.etag);
      expect((await send("PUT", target, { theme: "light" }, { "if-match": etag })).statusCode).toBe(204);
      expect((await get(target)).json()).toEqual({ theme: "light" });
    });

    it("POST merges into the stored JSON object without concurrency headers", async () => {
      const target = url({ profileId: fresh() });
      await send("POST", target, { theme: "dark", size: 12 });
      expect((await send("POST", target, { size: 14 })).statusCode).toBe(204);
      expect((await get(target)).json()).toEqual({ theme: "dark", size: 14 });
    });

    it("GET without profileId lists the ids, since only those updated after it", async () => {
      const first = fresh();
      await send("PUT", url({ profileId: first }), { a: 1 }, { "if-none-match": "*" });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const cut = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = fresh();
      await send("PUT", url({ profileId: second }), { b: 2 }, { "if-none-match": "*" });
      const all = (await get(url({}))).json() as string[];
      expect(all).toEqual(expect.arrayContaining([first, second]));
      expect((await get(url({ since: cut }))).json()).toEqual([second]);
    });

    it("DELETE removes the document (204); GET is then 404", async () => {
      const target = url({ profileId: fresh() });
      await send("PUT", target, { a: 1 }, { "if-none-match": "*" });
      const deleted = await h.app.inject({ method: "DELETE", url: target, headers: h.credential.headers });
      expect(deleted.statusCode).toBe(204);
      expect((await get(target)).statusCode).toBe(404);
    });

    it("DELETE requires profileId (400 naming it)", async () => {
      const response = await h.app.inject({ method: "DELETE", url: url({}), headers: h.credential.headers });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        error: "invalid_parameter",
        details: [{ field: "profileId" }],
      });
    });
  });

  it("an Agent Profile is the Agent's however its JSON is ordered or named", async () => {
    const profileId = `reordered-${kind}`;
    const put = await h.app.inject({
      method: "PUT",
      url: `/xapi/agents/profile${query({ agent: { account: { homePage: "https://lms.example.com", name: "ada" } }, profileId })}`,
      headers: { ...h.credential.headers, "content-type": "application/json", "if-none-match": "*" },
      payload: '{"k":1}',
    });
    expect(put.statusCode).toBe(204);
    const get = await h.app.inject({
      method: "GET",
      url: `/xapi/agents/profile${query({ agent: { objectType: "Agent", name: "Ada L.", account: { name: "ada", homePage: "https://lms.example.com" } }, profileId })}`,
      headers: h.credential.headers,
    });
    expect(get.json()).toEqual({ k: 1 });
  });
});
