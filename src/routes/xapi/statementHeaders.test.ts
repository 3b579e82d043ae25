/**
 * xAPI Communication §2.1.3 (headers of GET Statements) and §1.1 (HEAD): every statement GET
 * carries `X-Experience-API-Consistent-Through`, `Last-Modified` and `Content-Type`; every GET
 * under /xapi answers HEAD with the same headers and no body. On PostgreSQL and PGlite.
 */
import { describe, expect, it } from "vitest";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";
import { trackStore } from "../../xapi/consistentThrough.ts";

const ADA = { mbox: "mailto:ada@example.com" };
const statement = (n: number) => ({
  actor: ADA,
  verb: { id: "http://adlnet.gov/expapi/verbs/experienced" },
  object: { id: `https://lessons.example.com/page-${n}` },
});

describe.each(BACKENDS)("statement GET headers and HEAD on %s", (backend) => {
  const x = useXapiBackend(backend);

  async function post(body: unknown): Promise<string[]> {
    const response = await x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: x.content.headers,
      payload: body as object,
    });
    expect(response.statusCode).toBe(200);
    return response.json();
  }
  const request = (method: "GET" | "HEAD", url: string) =>
    x.app.inject({ method, url, headers: x.content.headers });

  it("§2.1.3 Consistent-Through, Last-Modified and Content-Type on a single read, a query and a more page", async () => {
    const [first] = await post(statement(1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [second] = await post(statement(2));
    const page = await request("GET", "/xapi/statements?limit=1&ascending=true");
    const single = await request("GET", `/xapi/statements?statementId=${first}`);
    const more = await request("GET", page.json().more);
    const newest = (await request("GET", `/xapi/statements?statementId=${second}`)).json().stored as string;

    for (const response of [page, single, more]) {
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      const through = response.headers["x-experience-api-consistent-through"] as string;
      expect(through).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(through)).toBeGreaterThanOrEqual(Date.parse(newest));
      expect(response.headers["last-modified"]).toMatch(/GMT$/);
    }
    // Last-Modified: the newest `stored` among what the response holds (to the second).
    const stored = page.json().statements[0].stored as string;
    expect(page.headers["last-modified"]).toBe(new Date(stored).toUTCString());
    expect(more.headers["last-modified"]).toBe(new Date(newest).toUTCString());
    expect(single.headers["last-modified"]).toBe(new Date(stored).toUTCString());
  });

  it("§2.1.3 Consistent-Through on every statement GET, refusals included (400, 404, 401)", async () => {
    const unknown = "6f1e0d8c-2d5b-4c63-9a57-4cbb0e0c1f00";
    const refusals = [
      await request("GET", `/xapi/statements?statementId=${unknown}&verb=http://x.example/v`),
      await request("GET", "/xapi/statements?nonsense=1"),
      await request("GET", `/xapi/statements?statementId=${unknown}`),
      await x.app.inject({
        method: "GET",
        url: "/xapi/statements",
        headers: { "x-experience-api-version": "1.0.3" },
      }),
    ];
    expect(refusals.map((response) => response.statusCode)).toEqual([400, 400, 404, 401]);
    for (const response of refusals) {
      const through = response.headers["x-experience-api-consistent-through"] as string;
      expect(through).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Math.abs(Date.parse(through) - Date.now())).toBeLessThan(60_000);
    }
  });

  it("§2.1.3 Consistent-Through is honest: never later than a store still in flight", async () => {
    await post(statement(1));
    const inFlight = new Date(Date.now() - 60_000);
    const done = trackStore(inFlight);
    try {
      const response = await request("GET", "/xapi/statements");
      const through = Date.parse(response.headers["x-experience-api-consistent-through"] as string);
      expect(through).toBeLessThan(inFlight.getTime());
    } finally {
      done();
    }
    const after = await request("GET", "/xapi/statements");
    expect(Date.parse(after.headers["x-experience-api-consistent-through"] as string)).toBeGreaterThan(
      Date.now() - 10_000,
    );
  });

  it("§2.1.3 Consistent-Through: every statement stored at or before it is in the result", async () => {
    await post([statement(1), statement(2)]);
    await post(statement(3));
    const response = await request("GET", "/xapi/statements?limit=0");
    const through = Date.parse(response.headers["x-experience-api-consistent-through"] as string);
    const all = (await request("GET", "/xapi/statements?limit=0")).json().statements as { stored: string }[];
    const upToThrough = all.filter((s) => Date.parse(s.stored) <= through);
    expect(response.json().statements).toHaveLength(upToThrough.length);
    expect(upToThrough).toHaveLength(3);
  });

  it("HEAD answers every xAPI GET with its status and headers, without a body", async () => {
    const [id] = await post(statement(1));
    for (const url of [
      "/xapi/statements",
      "/xapi/statements?limit=1",
      `/xapi/statements?statementId=${id}`,
      "/xapi/about",
    ]) {
      const get = await request("GET", url);
      const head = await request("HEAD", url);
      expect(head.statusCode, url).toBe(200);
      expect(head.body, url).toBe("");
      expect(head.headers["content-type"]).toBe(get.headers["content-type"]);
      expect(head.headers["x-experience-api-version"]).toBe(get.headers["x-experience-api-version"]);
      expect(head.headers["last-modified"]).toBe(get.headers["last-modified"]);
      if (url !== "/xapi/about") expect(head.headers["x-experience-api-consistent-through"]).toBeDefined();
    }
    const missing = await request(
      "HEAD",
      "/xapi/statements?statementId=00000000-0000-4000-8000-000000000000",
    );
    expect(missing.statusCode).toBe(404);
    const bad = await request("HEAD", "/xapi/statements?colour=blue");
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toBe("");
  });
});
