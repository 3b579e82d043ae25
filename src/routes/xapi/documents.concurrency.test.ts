/**
 * Concurrency (xAPI Communication §3.1): If-Match / If-None-Match on PUT, POST and DELETE of
 * documents (412 on mismatch, nothing changed), and writers at once on one document never lose
 * an update silently. On PostgreSQL (concurrent requests on a pool of connections) and PGlite.
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

describe.each(DATABASE_KINDS)("document concurrency on %s", (kind) => {
  let h: DocumentsHarness;
  let n = 0;
  beforeAll(async () => {
    h = await documentsHarness(kind);
  });
  afterAll(async () => {
    await h.close();
  });

  const resources = [
    {
      name: "State",
      url: () => `/xapi/activities/state${query({ activityId: ACTIVITY, agent: ADA, stateId: `s-${++n}` })}`,
    },
    {
      name: "Activity Profile",
      url: () => `/xapi/activities/profile${query({ activityId: ACTIVITY, profileId: `p-${++n}` })}`,
    },
    {
      name: "Agent Profile",
      url: () => `/xapi/agents/profile${query({ agent: ADA, profileId: `p-${++n}` })}`,
    },
  ];
  const send = (method: "PUT" | "POST" | "DELETE", target: string, document?: unknown, headers = {}) =>
    h.app.inject({
      method,
      url: target,
      headers: {
        ...h.credential.headers,
        ...(document === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(document === undefined ? {} : { payload: JSON.stringify(document) }),
    });
  /** Stores a first document (If-None-Match: *, as a 1.0.3 profile PUT requires). */
  const create = (target: string, document: unknown) =>
    send("PUT", target, document, { "if-none-match": "*" });
  const get = (target: string) => h.app.inject({ method: "GET", url: target, headers: h.credential.headers });
  const etagOf = async (target: string) => String((await get(target)).headers.etag);
  const WRONG = '"0000000000000000000000000000000000000000"';

  describe.each(resources)("$name", ({ url }) => {
    it.each(["PUT", "POST"] as const)(
      "%s with a stale If-Match is 412 and changes nothing",
      async (method) => {
        const target = url();
        await create(target, { v: 1 });
        const refused = await send(method, target, { v: 2 }, { "if-match": WRONG });
        expect(refused.statusCode).toBe(412);
        expect(refused.json()).toMatchObject({
          error: "precondition_failed",
          details: [{ field: "If-Match" }],
        });
        expect((await get(target)).json()).toEqual({ v: 1 });
      },
    );

    it("If-Match where no document is stored is 412, and nothing is created", async () => {
      const target = url();
      expect((await send("PUT", target, { v: 1 }, { "if-match": WRONG })).statusCode).toBe(412);
      expect((await send("PUT", target, { v: 1 }, { "if-match": "*" })).statusCode).toBe(412);
      expect((await get(target)).statusCode).toBe(404);
    });

    it("If-Match with the current ETag (or among several, or *) lets the write through", async () => {
      const target = url();
      await create(target, { v: 1 });
      const etag = await etagOf(target);
      expect((await send("PUT", target, { v: 2 }, { "if-match": `${WRONG}, ${etag}` })).statusCode).toBe(204);
      expect((await send("POST", target, { w: 3 }, { "if-match": "*" })).statusCode).toBe(204);
      expect((await get(target)).json()).toEqual({ v: 2, w: 3 });
    });

    it("If-None-Match: * creates where none is stored, and is 412 over an existing document", async () => {
      const target = url();
      expect((await send("PUT", target, { v: 1 }, { "if-none-match": "*" })).statusCode).toBe(204);
      const refused = await send("PUT", target, { v: 2 }, { "if-none-match": "*" });
      expect(refused.statusCode).toBe(412);
      expect(refused.json()).toMatchObject({ details: [{ field: "If-None-Match" }] });
      expect((await get(target)).json()).toEqual({ v: 1 });
    });

    it("DELETE with a stale If-Match is 412 and keeps the document; with the current ETag it deletes", async () => {
      const target = url();
      await create(target, { v: 1 });
      expect((await send("DELETE", target, undefined, { "if-match": WRONG })).statusCode).toBe(412);
      expect((await get(target)).statusCode).toBe(200);
      expect((await send("DELETE", target, undefined, { "if-match": await etagOf(target) })).statusCode).toBe(
        204,
      );
      expect((await get(target)).statusCode).toBe(404);
    });

    it("a malformed If-Match is 400 naming the header", async () => {
      const response = await send("PUT", url(), { v: 1 }, { "if-match": "not-a-tag" });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ details: [{ field: "If-Match" }] });
    });

    it("concurrent POSTs of different keys to one document all land: no merge is lost", async () => {
      const target = url();
      const writers = 16;
      const responses = await Promise.all(
        Array.from({ length: writers }, (_, i) => send("POST", target, { [`key${i}`]: i })),
      );
      expect(responses.map((r) => r.statusCode)).toEqual(Array(writers).fill(204));
      const stored = (await get(target)).json() as Record<string, number>;
      expect(Object.keys(stored).sort()).toEqual(Array.from({ length: writers }, (_, i) => `key${i}`).sort());
    });

    it("concurrent PUTs with the same If-Match: exactly one wins, the others get 412", async () => {
      const target = url();
      await create(target, { v: 0 });
      const etag = await etagOf(target);
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => send("PUT", target, { v: i + 1 }, { "if-match": etag })),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(7);
      const winner = statuses.indexOf(204) + 1;
      expect((await get(target)).json()).toEqual({ v: winner });
    });

    it("concurrent first writes with If-None-Match: * create the document once", async () => {
      const target = url();
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => send("PUT", target, { v: i }, { "if-none-match": "*" })),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(7);
      expect((await get(target)).json()).toEqual({ v: statuses.indexOf(204) });
    });
  });
});
