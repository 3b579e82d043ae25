/**
 * xAPI Communication §2.1.3 `format`: `exact` (as stored), `ids` (identifiers only), `canonical`
 * (one language per language map, chosen by Accept-Language). On PostgreSQL and PGlite.
 */
import { describe, expect, it } from "vitest";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";
import { acceptedLanguages } from "../../xapi/formatStatement.ts";

const STATEMENT = {
  actor: { objectType: "Agent", name: "Ada", mbox: "mailto:ada@example.com" },
  verb: {
    id: "http://adlnet.gov/expapi/verbs/completed",
    display: { "en-US": "completed", "de-DE": "abgeschlossen" },
  },
  object: {
    objectType: "Activity",
    id: "https://lessons.example.com/quiz",
    definition: {
      name: { "en-US": "Quiz", "de-DE": "Prüfung", fr: "Examen" },
      description: { "en-US": "The quiz", "de-DE": "Die Prüfung" },
      type: "http://adlnet.gov/expapi/activities/cmi.interaction",
      interactionType: "choice",
      correctResponsesPattern: ["a"],
      choices: [{ id: "a", description: { "en-US": "A", "de-DE": "Ä" } }],
    },
  },
  context: {
    instructor: {
      objectType: "Group",
      name: "Teachers",
      member: [{ name: "Grace", account: { homePage: "https://lessons.example.com", name: "grace" } }],
    },
    contextActivities: {
      parent: [{ id: "https://lessons.example.com/course", definition: { name: { "en-US": "Course" } } }],
    },
  },
};

describe.each(BACKENDS)("format on %s", (backend) => {
  const x = useXapiBackend(backend);

  async function stored(): Promise<string> {
    const response = await x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: x.content.headers,
      payload: STATEMENT,
    });
    return (response.json() as string[])[0]!;
  }
  const get = (query: string, headers: Record<string, string> = {}) =>
    x.app.inject({
      method: "GET",
      url: `/xapi/statements?${query}`,
      headers: { ...x.content.headers, ...headers },
    });

  it("§2.1.3 format=exact (the default) returns the statement as stored", async () => {
    const id = await stored();
    const exact = (await get(`statementId=${id}&format=exact`)).json();
    expect(exact).toMatchObject(STATEMENT);
    expect((await get(`statementId=${id}`)).json()).toEqual(exact);
  });

  it("§2.1.3 format=ids keeps only what identifies agents, groups, activities and verbs", async () => {
    const id = await stored();
    for (const response of [await get(`statementId=${id}&format=ids`), await get("format=ids")]) {
      const body = response.json();
      const statement = body.statements ? body.statements[0] : body;
      expect(statement.actor).toEqual({ objectType: "Agent", mbox: "mailto:ada@example.com" });
      expect(statement.verb).toEqual({ id: STATEMENT.verb.id });
      expect(statement.object).toEqual({ id: STATEMENT.object.id });
      expect(statement.context.instructor).toEqual({
        objectType: "Group",
        member: [
          { objectType: "Agent", account: { homePage: "https://lessons.example.com", name: "grace" } },
        ],
      });
      expect(statement.context.contextActivities.parent).toEqual([
        { id: "https://lessons.example.com/course" },
      ]);
      expect(statement.authority).toEqual({ objectType: "Agent", account: statement.authority.account });
      expect(statement.id).toBe(id);
    }
  });

  it("§2.1.3 format=canonical keeps one language per map, the best match for Accept-Language", async () => {
    const id = await stored();
    const german = (
      await get(`statementId=${id}&format=canonical`, { "accept-language": "fr;q=0.4, de" })
    ).json();
    expect(german.verb.display).toEqual({ "de-DE": "abgeschlossen" });
    expect(german.object.definition.name).toEqual({ "de-DE": "Prüfung" });
    expect(german.object.definition.description).toEqual({ "de-DE": "Die Prüfung" });
    expect(german.object.definition.choices).toEqual([{ id: "a", description: { "de-DE": "Ä" } }]);
    expect(german.actor).toEqual(STATEMENT.actor);

    const french = (await get("format=canonical", { "accept-language": "fr-CA, de;q=0.1" })).json()
      .statements[0];
    expect(french.object.definition.name).toEqual({ fr: "Examen" });
    // No French description: the next accepted language.
    expect(french.object.definition.description).toEqual({ "de-DE": "Die Prüfung" });

    const none = (await get("format=canonical")).json().statements[0];
    expect(Object.keys(none.object.definition.name)).toHaveLength(1);
  });
});

describe("Accept-Language", () => {
  it("orders tags by q, then by position, dropping q=0", () => {
    expect(acceptedLanguages("fr;q=0.4, de, en-US;q=0.9, it;q=0")).toEqual(["de", "en-us", "fr"]);
    expect(acceptedLanguages(undefined)).toEqual([]);
  });
});
