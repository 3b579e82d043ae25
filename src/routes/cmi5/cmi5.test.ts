/**
 * cmi5 AU launch, the LMS side (cmi5 spec, "AU launch", "LMS.LaunchData", "fetch URL"), on
 * PostgreSQL and the embedded PGlite: the launch's State and `launched` statement, the one-time
 * fetch URL and the credential it hands out, and refusals that change nothing.
 */
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHeaders, SIGNING_SECRET } from "../../../test/helpers/app.ts";
import {
  DATABASE_KINDS,
  type DocumentsHarness,
  documentsHarness,
  query,
} from "../../../test/helpers/documents.ts";
import { claimLaunchCredential, FETCH_WINDOW_MS, SESSION_MS } from "../../cmi5/launchCredential.ts";
import { createCmi5Launch } from "../../commands/createCmi5Launch.ts";
import { apiCredentials, statementsRaw, users, xapiDocuments } from "../../db/schema.ts";
import { redactUrlQuery } from "../../logger.ts";

const BASE = "https://lrs.example.com";
const AU = "https://courses.example.com/loops/au-1";
const AU_URL = "https://au.example.com/loops/index.html?lang=en";

interface Launch {
  url: string;
  registration: string;
  sessionId: string;
  actor: Record<string, unknown>;
  launchedStatementId: string;
  expiresAt: string;
}

