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

  const post = (statements: unknown[]) =>
    h.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...h.credential.headers, "content-type": "application/json" },
      payload: statements,
    });
  const activity = async (id: string) => (await get(`/xapi/activities${query({ activityId: id })}`)).json();

  it("Communication §2.4: answers a definition as soon as the statement's POST has answered", async () => {
    const id = "https://lessons.example.com/course/day-10";
    const first = statement({ object: { id, definition: { name: { "en-US": "Day 10" }, type: "urn:a" } } });
    const second = statement({
      object: { id, definition: { name: { "fr-FR": "Jour 10" }, type: "urn:b" } },
    });
    expect((await post([first, second])).statusCode).toBe(200);
    // Oldest first within one request: the second statement's type wins, the names are unioned.
    expect(await activity(id)).toEqual({
      objectType: "Activity",
      id,
      definition: { name: { "en-US": "Day 10", "fr-FR": "Jour 10" }, type: "urn:b" },
    });
  });

  it("Communication §2.4: takes definitions given in context activities, as one object or a list", async () => {
    const course = "https://lessons.example.com/course";
    const track = "https://lessons.example.com/tracks/loops";
    const response = await post([
      statement({
        context: {
          contextActivities: {
            parent: { id: course, definition: { name: { "en-US": "The course" } } },
            category: [{ id: track, definition: { type: "urn:track" } }],
          },
        },
      }),
      statement({
        context: {
          contextActivities: {
            grouping: [{ id: course, definition: { description: { "en-US": "All days" } } }],
          },
        },
      }),
    ]);
    expect(response.statusCode).toBe(200);
    expect(await activity(course)).toEqual({
      objectType: "Activity",
      id: course,
      definition: { name: { "en-US": "The course" }, description: { "en-US": "All days" } },
    });
    expect((await activity(track)).definition).toEqual({ type: "urn:track" });
  });

  it("Communication §2.4: takes definitions given inside a SubStatement, its object and its context", async () => {
    const planned = "https://lessons.example.com/course/day-11";
    const module = "https://lessons.example.com/modules/2";
    const response = await post([
      statement({
        verb: { id: "http://adlnet.gov/expapi/verbs/planned" },
        object: {
          objectType: "SubStatement",
          actor: { mbox: "mailto:ada@example.com" },
          verb: { id: "http://adlnet.gov/expapi/verbs/attempted" },
          object: { id: planned, definition: { name: { "en-US": "Day 11" } } },
          context: {
            contextActivities: { parent: [{ id: module, definition: { name: { "en-US": "Module 2" } } }] },
          },
        },
      }),
    ]);
    expect(response.statusCode).toBe(200);
    expect((await activity(planned)).definition).toEqual({ name: { "en-US": "Day 11" } });
    expect((await activity(module)).definition).toEqual({ name: { "en-US": "Module 2" } });
  });

  it("Communication §2.4: leaves out the definitions of voided statements", async () => {
    const id = "https://lessons.example.com/course/day-12";
    const kept = statement({ object: { id, definition: { name: { "en-US": "Day 12" } } } });
    const voidedId = "6f1c8e1a-4c1e-4d43-9a2e-1c0f5a7b9d12";
    const voided = {
      ...statement({ object: { id, definition: { name: { "de-DE": "Tag 12" } } } }),
      id: voidedId,
    };
    expect((await post([kept, voided])).statusCode).toBe(200);
    expect((await activity(id)).definition.name).toEqual({ "en-US": "Day 12", "de-DE": "Tag 12" });
    const voiding = statement({
      verb: { id: "http://adlnet.gov/expapi/verbs/voided" },
      object: { objectType: "StatementRef", id: voidedId },
    });
    expect((await post([voiding])).statusCode).toBe(200);
    expect((await activity(id)).definition).toEqual({ name: { "en-US": "Day 12" } });
  });

  it("is 400 naming activityId when it is missing or not an IRI", async () => {
    for (const url of ["/xapi/activities", `/xapi/activities${query({ activityId: "not an iri" })}`]) {
      const response = await get(url);
      expect(response.statusCode).toBe(400);
      expect(response.json().details[0].field).toBe("activityId");
    }
  });
});
