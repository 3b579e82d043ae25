/**
 * Request parameters and errors of the document resources (xAPI Communication §2.3–2.7, §3.2):
 * missing, repeated, unknown, mis-cased or malformed parameters are 400 naming the parameter;
 * a document larger than the limit is 413; nothing stored changes when a request is refused.
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

const STATE = { activityId: ACTIVITY, agent: ADA, stateId: "bookmark" };

describe.each(DATABASE_KINDS)("document parameters on %s", (kind) => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness(kind, { BODY_LIMIT: "4kb" });
    const stored = await put(`/xapi/activities/state${query(STATE)}`, "slide-7");
    expect(stored.statusCode).toBe(204);
  });
  afterAll(async () => {
    await h.close();
  });

  function put(url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
    return h.app.inject({
      method: "PUT",
      url,
      headers: { ...h.credential.headers, "content-type": "text/plain", ...headers },
      payload,
    });
  }
  async function expectUnchanged() {
    const response = await h.app.inject({
      method: "GET",
      url: `/xapi/activities/state${query(STATE)}`,
      headers: h.credential.headers,
    });
    expect(response.body).toBe("slide-7");
  }

  it.each([
    ["activityId", "missing", { activityId: undefined }],
    ["activityId", "not an IRI", { activityId: "lesson one" }],
    ["agent", "missing", { agent: undefined }],
    ["agent", "not JSON", { agent: "mailto:ada@example.com" }],
    ["agent", "without an IFI", { agent: { name: "Ada" } }],
    [
      "agent",
      "with two IFIs",
      { agent: { mbox: "mailto:ada@example.com", openid: "https://id.example.com/ada" } },
    ],
    ["agent.mbox", "with a bad mbox", { agent: { mbox: "ada@example.com" } }],
    ["agent.objectType", "a Group", { agent: { objectType: "Group", mbox: "mailto:team@example.com" } }],
    ["registration", "not a UUID", { registration: "first-attempt" }],
    ["stateId", "missing", { stateId: undefined }],
    ["stateId", "empty", { stateId: "" }],
    ["ActivityId", "mis-cased", { ActivityId: ACTIVITY }],
    ["profileId", "not a State parameter", { profileId: "x" }],
    ["since", "not allowed on PUT", { since: "2024-01-01T00:00:00Z" }],
  ])("PUT with %s %s is 400 naming it, and changes nothing", async (field, _, override) => {
    const response = await put(`/xapi/activities/state${query({ ...STATE, ...override })}`, "slide-1");
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.details[0].field).toBe(field);
    expect(body.message).toContain(field);
    await expectUnchanged();
  });

  it("a parameter given twice is 400 naming it", async () => {
    const url = `/xapi/activities/state${query(STATE)}&stateId=other`;
    const response = await put(url, "slide-1");
    expect(response.statusCode).toBe(400);
    expect(response.json().details[0].field).toBe("stateId");
    await expectUnchanged();
  });

  it.each([
    ["a malformed since", { stateId: undefined, since: "yesterday" }, "since"],
    ["since with stateId", { since: "2024-01-01T00:00:00Z" }, "since"],
  ])("GET with %s is 400 naming it", async (_, override, field) => {
    const response = await h.app.inject({
      method: "GET",
      url: `/xapi/activities/state${query({ ...STATE, ...override })}`,
      headers: h.credential.headers,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().details[0].field).toBe(field);
  });

  it("an application/json document that is not JSON is 400, and changes nothing", async () => {
    const response = await put(`/xapi/activities/state${query(STATE)}`, "{not json", {
      "content-type": "application/json",
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_json", details: [{ field: "body" }] });
    await expectUnchanged();
  });

  it("a document larger than the limit is 413, and changes nothing", async () => {
    const response = await put(`/xapi/activities/state${query(STATE)}`, Buffer.alloc(5000, 0x61));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: "payload_too_large" });
    await expectUnchanged();
  });

  it("is 401 without a credential and 400 without X-Experience-API-Version", async () => {
    const url = `/xapi/activities/state${query(STATE)}`;
    const anonymous = await h.app.inject({
      method: "GET",
      url,
      headers: { "x-experience-api-version": "1.0.3" },
    });
    expect(anonymous.statusCode).toBe(401);
    const unversioned = await h.app.inject({
      method: "GET",
      url,
      headers: { authorization: h.credential.headers.authorization! },
    });
    expect(unversioned.statusCode).toBe(400);
    expect(unversioned.json().details[0].field).toBe("X-Experience-API-Version");
  });

  it.each([
    ["/xapi/activities/profile", { profileId: "p" }, "activityId"],
    ["/xapi/agents/profile", { profileId: "p" }, "agent"],
    ["/xapi/agents/profile", { agent: ADA, profileId: "p", activityId: ACTIVITY }, "activityId"],
  ])("%s with %j is 400 naming %s", async (path, parameters, field) => {
    const response = await h.app.inject({
      method: "GET",
      url: `${path}${query(parameters)}`,
      headers: h.credential.headers,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().details[0].field).toBe(field);
  });
});