describe.each(DATABASE_KINDS)("cmi5 launches on %s", (kind) => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness(kind, { PUBLIC_BASE_URL: BASE });
    await h.database.db
      .insert(users)
      .values({ name: "Ada Lovelace", email: "ada@example.com", avatar: "ada", cohortId: "c1" });
  });
  afterAll(async () => {
    await h.close();
  });

  const launch = (body: Record<string, unknown>) =>
    h.app.inject({ method: "POST", url: "/api/cmi5/launches", headers: adminHeaders, payload: body });
  const fetchPath = (launchUrl: string) => new URL(new URL(launchUrl).searchParams.get("fetch")!).pathname;
  const postFetch = (path: string, headers: Record<string, string> = {}) =>
    h.app.inject({ method: "POST", url: path, headers });
  const xapi = (url: string, authorization = h.credential.headers.authorization!) =>
    h.app.inject({ method: "GET", url, headers: { authorization, "x-experience-api-version": "2.0.0" } });
  const counts = async () => {
    const db = h.database.db;
    const [credentials] = await db.select({ n: count() }).from(apiCredentials);
    const [documents] = await db.select({ n: count() }).from(xapiDocuments);
    const [statements] = await db.select({ n: count() }).from(statementsRaw);
    return [credentials!.n, documents!.n, statements!.n];
  };

  it("cmi5 AU launch: writes LMS.LaunchData, records launched, and answers the launch URL", async () => {
    const response = await launch({
      learner: "ada",
      activityId: AU,
      auUrl: AU_URL,
      moveOn: "Passed",
      masteryScore: 0.8,
      returnUrl: "https://lms.example.com/back",
      launchParameters: '{"level":2}',
    });
    expect(response.statusCode).toBe(201);
    const body = response.json<Launch>();
    const actor = { objectType: "Agent", name: "Ada Lovelace", account: { homePage: BASE, name: "ada" } };
    expect(body.actor).toEqual(actor);

    const url = new URL(body.url);
    expect(`${url.origin}${url.pathname}`).toBe("https://au.example.com/loops/index.html");
    expect(url.searchParams.get("lang")).toBe("en");
    expect(url.searchParams.get("endpoint")).toBe(`${BASE}/xapi/`);
    expect(url.searchParams.get("fetch")).toMatch(/^https:\/\/lrs\.example\.com\/xapi\/cmi5\/fetch\/cmi5_/);
    expect(JSON.parse(url.searchParams.get("actor")!)).toEqual(actor);
    expect(url.searchParams.get("registration")).toBe(body.registration);
    expect(url.searchParams.get("activityId")).toBe(AU);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(SESSION_MS - 60_000);

    const state = await xapi(
      `/xapi/activities/state${query({ activityId: AU, agent: actor, registration: body.registration, stateId: "LMS.LaunchData" })}`,
    );
    expect(state.statusCode).toBe(200);
    expect(state.json()).toEqual({
      contextTemplate: {
        contextActivities: { grouping: [{ id: AU }] },
        extensions: { "https://w3id.org/xapi/cmi5/context/extensions/sessionid": body.sessionId },
      },
      launchMode: "Normal",
      launchMethod: "AnyWindow",
      moveOn: "Passed",
      masteryScore: 0.8,
      returnURL: "https://lms.example.com/back",
      launchParameters: '{"level":2}',
    });

    const launched = (
      await xapi(`/xapi/statements${query({ statementId: body.launchedStatementId })}`)
    ).json();
    expect(launched.verb.id).toBe("http://adlnet.gov/expapi/verbs/launched");
    expect(launched.object.id).toBe(AU);
    expect(launched.actor).toEqual(actor);
    expect(launched.context.registration).toBe(body.registration);
    expect(launched.context.contextActivities.category).toEqual([
      { id: "https://w3id.org/xapi/cmi5/context/categories/cmi5" },
    ]);
    const extensions = launched.context.extensions;
    expect(extensions["https://w3id.org/xapi/cmi5/context/extensions/sessionid"]).toBe(body.sessionId);
    expect(extensions["https://w3id.org/xapi/cmi5/context/extensions/launchmode"]).toBe("Normal");
    expect(extensions["https://w3id.org/xapi/cmi5/context/extensions/moveon"]).toBe("Passed");
    // The recorded launch URL is the launch URL without its one-time fetch token.
    const recorded = new URL(extensions["https://w3id.org/xapi/cmi5/context/extensions/launchurl"]);
    expect(recorded.searchParams.has("fetch")).toBe(false);
    expect(recorded.searchParams.get("registration")).toBe(body.registration);
  });

  it("cmi5 AU launch: a launch in an earlier registration is a new session of it", async () => {
    const first = (await launch({ learner: "ada", activityId: AU, auUrl: AU_URL })).json<Launch>();
    const second = await launch({
      learner: "ada",
      activityId: AU,
      auUrl: AU_URL,
      registration: first.registration.toUpperCase(),
    });
    expect(second.statusCode).toBe(201);
    expect(second.json<Launch>().registration).toBe(first.registration);
    expect(second.json<Launch>().sessionId).not.toBe(first.sessionId);
  });

  it("cmi5 fetch URL: answers the auth-token once; later POSTs answer error-code 1", async () => {
    const body = (await launch({ learner: "ada", activityId: AU, auUrl: AU_URL })).json<Launch>();
    const path = fetchPath(body.url);
    // The AU posts from its own origin, without the xAPI version header.
    const first = await postFetch(path, { origin: "https://au.example.com" });
    expect(first.statusCode).toBe(200);
    expect(first.headers["access-control-allow-origin"]).toBeDefined();
    expect(first.headers["cache-control"]).toBe("no-store");
    const token = first.json()["auth-token"] as string;
    expect(Buffer.from(token, "base64").toString()).toMatch(/^cmi5_[\w-]+:[\w-]+$/);

    const again = await postFetch(path);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ "error-code": "1", error: "fetch_already_used" });
    expect(again.json()["error-text"]).toMatch(/already used/);

    // The token is an xAPI Basic credential that may store statements, not read the LRS's.
    const statement = {
      actor: body.actor,
      verb: { id: "http://adlnet.gov/expapi/verbs/initialized" },
      object: { id: AU },
      context: { registration: body.registration },
    };
    const stored = await h.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { authorization: `Basic ${token}`, "x-experience-api-version": "2.0.0" },
      payload: statement,
    });
    expect(stored.statusCode).toBe(200);
    const read = await xapi("/xapi/statements", `Basic ${token}`);
    expect(read.statusCode).toBe(403);
  });

  it("cmi5 fetch URL: the credential acts for the launch's learner only", async () => {
    const body = (await launch({ learner: "ada", activityId: AU, auUrl: AU_URL })).json<Launch>();
    const token = (await postFetch(fetchPath(body.url))).json()["auth-token"] as string;
    const headers = {
      authorization: `Basic ${token}`,
      "x-experience-api-version": "2.0.0",
      "content-type": "application/json",
    };
    const grace = { objectType: "Agent", mbox: "mailto:grace@example.com" };
    const before = await counts();
    const statement = (actor: unknown) => ({
      actor,
      verb: { id: "http://adlnet.gov/expapi/verbs/completed" },
      object: { id: AU },
    });
    const forOther = await h.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers,
      payload: [statement(body.actor), statement(grace)],
    });
    expect(forOther.statusCode).toBe(403);
    expect(forOther.json()).toMatchObject({
      error: "insufficient_scope",
      details: [{ field: "statement[1].actor" }],
    });
    const document = (agent: unknown, method: "GET" | "PUT", url = "/xapi/activities/state") =>
      h.app.inject({
        method,
        url: `${url}${query({ activityId: AU, agent, stateId: "bookmark" })}`,
        headers,
        ...(method === "PUT" ? { payload: { page: 3 } } : {}),
      });
    const othersState = await document(grace, "PUT");
    expect(othersState.statusCode).toBe(403);
    expect(othersState.json().details[0].field).toBe("agent");
    expect((await document(grace, "GET")).statusCode).toBe(403);
    const profile = await h.app.inject({
      method: "PUT",
      url: `/xapi/activities/profile${query({ activityId: AU, profileId: "p" })}`,
      headers,
      payload: {},
    });
    expect(profile.statusCode).toBe(403);
    expect(await counts()).toEqual(before);
    // Its own State it may keep, and its own learner preferences it may read (none here).
    expect((await document(body.actor, "PUT")).statusCode).toBe(204);
    const preferences = await h.app.inject({
      method: "GET",
      url: `/xapi/agents/profile${query({ agent: body.actor, profileId: "cmi5LearnerPreferences" })}`,
      headers,
    });
    expect(preferences.statusCode).toBe(404);
  });

  it("cmi5 fetch URL: a forged token answers error-code 3, an expired one error-code 2", async () => {
    const body = (await launch({ learner: "ada", activityId: AU, auUrl: AU_URL })).json<Launch>();
    const path = fetchPath(body.url);
    const forged = await postFetch(`${path.slice(0, -3)}AAA`);
    expect(forged.json()).toMatchObject({ "error-code": "3", error: "fetch_unknown" });
    expect((await postFetch("/xapi/cmi5/fetch/nothing")).json()["error-code"]).toBe("3");

    const past = new Date(Date.now() - FETCH_WINDOW_MS - 1_000);
    const old = await createCmi5Launch(
      h.database.db,
      { learner: "ada", activityId: AU, auUrl: AU_URL },
      { publicBaseUrl: BASE, signingSecret: SIGNING_SECRET, now: past },
    );
    const expired = await postFetch(fetchPath(old.url));
    expect(expired.statusCode).toBe(400);
    expect(expired.json()).toMatchObject({ "error-code": "2", error: "fetch_expired" });
    // The one that was forged is still good for its AU.
    expect((await postFetch(path)).statusCode).toBe(200);
  });

  it("cmi5 fetch URL: the credential stops working when the session ends", async () => {
    const started = new Date(Date.now() - SESSION_MS + 2_000);
    const old = await createCmi5Launch(
      h.database.db,
      { learner: "ada", activityId: AU, auUrl: AU_URL },
      { publicBaseUrl: BASE, signingSecret: SIGNING_SECRET, now: started },
    );
    // Within its fetch window no more, so claim it as the AU would have, then.
    const claimed = await claimLaunchCredential(
      h.database.db,
      SIGNING_SECRET,
      decodeURIComponent(fetchPath(old.url).split("/").pop()!),
      new Date(started.getTime() + 1_000),
    );
    if (!("authToken" in claimed)) throw new Error(`not claimed: ${claimed.reason}`);
    const getState = () =>
      h.app.inject({
        method: "GET",
        url: `/xapi/activities/state${query({ activityId: AU, agent: old.actor, registration: old.registration, stateId: "LMS.LaunchData" })}`,
        headers: { authorization: `Basic ${claimed.authToken}`, "x-experience-api-version": "2.0.0" },
      });
    expect((await getState()).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await getState()).statusCode).toBe(401);
  });

  it("refuses bad launches with 400 naming the field (404 for an unknown learner), storing nothing", async () => {
    const before = await counts();
    const good = { learner: "ada", activityId: AU, auUrl: AU_URL };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, learner: undefined }, "learner"],
      [{ ...good, activityId: "not an iri" }, "activityId"],
      [{ ...good, auUrl: "javascript:alert(1)" }, "auUrl"],
      [{ ...good, launchMode: "Sideways" }, "launchMode"],
      [{ ...good, moveOn: "Whenever" }, "moveOn"],
      [{ ...good, masteryScore: 2 }, "masteryScore"],
      [{ ...good, registration: "not-a-uuid" }, "registration"],
      [{ ...good, returnUrl: "ftp://x" }, "returnUrl"],
    ];
    for (const [body, field] of cases) {
      const response = await launch(body);
      expect(response.statusCode, field).toBe(400);
      expect(response.json().error).toBe("validation_error");
      expect(response.json().details.map((detail: { field: string }) => detail.field)).toContain(field);
    }
    const unknown = await launch({ ...good, learner: "grace" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: "learner_not_found", details: [{ field: "learner" }] });
    const anonymous = await h.app.inject({ method: "POST", url: "/api/cmi5/launches", payload: good });
    expect(anonymous.statusCode).toBe(401);
    expect(await counts()).toEqual(before);
  });
});

describe("cmi5 fetch URL in logs", () => {
  it("masks the one-time token of the path", () => {
    expect(redactUrlQuery("/xapi/cmi5/fetch/cmi5_abc.SIGNATURE")).toBe("/xapi/cmi5/fetch/***");
    expect(redactUrlQuery("/xapi/statements?token=x")).toBe("/xapi/statements?token=***");
  });
});
