import { describe, expect, it } from "vitest";
import { DEFAULT_COMPLETION_VERBS } from "../config.ts";
import type { StoredStatement } from "../xapi/validateStatement.ts";
import {
  type FlattenContext,
  flattenStatement,
  parseIsoDurationMs,
  pickLanguage,
} from "./flattenStatement.ts";

const CONTEXT: FlattenContext = {
  completionVerbs: new Set(DEFAULT_COMPLETION_VERBS),
  publicBaseUrl: "http://localhost:8080",
};

const STATEMENT_ID = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee";
const LESSON = "http://example.com/lessons/1";

/** A stored statement ("Ana experienced lesson 1") with `overrides` spread over it. */
function stored(overrides: Partial<StoredStatement> = {}): StoredStatement {
  return {
    id: STATEMENT_ID,
    actor: { objectType: "Agent", name: "Ana", mbox: "mailto:ana@example.com" },
    verb: { id: "http://adlnet.gov/expapi/verbs/experienced", display: { "en-US": "experienced" } },
    object: { objectType: "Activity", id: LESSON, definition: { name: { "en-US": "Lesson 1" } } },
    timestamp: "2024-05-01T14:00:00.250+02:00",
    stored: "2024-05-01T12:00:01.000Z",
    authority: { objectType: "Agent", account: { homePage: "http://localhost:8080", name: "content" } },
    version: "1.0.0",
    ...overrides,
  };
}

