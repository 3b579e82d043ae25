/**
 * State resource (xAPI Communication §2.3, and 2.0.0 §4.1.6.2): documents keyed by Activity,
 * Agent, optional registration and stateId; PUT replaces, POST merges, GET one or the ids,
 * DELETE one or all of a context. On PostgreSQL and on the embedded PGlite.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ACTIVITY,
  ADA,
  DATABASE_KINDS,
  type DocumentsHarness,
  documentsHarness,
  query,
} from "../../../test/helpers/documents.ts";

const REGISTRATION = "4f6a2a0e-6ef5-4c3a-9a1b-0b6c1f4a8d21";

describe.each(DATABASE_KINDS)("State resource on %s", (kind) => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness(kind);
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.app.inject({
      method: "DELETE",
      url: `/xapi/activities/state${query({ activityId: ACTIVITY, agent: ADA })}`,
      headers: h.credential.headers,
    });
  });

  const url = (parameters: Record<string, unknown> = {}) =>
    `/xapi/activities/state${query({ activityId: ACTIVITY, agent: ADA, stateId: "suspend_data", ...parameters })}`;
  const put = (target: string, payload: string | Buffer, contentType = "text/plain", headers = {}) =>
    h.app.inject({
      method: "PUT",
      url: target,
      headers: { ...h.credential.headers, "content-type": contentType, ...headers },
      payload,
    });
  const post = (target: string, document: unknown, headers = {}) =>
    h.app.inject({
      method: "POST",
      url: target,
      headers: { ...h.credential.headers, "content-type": "application/json", ...headers },
      payload: JSON.stringify(document),
    });
  const get = (target: string, headers = {}) =>
    h.app.inject({ method: "GET", url: target, headers: { ...h.credential.headers, ...headers } });

  it("PUT stores text suspend data that GET returns byte for byte, with ETag and Last-Modified", async () => {
    const suspendData = "2g1a0b0c1d~2r1e01001001e~2k2E0F1G:H~Storyline-ꞏ-ü";
    const before = Date.now();
    expect((await put(url(), suspendData, "text/plain; charset=utf-8")).statusCode).toBe(204);
    const response = await get(url());
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(suspendData);
    expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8");
    const sha1 = createHash("sha1").update(suspendData).digest("hex");
    expect(response.headers.etag).toBe(`"${sha1}"`);
    const modified = Date.parse(String(response.headers["last-modified"]));
    expect(modified).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it("round-trips a binary document byte for byte", async () => {
    const bytes = randomBytes(4096);
    expect((await put(url({ stateId: "blob" }), bytes, "application/octet-stream")).statusCode).toBe(204);
    const response = await get(url({ stateId: "blob" }));
    expect(response.rawPayload.equals(bytes)).toBe(true);
    expect(response.headers["content-type"]).toBe("application/octet-stream");
  });

  it("finds one Agent's document however the agent parameter is written", async () => {
    expect((await put(url({ stateId: "bookmark" }), "slide-7")).statusCode).toBe(204);
    for (const agent of [
      { mbox: "mailto:ada@example.com" },
      { mbox: "mailto:ada@example.com", objectType: "Agent" },
      { name: "Someone else", mbox: "mailto:Ada@Example.com" },
    ]) {
      const response = await get(url({ stateId: "bookmark", agent }));
      expect(response.statusCode, JSON.stringify(agent)).toBe(200);
      expect(response.body).toBe("slide-7");
    }
  });

  it.each([
    ["mbox_sha1sum", { mbox_sha1sum: "ebd31e95054c018b10727ccffd2ef2ec3a016ee9" }],
    ["openid", { openid: "https://openid.example.com/ada" }],
    ["account", { account: { homePage: "https://lms.example.com", name: "ada-42" } }],
  ])("accepts an Agent identified by %s", async (_, agent) => {
    const target = url({ agent, stateId: "bookmark" });
    expect((await put(target, "slide-3")).statusCode).toBe(204);
    const reordered =
      "account" in agent ? { account: { name: "ada-42", homePage: "https://lms.example.com" } } : agent;
    expect((await get(url({ agent: reordered, stateId: "bookmark" }))).body).toBe("slide-3");
    expect((await get(url({ stateId: "bookmark" }))).statusCode).toBe(404);
    await h.app.inject({ method: "DELETE", url: target, headers: h.credential.headers });
  });

  it("keeps a registration's documents apart from those without one", async () => {
    await put(url(), "no registration");
    await put(url({ registration: REGISTRATION }), "with registration");
    expect((await get(url())).body).toBe("no registration");
    expect((await get(url({ registration: REGISTRATION.toUpperCase() }))).body).toBe("with registration");
  });

  it("GET without stateId lists the ids, and since lists only those updated after it (exclusive)", async () => {
    await put(url({ stateId: "a" }), "1");
    await put(url({ stateId: "b" }), "2");
    const listed = await get(url({ stateId: undefined }));
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as string[]).sort()).toEqual(["a", "b"]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const cut = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await put(url({ stateId: "c" }), "3");
    expect((await get(url({ stateId: undefined, since: cut }))).json()).toEqual(["c"]);
  });

  it("lists the ids of every registration without one, and of one registration with it", async () => {
    await put(url({ stateId: "plain" }), "1");
    await put(url({ stateId: "registered", registration: REGISTRATION }), "2");
    expect((await get(url({ stateId: undefined }))).json()).toEqual(["plain", "registered"]);
    expect((await get(url({ stateId: undefined, registration: REGISTRATION }))).json()).toEqual([
      "registered",
    ]);
  });

  it("GET of a document not stored is 404, and an empty context lists []", async () => {
    const missing = await get(url({ stateId: "never-stored" }));
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: "not_found" });
    expect((await get(url({ stateId: undefined }))).json()).toEqual([]);
  });

  it("DELETE with stateId removes one document (204), and is 204 when there is none", async () => {
    await put(url({ stateId: "a" }), "1");
    await put(url({ stateId: "b" }), "2");
    const deleted = await h.app.inject({
      method: "DELETE",
      url: url({ stateId: "a" }),
      headers: h.credential.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect((await get(url({ stateId: "a" }))).statusCode).toBe(404);
    expect((await get(url({ stateId: "b" }))).body).toBe("2");
    const again = await h.app.inject({
      method: "DELETE",
      url: url({ stateId: "a" }),
      headers: h.credential.headers,
    });
    expect(again.statusCode).toBe(204);
  });

  it("DELETE without stateId removes every document of the context, and no other Agent's", async () => {
    const grace = { mbox: "mailto:grace@example.com" };
    await put(url({ stateId: "a" }), "1");
    await put(url({ stateId: "b", registration: REGISTRATION }), "2");
    await put(url({ stateId: "a", agent: grace }), "grace's");
    const deleted = await h.app.inject({
      method: "DELETE",
      url: url({ stateId: undefined }),
      headers: h.credential.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect((await get(url({ stateId: undefined }))).json()).toEqual([]);
    expect((await get(url({ stateId: "a", agent: grace }))).body).toBe("grace's");
    await h.app.inject({
      method: "DELETE",
      url: url({ stateId: undefined, agent: grace }),
      headers: h.credential.headers,
    });
  });

  it("POST merges JSON objects one level deep: posted top-level properties replace stored ones", async () => {
    await post(url(), { bookmark: "slide-3", progress: { slides: [1, 2, 3] }, score: 10 });
    expect((await post(url(), { bookmark: "slide-4", progress: { slides: [4] } })).statusCode).toBe(204);
    const response = await get(url());
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ bookmark: "slide-4", progress: { slides: [4] }, score: 10 });
  });

  it("POST where nothing is stored stores the document as sent", async () => {
    expect((await post(url(), { bookmark: "slide-1" })).statusCode).toBe(204);
    expect((await get(url())).json()).toEqual({ bookmark: "slide-1" });
  });

  it("POST is 400 when the stored document is not a JSON object, and changes nothing", async () => {
    await put(url(), "plain text");
    const response = await post(url(), { bookmark: "slide-2" });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "cannot_merge" });
    expect((await get(url())).body).toBe("plain text");
  });

  it.each([
    ["a JSON array", "[1,2]", "application/json"],
    ["text", "slide-9", "text/plain"],
  ])("POST of %s over a stored JSON object is 400, and changes nothing", async (_, payload, contentType) => {
    await post(url(), { bookmark: "slide-2" });
    const response = await h.app.inject({
      method: "POST",
      url: url(),
      headers: { ...h.credential.headers, "content-type": contentType },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "cannot_merge", details: [{ field: "body" }] });
    expect((await get(url())).json()).toEqual({ bookmark: "slide-2" });
  });

  it("a 1.0.3 PUT over an existing State document replaces it without concurrency headers", async () => {
    await put(url(), "first");
    expect((await put(url(), "second")).statusCode).toBe(204);
    expect((await get(url())).body).toBe("second");
  });

  it("a 2.0.0 PUT over an existing State document needs If-Match or If-None-Match (409 without)", async () => {
    const v2 = { "x-experience-api-version": "2.0.0" };
    await put(url(), "first", "text/plain", v2);
    const refused = await put(url(), "second", "text/plain", v2);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: "document_conflict" });
    expect((await get(url())).body).toBe("first");
    const etag = String((await get(url())).headers.etag);
    expect((await put(url(), "second", "text/plain", { ...v2, "if-match": etag })).statusCode).toBe(204);
    expect((await get(url())).body).toBe("second");
  });

  it("HEAD answers as GET without the body: status, ETag, Last-Modified", async () => {
    await put(url(), "slide-5");
    const response = await h.app.inject({ method: "HEAD", url: url(), headers: h.credential.headers });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe("");
    expect(response.headers.etag).toBe((await get(url())).headers.etag);
    expect(response.headers["last-modified"]).toBeDefined();
  });

  it("stores a PUT without Content-Type as application/octet-stream", async () => {
    const response = await h.app.inject({
      method: "PUT",
      url: url(),
      headers: h.credential.headers,
      payload: Buffer.from("raw bytes"),
    });
    expect(response.statusCode).toBe(204);
    const stored = await get(url());
    expect(stored.body).toBe("raw bytes");
    expect(stored.headers["content-type"]).toBe("application/octet-stream");
  });

  it("concurrent 1.0.3 PUTs of one State document all succeed, and one of them is stored whole", async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => `suspend-${i}-`.repeat(100));
    const responses = await Promise.all(bodies.map((body) => put(url(), body)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(204));
    const stored = await get(url());
    expect(bodies).toContain(stored.body);
    expect(stored.headers.etag).toBe(`"${createHash("sha1").update(stored.body).digest("hex")}"`);
  });
});
