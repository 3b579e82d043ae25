/**
 * xAPI 1.0.3 Communication §2.1.3 (2.0.0: the same clauses), GET Statements: the filter
 * parameters, `related_*`, since/until, limit, ascending, the StatementRef rule, and the 400s for
 * parameters it does not accept. On PostgreSQL and on the embedded PGlite.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";
import { MAX_QUERY_LIMIT } from "../../xapi/parseStatementQuery.ts";

const ADA = { objectType: "Agent", name: "Ada", mbox: "mailto:ada@example.com" };
const GRACE = { name: "Grace", account: { homePage: "https://lessons.example.com", name: "grace" } };
const BOB = { mbox_sha1sum: "ebd31e95054c018b10727ccffd2ef2ec3a016ee9" };
const ZOE = { openid: "https://openid.example.com/zoe" };
const TEAM = { objectType: "Group", name: "Team", mbox: "mailto:team@example.com", member: [ADA] };
const verb = (name: string) => ({ id: `http://adlnet.gov/expapi/verbs/${name}`, display: { "en-US": name } });
const activity = (name: string) => ({ objectType: "Activity", id: `https://lessons.example.com/${name}` });
const REGISTRATION = randomUUID();

describe.each(BACKENDS)("GET /xapi/statements queries on %s", (backend) => {
  const x = useXapiBackend(backend);

  async function post(body: unknown, version = "1.0.3"): Promise<string[]> {
    const response = await x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...x.content.headers, "x-experience-api-version": version },
      payload: body as object,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  function get(query: Record<string, string | object>, version = "1.0.3") {
    const search = new URLSearchParams(
      Object.entries(query).map(([k, v]): [string, string] => [
        k,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
    return x.app.inject({
      method: "GET",
      url: `/xapi/statements?${search}`,
      headers: { ...x.content.headers, "x-experience-api-version": version },
    });
  }

  async function ids(query: Record<string, string | object>, version?: string): Promise<string[]> {
    const response = await get(query, version);
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json() as { statements: { id: string }[]; more: string };
    return result.statements.map((s) => s.id).sort();
  }

  const sorted = (...list: (string | undefined)[]) => [...list].map(String).sort();

  /** One statement per request, so each has its own `stored`. */
  async function seed() {
    const [s1] = await post({
      actor: ADA,
      verb: verb("completed"),
      object: activity("a"),
      context: {
        registration: REGISTRATION,
        instructor: GRACE,
        contextActivities: { parent: [activity("parent")] },
      },
    });
    const [s2] = await post({ actor: GRACE, verb: verb("attempted"), object: activity("b") });
    const [s3] = await post({
      actor: BOB,
      verb: verb("experienced"),
      object: {
        objectType: "SubStatement",
        actor: ADA,
        verb: verb("completed"),
        object: activity("c"),
        context: { contextActivities: { grouping: activity("grouping") } },
      },
    });
    const [s4] = await post({ actor: BOB, verb: verb("mentored"), object: ADA });
    const [s5] = await post(
      {
        actor: BOB,
        verb: verb("attended"),
        object: activity("d"),
        context: {
          contextAgents: [{ objectType: "contextAgent", agent: ZOE }],
          contextGroups: [{ objectType: "contextGroup", group: TEAM }],
        },
      },
      "2.0.0",
    );
    const [s6] = await post({ actor: TEAM, verb: verb("attended"), object: activity("d") });
    const [s7] = await post({
      actor: BOB,
      verb: verb("liked"),
      object: { objectType: "StatementRef", id: s2 },
    });
    return { s1, s2, s3, s4, s5, s6, s7 };
  }

  it("§2.1.3 without filters: a StatementResult of every statement, newest stored first", async () => {
    const s = await seed();
    const response = await get({});
    expect(response.statusCode).toBe(200);
    const result = response.json();
    expect(result.more).toBe("");
    expect(result.statements.map((st: { id: string }) => st.id)).toEqual(
      [s.s1, s.s2, s.s3, s.s4, s.s5, s.s6, s.s7].reverse(),
    );
  });

  it("§2.1.3 agent: the actor or an Agent/Group object, by IFI and objectType", async () => {
    const s = await seed();
    expect(await ids({ agent: { mbox: "mailto:ada@example.com" } })).toEqual(sorted(s.s1, s.s4));
    // mbox compares without letter case, as statement comparison and learner matching do.
    expect(await ids({ agent: { mbox: "mailto:ADA@Example.com" } })).toEqual(sorted(s.s1, s.s4));
    expect(await ids({ agent: { account: GRACE.account } })).toEqual(sorted(s.s2, s.s7));
    expect(await ids({ agent: BOB })).toEqual(sorted(s.s3, s.s4, s.s5, s.s7));
    expect(await ids({ agent: { objectType: "Group", mbox: TEAM.mbox } })).toEqual([s.s6]);
    // Same IFI, other objectType: a different identity (Data §2.4.2.1).
    expect(await ids({ agent: { mbox: TEAM.mbox } })).toEqual([]);
  });

  it("§2.1.3 related_agents: also authority, instructor, team, context agents/groups, SubStatements", async () => {
    const s = await seed();
    expect(await ids({ agent: ADA, related_agents: "true" })).toEqual(sorted(s.s1, s.s3, s.s4));
    expect(await ids({ agent: GRACE, related_agents: "true" })).toEqual(sorted(s.s1, s.s2, s.s7));
    expect(await ids({ agent: ZOE, related_agents: "true" })).toEqual([s.s5]);
    expect(await ids({ agent: ZOE })).toEqual([]);
    expect(await ids({ agent: { objectType: "Group", mbox: TEAM.mbox }, related_agents: "true" })).toEqual(
      sorted(s.s5, s.s6),
    );
    const authority = {
      account: { homePage: "https://lrs.example.com/xapi/credentials", name: x.content.key },
    };
    expect(await ids({ agent: authority, related_agents: "true" })).toHaveLength(7);
    expect(await ids({ agent: authority })).toEqual([]);
  });

  it("§2.1.3 verb and registration", async () => {
    const s = await seed();
    expect(await ids({ verb: verb("completed").id })).toEqual([s.s1]);
    expect(await ids({ verb: verb("attended").id })).toEqual(sorted(s.s5, s.s6));
    expect(await ids({ registration: REGISTRATION.toUpperCase() })).toEqual([s.s1]);
    expect(await ids({ registration: randomUUID() })).toEqual([]);
  });

  it("§2.1.3 activity: the object; related_activities: context activities and SubStatements too", async () => {
    const s = await seed();
    expect(await ids({ activity: activity("a").id })).toEqual([s.s1]);
    expect(await ids({ activity: activity("parent").id })).toEqual([]);
    expect(await ids({ activity: activity("parent").id, related_activities: "true" })).toEqual([s.s1]);
    expect(await ids({ activity: activity("c").id })).toEqual([]);
    expect(await ids({ activity: activity("c").id, related_activities: "true" })).toEqual([s.s3]);
    expect(await ids({ activity: activity("grouping").id, related_activities: "true" })).toEqual([s.s3]);
  });

  it("§2.1.3 filters combine: every one must match", async () => {
    const s = await seed();
    expect(await ids({ agent: BOB, verb: verb("attended").id })).toEqual([s.s5]);
    expect(await ids({ agent: BOB, verb: verb("attended").id, activity: activity("d").id })).toEqual([s.s5]);
    expect(await ids({ agent: ADA, verb: verb("attended").id })).toEqual([]);
    expect(await ids({ activity: activity("a").id, verb: verb("completed").id })).toEqual([s.s1]);
    expect(await ids({ activity: activity("a").id, verb: verb("attempted").id })).toEqual([]);
    expect(await ids({ registration: REGISTRATION, verb: verb("completed").id })).toEqual([s.s1]);
    expect(
      await ids({ activity: activity("parent").id, related_activities: "true", verb: verb("completed").id }),
    ).toEqual([s.s1]);
    // The verb is the statement's own, never a SubStatement's (s3 is "experienced").
    expect(await ids({ agent: ADA, related_agents: "true", verb: verb("completed").id })).toEqual([s.s1]);
    expect(
      await ids({
        agent: ADA,
        related_agents: "true",
        activity: activity("c").id,
        related_activities: "true",
      }),
    ).toEqual([s.s3]);
  });

  it("§2.1.3 a statement targeting another by StatementRef meets the filters its target meets", async () => {
    const s = await seed();
    expect(await ids({ verb: verb("attempted").id })).toEqual(sorted(s.s2, s.s7));
    expect(await ids({ activity: activity("b").id })).toEqual(sorted(s.s2, s.s7));
    expect(await ids({ verb: verb("liked").id })).toEqual([s.s7]);
    // With another filter too: the target's verb and the statement's own both count.
    expect(await ids({ activity: activity("b").id, verb: verb("attempted").id })).toEqual(sorted(s.s2, s.s7));
    expect(await ids({ activity: activity("b").id, verb: verb("liked").id })).toEqual([s.s7]);
    expect(await ids({ activity: activity("b").id, verb: verb("completed").id })).toEqual([]);
    // Recursively: a statement targeting s7 meets what s2 meets.
    const [s8] = await post({
      actor: ZOE,
      verb: verb("shared"),
      object: { objectType: "StatementRef", id: s.s7 },
    });
    expect(await ids({ activity: activity("b").id })).toEqual(sorted(s.s2, s.s7, s8));
  });

  it("§2.1.3 since is exclusive and until inclusive, on stored", async () => {
    const [first] = await post({ actor: ADA, verb: verb("completed"), object: activity("a") });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [second] = await post({ actor: ADA, verb: verb("completed"), object: activity("a") });
    const all = (await get({})).json().statements as { id: string; stored: string }[];
    const stored = all.find((st) => st.id === first)!.stored;
    expect(await ids({ since: stored })).toEqual([second]);
    expect(await ids({ until: stored })).toEqual([first]);
    expect(await ids({ since: stored, until: stored })).toEqual([]);
    expect(await ids({ since: "2000-01-01T00:00:00+01:00", agent: ADA })).toEqual(sorted(first, second));
  });

  it("§2.1.3 limit and ascending", async () => {
    const posted: string[] = [];
    for (let i = 0; i < 4; i++)
      posted.push(...(await post({ actor: ADA, verb: verb("completed"), object: activity("a") })));
    const page = (await get({ limit: "2" })).json();
    expect(page.statements.map((st: { id: string }) => st.id)).toEqual([posted[3], posted[2]]);
    expect(page.more).toMatch(/^\/xapi\/statements\?more=/);
    const ascending = (await get({ limit: "3", ascending: "true", agent: ADA })).json();
    expect(ascending.statements.map((st: { id: string }) => st.id)).toEqual(posted.slice(0, 3));
    const everything = (await get({ limit: "0" })).json();
    expect(everything.statements).toHaveLength(4);
    expect(everything.more).toBe("");
  });

  it(`§2.1.3 limit=0 (and a larger limit) means the server's maximum, ${MAX_QUERY_LIMIT}`, async () => {
    const batch = Array.from({ length: MAX_QUERY_LIMIT + 1 }, () => ({
      actor: ADA,
      verb: verb("completed"),
      object: activity("a"),
    }));
    await post(batch);
    for (const limit of ["0", String(MAX_QUERY_LIMIT + 100)]) {
      const result = (await get({ limit })).json();
      expect(result.statements).toHaveLength(MAX_QUERY_LIMIT);
      expect(result.more).not.toBe("");
    }
  });

  it("§2.1.3 read-your-writes: a statement is found as soon as its POST has answered", async () => {
    for (let i = 0; i < 5; i++) {
      const [id] = await post({ actor: ZOE, verb: verb("completed"), object: activity(`rw-${i}`) });
      expect(await ids({ activity: activity(`rw-${i}`).id, agent: ZOE })).toEqual([id]);
    }
  });

  describe("§2.1.3 parameters it does not accept: 400 naming the parameter, nothing changed", () => {
    it.each([
      [{ color: "blue" }, "color", "unknown_parameter"],
      [{ agent: "{not json" }, "agent", "invalid_parameter"],
      [{ agent: { name: "no identifier" } }, "agent", "invalid_parameter"],
      [{ agent: { mbox: "ada@example.com" } }, "agent.mbox", "invalid_parameter"],
      [{ agent: { objectType: "Group", member: [ADA] } }, "agent", "invalid_parameter"],
      [{ verb: "not an iri" }, "verb", "invalid_parameter"],
      [{ activity: "" }, "activity", "invalid_parameter"],
      [{ registration: "42" }, "registration", "invalid_parameter"],
      [{ since: "yesterday" }, "since", "invalid_parameter"],
      [{ until: "2026-01-01T00:00:00" }, "until", "invalid_parameter"],
      [{ limit: "-1" }, "limit", "invalid_parameter"],
      [{ limit: "ten" }, "limit", "invalid_parameter"],
      [{ format: "full" }, "format", "invalid_parameter"],
      [{ ascending: "yes" }, "ascending", "invalid_parameter"],
      [{ related_agents: "1" }, "related_agents", "invalid_parameter"],
      [{ attachments: "maybe" }, "attachments", "invalid_parameter"],
      [{ statementId: randomUUID(), verb: verb("completed").id }, "verb", "invalid_parameter"],
      [{ voidedStatementId: randomUUID(), limit: "1" }, "limit", "invalid_parameter"],
      [
        { statementId: randomUUID(), voidedStatementId: randomUUID() },
        "voidedStatementId",
        "invalid_parameter",
      ],
      [{ statementId: "42" }, "statementId", "invalid_parameter"],
      [{ more: "x", limit: "1" }, "limit", "invalid_parameter"],
    ])("%j → 400 naming %s", async (query, field, code) => {
      const [id] = await post({ actor: ADA, verb: verb("completed"), object: activity("a") });
      const response = await get(query as Record<string, string>);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: code, details: [{ field }] });
      expect(response.json().message).toContain(field);
      expect(await ids({})).toEqual([id]);
    });

    it("a parameter given twice", async () => {
      const response = await x.app.inject({
        method: "GET",
        url: "/xapi/statements?limit=1&limit=2",
        headers: x.content.headers,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ details: [{ field: "limit" }] });
    });

    it("statementId with format and attachments is fine", async () => {
      const [id] = await post({ actor: ADA, verb: verb("completed"), object: activity("a") });
      const response = await get({ statementId: id!, format: "ids", attachments: "false" });
      expect(response.statusCode).toBe(200);
      expect(response.json().id).toBe(id);
    });
  });
});