describe("flattenStatement", () => {
  it("projects a full statement onto every column", () => {
    const row = flattenStatement(
      stored({
        verb: { id: "http://adlnet.gov/expapi/verbs/passed", display: { "en-US": "passed" } },
        result: {
          success: true,
          completion: true,
          score: { scaled: 0.9, raw: 9, min: 0, max: 10 },
          duration: "PT1H30M",
        },
        context: { registration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7" },
      }),
      CONTEXT,
    );
    expect(row).toEqual({
      statementId: STATEMENT_ID,
      actorMbox: "mailto:ana@example.com",
      actorAccountHomepage: null,
      actorAccountName: null,
      actorName: "Ana",
      userId: null,
      verbId: "http://adlnet.gov/expapi/verbs/passed",
      verbDisplay: "passed",
      objectId: LESSON,
      objectType: "Activity",
      objectName: "Lesson 1",
      resultSuccess: true,
      resultCompletion: true,
      resultScoreScaled: 0.9,
      resultScoreRaw: 9,
      resultDurationMs: 5_400_000,
      contextRegistration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
      timestamp: new Date("2024-05-01T12:00:00.250Z"),
      stored: new Date("2024-05-01T12:00:01.000Z"),
      isCompletion: true,
      voided: false,
    });
  });

  it("leaves optional columns null when the statement has no result or context", () => {
    const row = flattenStatement(
      stored({
        actor: { mbox: "mailto:ana@example.com" },
        verb: { id: "http://example.com/v" },
        object: { id: LESSON },
      }),
      CONTEXT,
    );
    expect(row).toMatchObject({
      actorName: null,
      verbDisplay: null,
      objectType: "Activity",
      objectName: null,
      resultSuccess: null,
      resultCompletion: null,
      resultScoreScaled: null,
      resultScoreRaw: null,
      resultDurationMs: null,
      contextRegistration: null,
      isCompletion: false,
      voided: false,
      userId: null,
    });
  });

  describe("actor", () => {
    it("lower-cases the mbox", () => {
      const row = flattenStatement(stored({ actor: { mbox: "mailto:Ana.Lopez@Example.COM" } }), CONTEXT);
      expect(row.actorMbox).toBe("mailto:ana.lopez@example.com");
    });

    it("takes homePage and name from an account", () => {
      const row = flattenStatement(
        stored({ actor: { name: "Ben", account: { homePage: "https://lms.example.com", name: "Ben_42" } } }),
        CONTEXT,
      );
      expect(row).toMatchObject({
        actorMbox: null,
        actorAccountHomepage: "https://lms.example.com",
        actorAccountName: "Ben_42",
        actorName: "Ben",
      });
    });

    it("stores PUBLIC_BASE_URL with a trailing slash as PUBLIC_BASE_URL, so learners are found", () => {
      const row = flattenStatement(
        stored({ actor: { account: { homePage: "http://localhost:8080/", name: "ana" } } }),
        CONTEXT,
      );
      expect(row.actorAccountHomepage).toBe("http://localhost:8080");
      const other = flattenStatement(
        stored({ actor: { account: { homePage: "https://lms.example.com/", name: "a" } } }),
        CONTEXT,
      );
      expect(other.actorAccountHomepage).toBe("https://lms.example.com/");
    });

    it("takes a Group actor's own identifier, never a member's", () => {
      const member = [{ mbox: "mailto:member@example.com" }];
      const identified = flattenStatement(
        stored({ actor: { objectType: "Group", name: "Team", mbox: "mailto:Team@Example.com", member } }),
        CONTEXT,
      );
      expect(identified).toMatchObject({ actorMbox: "mailto:team@example.com", actorName: "Team" });
      const byAccount = flattenStatement(
        stored({
          actor: {
            objectType: "Group",
            account: { homePage: "https://lms.example.com", name: "team-7" },
            member,
          },
        }),
        CONTEXT,
      );
      expect(byAccount).toMatchObject({
        actorMbox: null,
        actorAccountHomepage: "https://lms.example.com",
        actorAccountName: "team-7",
      });
      const anonymous = flattenStatement(stored({ actor: { objectType: "Group", member } }), CONTEXT);
      expect(anonymous).toMatchObject({
        actorMbox: null,
        actorAccountHomepage: null,
        actorAccountName: null,
        actorName: null,
      });
    });
  });

  describe("verb display and object name, in the preferred language", () => {
    it("prefers en-US, then en, then other English, then the first entry", () => {
      expect(pickLanguage({ fr: "terminé", en: "completed", "en-US": "completed (US)" })).toBe(
        "completed (US)",
      );
      expect(pickLanguage({ fr: "terminé", en: "completed", "en-GB": "completed (GB)" })).toBe("completed");
      expect(pickLanguage({ fr: "terminé", "en-GB": "completed (GB)" })).toBe("completed (GB)");
      expect(pickLanguage({ de: "abgeschlossen", fr: "terminé" })).toBe("abgeschlossen");
      expect(pickLanguage({ "EN-us": "case-insensitive", de: "x" })).toBe("case-insensitive");
      expect(pickLanguage({})).toBeNull();
      expect(pickLanguage(undefined)).toBeNull();
    });

    it("applies it to the verb display and to the activity name", () => {
      const row = flattenStatement(
        stored({
          verb: { id: "http://example.com/v", display: { "de-DE": "erlebt", en: "experienced" } },
          object: { id: LESSON, definition: { name: { es: "Lección 1", "en-US": "Lesson 1" } } },
        }),
        CONTEXT,
      );
      expect(row).toMatchObject({ verbDisplay: "experienced", objectName: "Lesson 1" });
    });
  });

  describe("object", () => {
    it("uses a StatementRef's id", () => {
      const row = flattenStatement(
        stored({ object: { objectType: "StatementRef", id: "e05aa883-acaf-40ad-bf54-02c8ce485fb0" } }),
        CONTEXT,
      );
      expect(row).toMatchObject({
        objectId: "e05aa883-acaf-40ad-bf54-02c8ce485fb0",
        objectType: "StatementRef",
        objectName: null,
      });
    });

    it("uses an Agent's or Group's identifier, and its name", () => {
      const agent = (ifi: object) =>
        flattenStatement(stored({ object: { objectType: "Agent", name: "Ben", ...ifi } }), CONTEXT);
      expect(agent({ mbox: "mailto:Ben@Example.com" })).toMatchObject({
        objectId: "mailto:ben@example.com",
        objectType: "Agent",
        objectName: "Ben",
      });
      expect(agent({ mbox_sha1sum: "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9" }).objectId).toBe(
        "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
      );
      expect(agent({ openid: "http://toby.openid.example.org/" }).objectId).toBe(
        "http://toby.openid.example.org/",
      );
      expect(agent({ account: { homePage: "https://lms.example.com", name: "42" } }).objectId).toBe(
        "account:https://lms.example.com#42",
      );
      const group = flattenStatement(
        stored({
          object: {
            objectType: "Group",
            name: "Team",
            account: { homePage: "https://lms.example.com", name: "t7" },
          },
        }),
        CONTEXT,
      );
      expect(group).toMatchObject({
        objectId: "account:https://lms.example.com#t7",
        objectType: "Group",
        objectName: "Team",
      });
    });

    it("gives an anonymous Group an id of its own (every anonymous group is distinct)", () => {
      const row = flattenStatement(
        stored({ object: { objectType: "Group", member: [{ mbox: "mailto:a@example.com" }] } }),
        CONTEXT,
      );
      expect(row).toMatchObject({ objectId: `anonymous-group:${STATEMENT_ID}`, objectType: "Group" });
    });

    it("prefixes a SubStatement's object id, so it never counts as the activity itself", () => {
      const row = flattenStatement(
        stored({
          verb: { id: "http://adlnet.gov/expapi/verbs/completed" },
          object: {
            objectType: "SubStatement",
            actor: { mbox: "mailto:ana@example.com" },
            verb: { id: "http://adlnet.gov/expapi/verbs/completed" },
            object: { id: LESSON, definition: { name: { en: "Lesson 1" } } },
          },
        }),
        CONTEXT,
      );
      expect(row).toMatchObject({
        objectId: `substatement:${LESSON}`,
        objectType: "SubStatement",
        objectName: null,
      });
    });
  });

  describe("isCompletion", () => {
    it("is true for a completion verb, whatever the result", () => {
      for (const verb of DEFAULT_COMPLETION_VERBS) {
        expect(flattenStatement(stored({ verb: { id: verb } }), CONTEXT).isCompletion).toBe(true);
        expect(
          flattenStatement(stored({ verb: { id: verb }, result: { completion: false } }), CONTEXT)
            .isCompletion,
        ).toBe(true);
      }
    });

    it("is true for any verb with result.completion true", () => {
      const row = flattenStatement(stored({ result: { completion: true } }), CONTEXT);
      expect(row).toMatchObject({ isCompletion: true, resultCompletion: true });
    });

    it("is false otherwise, and follows the configured verbs", () => {
      expect(
        flattenStatement(stored({ result: { completion: false, success: true } }), CONTEXT).isCompletion,
      ).toBe(false);
      expect(flattenStatement(stored(), CONTEXT).isCompletion).toBe(false);
      const custom = { ...CONTEXT, completionVerbs: new Set(["http://adlnet.gov/expapi/verbs/experienced"]) };
      expect(flattenStatement(stored(), custom).isCompletion).toBe(true);
      expect(
        flattenStatement(stored({ verb: { id: "http://adlnet.gov/expapi/verbs/completed" } }), custom)
          .isCompletion,
      ).toBe(false);
    });
  });

  describe("dates", () => {
    it("turns timestamp and stored into Dates at the same instant", () => {
      const row = flattenStatement(
        stored({ timestamp: "2024-05-01T23:30:00-05:00", stored: "2024-05-02T04:30:00.123456Z" }),
        CONTEXT,
      );
      expect(row.timestamp).toEqual(new Date("2024-05-02T04:30:00.000Z"));
      expect(row.stored).toEqual(new Date("2024-05-02T04:30:00.123Z"));
    });

    it("throws, naming the statement, for a date that is not one", () => {
      expect(() => flattenStatement(stored({ timestamp: "soon" }), CONTEXT)).toThrow(
        `statement ${STATEMENT_ID}: timestamp "soon" is not a date`,
      );
    });
  });

  it("records the duration in milliseconds", () => {
    expect(flattenStatement(stored({ result: { duration: "PT0.5S" } }), CONTEXT).resultDurationMs).toBe(500);
    expect(
      flattenStatement(stored({ result: { duration: "nonsense" } }), CONTEXT).resultDurationMs,
    ).toBeNull();
  });
});

describe("parseIsoDurationMs", () => {
  it.each([
    ["PT1H30M", 5_400_000],
    ["P1DT2H", 93_600_000],
    ["PT0.5S", 500],
    ["PT0,5S", 500],
    ["P0D", 0],
    ["PT0S", 0],
    ["PT1234S", 1_234_000],
    ["PT4H35M59.14S", 16_559_140],
    ["PT0.0005S", 1],
    ["P4W", 28 * 86_400_000],
    ["P1M", 30 * 86_400_000],
    ["P1Y", 365 * 86_400_000],
    ["P3Y1M29DT4H35M59.14S", (3 * 365 + 30 + 29) * 86_400_000 + 16_559_140],
    ["PT1.5H", 5_400_000],
  ])("%s → %i ms", (duration, ms) => {
    expect(parseIsoDurationMs(duration)).toBe(ms);
  });

  it.each([
    "",
    "garbage",
    "P",
    "PT",
    "1H",
    "PT1H30",
    "P1H",
    "PT1D",
    "P4W1D",
    "-PT1H",
    "PT-1S",
    "pt1h",
    "P1.5.5D",
    " PT1H",
    "PT1H ",
  ])("%j → null", (duration) => {
    expect(parseIsoDurationMs(duration)).toBeNull();
  });

  it("is null for a duration too long to count in milliseconds", () => {
    expect(parseIsoDurationMs("P999999999999Y")).toBeNull();
  });
});
