/**
 * Agents (xAPI Communication §2.5: the Person object) and Activities (§2.4: the canonical
 * definition) resources, on PostgreSQL and the embedded PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_KINDS,
  type DocumentsHarness,
  documentsHarness,
  query,
} from "../../../test/helpers/documents.ts";
import { recordStatements, statement } from "../../../test/helpers/xapi.ts";
import { users } from "../../db/schema.ts";

const BASE = "https://lrs.example.com";
const LESSON = "https://lessons.example.com/course/day-9";

describe.each(DATABASE_KINDS)("Agents and Activities on %s", (kind) => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness(kind, { PUBLIC_BASE_URL: BASE });
    await h.database.db
      .insert(users)
      .values({ name: "Ada Lovelace", email: "Ada@Example.com", avatar: "ada", cohortId: "c1" });
    await recordStatements(
      h.database.db,
      [
        statement({
          actor: { name: "Ada L.", mbox: "mailto:ada@example.com" },
          object: {
            id: LESSON,
            definition: { name: { "en-US": "Day 9" }, type: "http://adlnet.gov/expapi/activities/lesson" },
          },
        }),
        statement({
          actor: { name: "ada (account)", account: { homePage: `${BASE}/`, name: "ada" } },
          object: {
            id: LESSON,
            definition: {
              name: { "fr-FR": "Jour 9", "en-US": "Day nine" },
              description: { "en-US": "Loops" },
            },
          },
        }),
        statement({ actor: { name: "Grace", mbox: "mailto:grace@example.com" } }),
      ],
      BASE,
    );
  });
  afterAll(async () => {
    await h.close();
  });

  const get = (url: string) => h.app.inject({ method: "GET", url, headers: h.credential.headers });

  it("answers a learner's Person with every name and identifier known for them", async () => {
    const response = await get(`/xapi/agents${query({ agent: { mbox: "mailto:ada@example.com" } })}`);
    expect(response.statusCode).toBe(200);
    const person = response.json();
    expect(person.objectType).toBe("Person");
    expect(person.name.sort()).toEqual(["Ada L.", "Ada Lovelace", "ada (account)"]);
    expect(person.mbox).toEqual(["mailto:ada@example.com"]);
    expect(person.account).toEqual([{ homePage: BASE, name: "ada" }]);
  });

  it("finds the same learner from their account", async () => {
    const person = (
      await get(`/xapi/agents${query({ agent: { account: { homePage: BASE, name: "ada" } } })}`)
    ).json();
    expect(person.mbox).toEqual(["mailto:Ada@Example.com"]);
    expect(person.name).toContain("Ada Lovelace");
  });

  it("answers an Agent it knows nothing more of with a Person of that Agent alone", async () => {
    const openid = "https://openid.example.com/nobody";
    const person = (await get(`/xapi/agents${query({ agent: { openid } })}`)).json();
    expect(person).toEqual({ objectType: "Person", openid: [openid] });
    const grace = (await get(`/xapi/agents${query({ agent: { mbox: "mailto:grace@example.com" } })}`)).json();
    expect(grace).toEqual({ objectType: "Person", name: ["Grace"], mbox: ["mailto:grace@example.com"] });
  });

  it("is 400 naming agent when it is missing or invalid, and naming an unknown parameter", async () => {
    expect((await get("/xapi/agents")).json().details[0].field).toBe("agent");
    expect((await get(`/xapi/agents${query({ agent: { name: "no IFI" } })}`)).statusCode).toBe(400);
    const extra = await get(`/xapi/agents${query({ agent: { mbox: "mailto:a@example.com" }, since: "x" })}`);
    expect(extra.json().details[0].field).toBe("since");
  });

  it("answers an Activity with its definition merged from the statements, language maps unioned", async () => {
    const response = await get(`/xapi/activities${query({ activityId: LESSON })}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      objectType: "Activity",
      id: LESSON,
      definition: {
        name: { "en-US": "Day nine", "fr-FR": "Jour 9" },
        description: { "en-US": "Loops" },
        type: "http://adlnet.gov/expapi/activities/lesson",
      },
    });
  });

  it("answers an Activity it has no definition for with its id alone", async () => {
    const id = "https://lessons.example.com/never-seen";
    expect((await get(`/xapi/activities${query({ activityId: id })}`)).json()).toEqual({
      objectType: "Activity",
      id,
    });
  });

  it("is 400 naming activityId when it is missing or not an IRI", async () => {
    for (const url of ["/xapi/activities", `/xapi/activities${query({ activityId: "not an iri" })}`]) {
      const response = await get(url);
      expect(response.statusCode).toBe(400);
      expect(response.json().details[0].field).toBe("activityId");
    }
  });
});
