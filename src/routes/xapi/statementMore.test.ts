/**
 * xAPI Communication §2.1.3 StatementResult `more`: a relative IRL to the next page of the same
 * result, stable while statements arrive, valid for 24 hours, refused when altered or stale.
 * On PostgreSQL and on the embedded PGlite.
 */
import { describe, expect, it } from "vitest";
import { SIGNING_SECRET } from "../../../test/helpers/app.ts";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";
import { MORE_VALIDITY_MS, moreLink, readMoreToken } from "../../xapi/moreLink.ts";
import { parseStatementQuery, type StatementQuery } from "../../xapi/parseStatementQuery.ts";

const ADA = { mbox: "mailto:ada@example.com" };
const statement = (n: number) => ({
  actor: ADA,
  verb: { id: "http://adlnet.gov/expapi/verbs/experienced" },
  object: { id: `https://lessons.example.com/page-${n}` },
});

describe.each(BACKENDS)("GET /xapi/statements more on %s", (backend) => {
  const x = useXapiBackend(backend);

  async function post(body: unknown): Promise<string[]> {
    const response = await x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: x.content.headers,
      payload: body as object,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }
  const get = (url: string) => x.app.inject({ method: "GET", url, headers: x.content.headers });

  /** Follows `more` from `url` to the end; returns the ids of every page. */
  async function allPages(url: string, between?: () => Promise<void>): Promise<string[][]> {
    const pages: string[][] = [];
    let next = url;
    while (next) {
      const response = await get(next);
      expect(response.statusCode, response.body).toBe(200);
      const result = response.json() as { statements: { id: string }[]; more: string };
      pages.push(result.statements.map((s) => s.id));
      next = result.more;
      await between?.();
    }
    return pages;
  }

  it("§2.1.3 more: pages through the whole result once, in order, while new statements arrive", async () => {
    const posted: string[] = [];
    for (let n = 0; n < 7; n++) posted.push(...(await post(statement(n))));
    let extra = 100;
    const arrive = async () => void (await post(statement(extra++)));

    const descending = await allPages(
      `/xapi/statements?limit=3&agent=${encodeURIComponent(JSON.stringify(ADA))}`,
      arrive,
    );
    expect(descending.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(descending.flat()).toEqual([...posted].reverse());

    const ascending = await allPages("/xapi/statements?limit=3&ascending=true", arrive);
    const ascendingIds = ascending.flat();
    // Everything stored before the first page, oldest first, and nothing that arrived later.
    expect(ascendingIds.slice(0, 7)).toEqual(posted);
    expect(ascendingIds).toHaveLength(7 + 3);
    expect(new Set(ascendingIds).size).toBe(ascendingIds.length);
  });

  it("§2.1.3 more: statements sharing one stored time are split across pages without loss", async () => {
    const posted = await post(Array.from({ length: 5 }, (_, n) => statement(n)));
    const pages = await allPages("/xapi/statements?limit=2");
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual([...posted].sort());
  });

  it("§2.1.3 more: keeps the query's format", async () => {
    await post([statement(1), statement(2)]);
    const first = (await get("/xapi/statements?limit=1&format=ids")).json();
    const second = (await get(first.more)).json();
    expect(second.statements[0].actor).toEqual({ objectType: "Agent", ...ADA });
    expect(second.more).toBe("");
  });

  it("an altered, forged or foreign more link is a 400 naming more", async () => {
    await post([statement(1), statement(2)]);
    const { more } = (await get("/xapi/statements?limit=1")).json() as { more: string };
    const token = more.split("more=")[1]!;
    const altered = `${token.slice(0, 10)}${token[10] === "A" ? "B" : "A"}${token.slice(11)}`;
    const query = parseStatementQuery(new URLSearchParams(), "1.0.3");
    if (query.kind !== "query") throw new Error("expected a query");
    const foreign = moreLink("another-lrs-secret-0123456789", {
      query: query.query,
      upperBound: new Date().toISOString(),
      after: { stored: new Date().toISOString(), id: "00000000-0000-4000-8000-000000000000" },
      expires: Date.now() + MORE_VALIDITY_MS,
    });
    for (const url of [
      `/xapi/statements?more=${altered}`,
      "/xapi/statements?more=not-a-token",
      "/xapi/statements?more=",
      foreign,
    ]) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json()).toMatchObject({ error: "invalid_more", details: [{ field: "more" }] });
    }
  });

  it("a more link older than 24 hours is a 400 saying it expired", async () => {
    const query = {
      keys: [],
      limit: 1,
      ascending: false,
      format: "exact",
      attachments: false,
    } as StatementQuery;
    const stale = moreLink(SIGNING_SECRET, {
      query,
      upperBound: new Date().toISOString(),
      after: { stored: new Date().toISOString(), id: "00000000-0000-4000-8000-000000000000" },
      expires: Date.now() - 1,
    });
    const response = await get(stale);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "expired_more", details: [{ field: "more" }] });
  });
});

describe("more link validity", () => {
  it("is at least 24 hours from the page that gave it", () => {
    const issued = Date.parse("2026-03-01T10:00:00Z");
    const query = {
      keys: ["verb:urn:x"],
      limit: 10,
      ascending: true,
      format: "ids",
      attachments: false,
    } as const;
    const cursor = {
      query: { ...query, keys: [...query.keys] },
      upperBound: "2026-03-01T10:00:00.000Z",
      after: { stored: "2026-03-01T09:00:00.000Z", id: "00000000-0000-4000-8000-000000000000" },
      expires: issued + MORE_VALIDITY_MS,
    };
    const token = moreLink("secret", cursor).split("more=")[1]!;
    expect(readMoreToken("secret", token, issued + 24 * 3600 * 1000)).toEqual(cursor);
    expect(() => readMoreToken("secret", token, issued + 24 * 3600 * 1000 + 1)).toThrow(/expired/);
  });
});
