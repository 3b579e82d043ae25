import { describe, expect, it } from "vitest";
import { VOIDED_VERB } from "../names.ts";
import {
  MAX_EXTENSION_DEPTH,
  MAX_PROBLEMS,
  type StatementProblem,
  validateStatement,
  validateStatements,
} from "./validateStatement.ts";
import type { XapiVersion } from "./version.ts";

type Json = Record<string, unknown>;

const ACTOR = { objectType: "Agent", name: "Ana", mbox: "mailto:ana@example.com" };
const VERB = { id: "http://adlnet.gov/expapi/verbs/completed", display: { "en-US": "completed" } };
const ACTIVITY = { id: "http://example.com/lessons/1" };
const ACCOUNT = { homePage: "https://lms.example.com", name: "42" };
const UUID_1 = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee";
const UUID_2 = "e05aa883-acaf-40ad-bf54-02c8ce485fb0";

/** A minimal valid statement with `overrides` spread over it. */
function statement(overrides: Json = {}): Json {
  return { actor: ACTOR, verb: VERB, object: ACTIVITY, ...overrides };
}

function validate(value: unknown, version: XapiVersion = "1.0.3"): StatementProblem[] {
  return validateStatement(value, { version });
}

/** Asserts that `value` has exactly one problem, at `path`, whose message contains `fragment`. */
function expectOnly(value: unknown, path: string, fragment: string, version: XapiVersion = "1.0.3"): void {
  expect(validate(value, version)).toEqual([{ path, message: expect.stringContaining(fragment) }]);
}

/** Asserts that `value` has (at least) a problem at `path` whose message contains `fragment`. */
function expectProblem(value: unknown, path: string, fragment: string, version: XapiVersion = "1.0.3"): void {
  expect(validate(value, version)).toContainEqual({ path, message: expect.stringContaining(fragment) });
}

describe("validateStatement: valid statements", () => {
  it("accepts the simplest statement (actor, verb, object)", () => {
    expect(
      validate({
        actor: { mbox: "mailto:xapi@adlnet.gov" },
        verb: { id: "http://adlnet.gov/expapi/verbs/created" },
        object: { id: "http://example.adlnet.gov/xapi/example/activity" },
      }),
    ).toEqual([]);
  });

  it("accepts a full statement: activity definition with an interaction, result, context, attachments", () => {
    const full = {
      id: UUID_1,
      actor: {
        objectType: "Agent",
        name: "Ana",
        account: { homePage: "http://localhost:8080", name: "ana_1" },
      },
      verb: {
        id: "http://adlnet.gov/expapi/verbs/answered",
        display: { "en-US": "answered", "de-DE": "beantwortet" },
      },
      object: {
        objectType: "Activity",
        id: "http://example.com/lessons/1/question/2",
        definition: {
          name: { "en-US": "Question 2", "zh-Hant-TW": "問題 2" },
          description: { en: "Which colours are primary?" },
          type: "http://adlnet.gov/expapi/activities/cmi.interaction",
          moreInfo: "https://example.com/lessons/1",
          interactionType: "choice",
          correctResponsesPattern: ["red[,]blue[,]yellow"],
          choices: [
            { id: "red", description: { "en-US": "Red" } },
            { id: "blue", description: { "en-US": "Blue" } },
            { id: "yellow" },
          ],
          extensions: { "http://example.com/ext/difficulty": { level: 3, tags: ["colour", null] } },
        },
      },
      result: {
        score: { scaled: 0.95, raw: 95, min: 0, max: 100 },
        success: true,
        completion: true,
        response: "red[,]blue[,]yellow",
        duration: "PT1H30M",
        extensions: { "http://example.com/ext/attempts": 2 },
      },
      context: {
        registration: UUID_2,
        instructor: { mbox_sha1sum: "ebd31e95054c018b10727ccffd2ef2ec3a016ee9" },
        team: {
          objectType: "Group",
          name: "Team A",
          member: [{ openid: "http://toby.openid.example.org/" }],
        },
        contextActivities: {
          parent: [{ id: "http://example.com/lessons/1" }],
          grouping: { id: "http://example.com/courses/colour" },
          category: [{ id: "https://w3id.org/xapi/cmi5/context/categories/cmi5", objectType: "Activity" }],
          other: [],
        },
        revision: "2",
        platform: "Storyline",
        language: "en-US",
        statement: { objectType: "StatementRef", id: UUID_2 },
        extensions: { "http://example.com/ext/cohort": "2024-spring" },
      },
      timestamp: "2024-05-01T14:00:00.123+02:00",
      stored: "2024-05-01T12:00:01.5Z",
      authority: { objectType: "Agent", account: { homePage: "http://localhost:8080", name: "content-key" } },
      version: "1.0.0",
      attachments: [
        {
          usageType: "http://adlnet.gov/expapi/attachments/signature",
          display: { "en-US": "Signature" },
          description: { "en-US": "A signature" },
          contentType: "application/octet-stream",
          length: 4235,
          sha2: "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
          fileUrl: "https://example.com/signatures/1",
        },
      ],
    };
    expect(validate(full)).toEqual([]);
  });

  it("accepts the other interaction types with their component lists", () => {
    const definitions = [
      { interactionType: "true-false", correctResponsesPattern: ["true"] },
      { interactionType: "fill-in", correctResponsesPattern: ["{case_matters=false}Bob's your uncle"] },
      { interactionType: "long-fill-in", correctResponsesPattern: [] },
      { interactionType: "likert", scale: [{ id: "likert_0" }, { id: "likert_1" }] },
      { interactionType: "matching", source: [{ id: "ben" }], target: [{ id: "3" }] },
      {
        interactionType: "performance",
        steps: [{ id: "pong" }],
        correctResponsesPattern: ["pong[.]1:[,]dg[.]:10"],
      },
      { interactionType: "sequencing", choices: [{ id: "tim" }, { id: "ben" }] },
      { interactionType: "numeric", correctResponsesPattern: ["4[:]"] },
      { interactionType: "other", correctResponsesPattern: ["(35.937432,-86.868896)"] },
    ];
    for (const definition of definitions) {
      expect(validate(statement({ object: { id: "http://example.com/q", definition } }))).toEqual([]);
    }
  });

  it("accepts an Agent as the object", () => {
    const object = { objectType: "Agent", name: "Ben", mbox: "mailto:ben@example.com" };
    expect(validate(statement({ verb: { id: "http://example.com/verbs/mentored" }, object }))).toEqual([]);
  });

  it("accepts a Group actor with members, and a Group as the object", () => {
    const teamPb = {
      objectType: "Group",
      name: "Team PB",
      mbox: "mailto:teampb@example.com",
      member: [
        {
          name: "Andrew Downes",
          account: { homePage: "http://www.example.com", name: "13936749" },
          objectType: "Agent",
        },
        { name: "Toby Nichols", openid: "http://toby.openid.example.org/", objectType: "Agent" },
        { name: "Ena Hills", mbox_sha1sum: "ebd31e95054c018b10727ccffd2ef2ec3a016ee9", objectType: "Agent" },
      ],
    };
    const anonymous = {
      objectType: "Group",
      member: [{ mbox: "mailto:a@example.com" }, { mbox: "mailto:b@example.com" }],
    };
    expect(validate(statement({ actor: teamPb }))).toEqual([]);
    expect(validate(statement({ actor: anonymous, object: teamPb }))).toEqual([]);
    expect(validate(statement({ actor: { objectType: "Group", account: ACCOUNT } }))).toEqual([]);
  });

  it("accepts a StatementRef as the object", () => {
    const object = { objectType: "StatementRef", id: UUID_2 };
    expect(validate(statement({ verb: { id: "http://example.com/commented" }, object }))).toEqual([]);
  });

  it("accepts a SubStatement as the object", () => {
    const object = {
      objectType: "SubStatement",
      actor: ACTOR,
      verb: { id: "http://example.com/visited", display: { "en-US": "will visit" } },
      object: { objectType: "Activity", id: "http://example.com/website" },
      result: { completion: false },
      context: { platform: "web", contextActivities: { parent: [ACTIVITY] } },
      timestamp: "2030-01-01T00:00:00Z",
    };
    expect(validate(statement({ verb: { id: "http://example.com/planned" }, object }))).toEqual([]);
  });

  it("accepts a voiding statement", () => {
    const voiding = statement({
      verb: { id: VOIDED_VERB, display: { "en-US": "voided" } },
      object: { objectType: "StatementRef", id: UUID_2 },
    });
    expect(validate(voiding)).toEqual([]);
  });

  it("accepts an xAPI 2.0.0 statement with contextAgents and contextGroups", () => {
    const context = {
      contextAgents: [
        {
          objectType: "contextAgent",
          agent: { mbox: "mailto:mentor@example.com" },
          relevantTypes: ["http://example.com/xapi/roles/mentor"],
        },
        { objectType: "contextAgent", agent: { account: ACCOUNT } },
      ],
      contextGroups: [
        {
          objectType: "contextGroup",
          group: { objectType: "Group", member: [{ mbox: "mailto:peer@example.com" }] },
          relevantTypes: ["http://example.com/xapi/roles/peers"],
        },
      ],
    };
    expect(validate(statement({ context, version: "2.0.0" }), "2.0.0")).toEqual([]);
  });

  it("accepts UUIDs in upper case and of any variant, and timestamps with any offset", () => {
    expect(validate(statement({ id: UUID_1.toUpperCase() }))).toEqual([]);
    expect(validate(statement({ id: "12345678-1234-5678-1234-567812345678" }))).toEqual([]);
    for (const timestamp of [
      "2024-02-29T23:59:59Z",
      "2024-05-01T12:00:00+00:00",
      "2024-05-01T12:00:00.1-05:30",
    ]) {
      expect(validate(statement({ timestamp }))).toEqual([]);
    }
  });

  it("accepts the durations of the spec and common ones", () => {
    for (const duration of [
      "PT1H30M",
      "P1D",
      "PT0.5S",
      "PT0,5S",
      "P0D",
      "PT4H35M59.14S",
      "P3Y1M29DT4H35M59.14S",
      "P3Y",
      "P4W",
      "PT1234S",
    ]) {
      expect(validate(statement({ result: { duration } })), duration).toEqual([]);
    }
  });
});

describe("validateStatement: the statement", () => {
  it("must be an object", () => {
    expectOnly("hello", "", "must be an object");
    expectOnly(null, "", "must not be null");
    expectOnly([statement()], "", "must be an object");
  });

  it("rejects unknown top-level properties", () => {
    expectOnly(statement({ foo: 1 }), "foo", "is not a property of a statement");
    expectOnly(statement({ Actor: ACTOR }), "Actor", "is not a property of a statement");
  });

  it("requires actor, verb and object", () => {
    expectOnly({ verb: VERB, object: ACTIVITY }, "actor", "is required");
    expectOnly({ actor: ACTOR, object: ACTIVITY }, "verb", "is required");
    expectOnly({ actor: ACTOR, verb: VERB }, "object", "is required");
  });

  it("rejects null values outside extensions", () => {
    expectOnly(statement({ result: { success: null } }), "result.success", "must not be null");
    expectOnly(statement({ context: null }), "context", "must not be null");
  });

  it("requires id to be a UUID", () => {
    expectOnly(statement({ id: "not-a-uuid" }), "id", "must be a UUID");
    expectOnly(statement({ id: `{${UUID_1}}` }), "id", "must be a UUID");
    expectOnly(statement({ id: 42 }), "id", "must be a UUID");
  });

  it("requires timestamp and stored to be ISO 8601 date-times with a time zone", () => {
    expectOnly(
      statement({ timestamp: "2024-05-01" }),
      "timestamp",
      "ISO 8601 date and time with a time zone",
    );
    expectOnly(statement({ timestamp: "2024-05-01T12:00:00" }), "timestamp", "with a time zone");
    expectOnly(statement({ timestamp: "2024-05-01T12:00:00-00:00" }), "timestamp", "with a time zone");
    expectOnly(statement({ timestamp: "2023-02-29T12:00:00Z" }), "timestamp", "ISO 8601");
    expectOnly(statement({ timestamp: "2024-13-01T12:00:00Z" }), "timestamp", "ISO 8601");
    expectOnly(statement({ timestamp: "2024-05-01T24:00:00Z" }), "timestamp", "ISO 8601");
    expectOnly(statement({ timestamp: "2024-05-01T12:00Z" }), "timestamp", "ISO 8601");
    expectOnly(statement({ timestamp: "yesterday" }), "timestamp", "ISO 8601");
    expectOnly(statement({ stored: "2024-05-01 12:00:00Z" }), "stored", "ISO 8601");
  });

  it("checks version against the request's xAPI version", () => {
    expect(validate(statement({ version: "1.0" }))).toEqual([]);
    expect(validate(statement({ version: "1.0.3" }))).toEqual([]);
    expectOnly(statement({ version: "2.0.0" }), "version", "must be 1.0 or 1.0.x");
    expectOnly(statement({ version: "1.1.0" }), "version", "must be 1.0 or 1.0.x");
    expectOnly(statement({ version: 1 }), "version", "must be a string");
    expect(validate(statement({ version: "2.0.0" }), "2.0.0")).toEqual([]);
    expect(validate(statement({ version: "1.0.0" }), "2.0.0")).toEqual([]);
    expectOnly(statement({ version: "2.1.0" }), "version", "must be 1.0.x or 2.0.x", "2.0.0");
    expectOnly(statement({ version: "3.0.0" }), "version", "must be 1.0.x or 2.0.x", "2.0.0");
  });

  it("requires a voiding statement's object to be a StatementRef", () => {
    expectOnly(
      statement({ verb: { id: VOIDED_VERB }, object: ACTIVITY }),
      "object.objectType",
      `must be StatementRef when the verb is ${VOIDED_VERB}`,
    );
  });

  it("requires authority to be an Agent or a Group of two Agents", () => {
    expectOnly(statement({ authority: { name: "no ifi" } }), "authority", "exactly one of mbox");
    const three = {
      objectType: "Group",
      member: [ACTOR, { mbox: "mailto:b@example.com" }, { mbox: "mailto:c@example.com" }],
    };
    expectOnly(statement({ authority: three }), "authority.member", "exactly two Agents");
  });

  it("Data §2.4.9: a Group authority is an anonymous OAuth pair, never an identified Group", () => {
    const pair = [ACTOR, { mbox: "mailto:app@example.com" }];
    expect(validate(statement({ authority: { objectType: "Group", member: pair } }))).toEqual([]);
    for (const ifi of [
      { mbox: "mailto:team@example.com" },
      { mbox_sha1sum: "ebd31e95054c018b10727ccffd2ef2ec3a016ee9" },
      { openid: "https://example.com/team" },
      { account: { homePage: "https://example.com", name: "team" } },
    ]) {
      const field = `authority.${Object.keys(ifi)[0]}`;
      expectOnly(
        statement({ authority: { objectType: "Group", member: pair, ...ifi } }),
        field,
        "anonymous OAuth pair",
      );
    }
    expectProblem(
      statement({ authority: { objectType: "Group", mbox: "mailto:team@example.com" } }),
      "authority.mbox",
      "anonymous OAuth pair",
    );
  });
});

describe("validateStatement: Agents", () => {
  it("requires exactly one inverse functional identifier", () => {
    expectOnly(
      statement({ actor: { name: "Ana" } }),
      "actor",
      "must have exactly one of mbox, mbox_sha1sum, openid or account; found none",
    );
    expectOnly(
      statement({ actor: { mbox: "mailto:ana@example.com", openid: "http://openid.example.com/ana" } }),
      "actor",
      "found mbox and openid",
    );
  });

  it("requires mbox to be a mailto: IRI", () => {
    expectOnly(statement({ actor: { mbox: "ana@example.com" } }), "actor.mbox", "must be a mailto: IRI");
    expectOnly(statement({ actor: { mbox: "mailto:" } }), "actor.mbox", "must be a mailto: IRI");
    expectOnly(
      statement({ actor: { mbox: "mailto:ana at example.com" } }),
      "actor.mbox",
      "must be a mailto: IRI",
    );
  });

  it("requires mbox_sha1sum to be 40 hex digits", () => {
    expectOnly(statement({ actor: { mbox_sha1sum: "abc" } }), "actor.mbox_sha1sum", "40 hexadecimal digits");
  });

  it("requires openid to be an IRI", () => {
    expectOnly(statement({ actor: { openid: "ana" } }), "actor.openid", "must be an IRI");
  });

  it("requires account to have exactly homePage (an IRL) and name", () => {
    expectOnly(
      statement({ actor: { account: { homePage: "https://lms.example.com" } } }),
      "actor.account.name",
      "is required",
    );
    expectOnly(statement({ actor: { account: { name: "42" } } }), "actor.account.homePage", "is required");
    expectOnly(
      statement({ actor: { account: { ...ACCOUNT, homePage: "lms.example.com" } } }),
      "actor.account.homePage",
      "must be an IRL",
    );
    expectOnly(
      statement({ actor: { account: { ...ACCOUNT, name: "" } } }),
      "actor.account.name",
      "must not be empty",
    );
    expectOnly(
      statement({ actor: { account: { ...ACCOUNT, id: 1 } } }),
      "actor.account.id",
      "is not a property of an account",
    );
  });

  it("requires name to be a string, objectType Agent or Group, and no other properties", () => {
    expectOnly(statement({ actor: { ...ACTOR, name: 7 } }), "actor.name", "must be a string");
    expectOnly(
      statement({ actor: { ...ACTOR, objectType: "Person" } }),
      "actor.objectType",
      "must be Agent or Group",
    );
    expectOnly(
      statement({ actor: { ...ACTOR, objectType: "agent" } }),
      "actor.objectType",
      "must be Agent or Group",
    );
    expectOnly(
      statement({ actor: { ...ACTOR, email: "ana@example.com" } }),
      "actor.email",
      "is not a property of an Agent",
    );
    expectOnly(statement({ actor: "ana@example.com" }), "actor", "must be an object");
  });
});

describe("validateStatement: Groups", () => {
  it("requires an anonymous Group to list its members", () => {
    expectOnly(
      statement({ actor: { objectType: "Group", name: "Team" } }),
      "actor.member",
      "is required for an anonymous Group",
    );
    expectOnly(
      statement({ actor: { objectType: "Group", member: [] } }),
      "actor.member",
      "must list at least one Agent",
    );
  });

  it("allows only Agents as members", () => {
    const nested = { objectType: "Group", member: [{ objectType: "Group", member: [ACTOR] }] };
    expectOnly(statement({ actor: nested }), "actor.member[0].objectType", "a Group cannot contain Groups");
    const badMember = { objectType: "Group", member: [ACTOR, { mbox: "bob" }] };
    expectOnly(statement({ actor: badMember }), "actor.member[1].mbox", "must be a mailto: IRI");
  });

  it("requires an identified Group to have exactly one identifier", () => {
    const two = { objectType: "Group", mbox: "mailto:team@example.com", account: ACCOUNT };
    expectOnly(
      statement({ actor: two }),
      "actor",
      "must have at most one of mbox, mbox_sha1sum, openid or account; found mbox and account",
    );
  });

  it("rejects unknown properties of a Group", () => {
    expectOnly(
      statement({ actor: { objectType: "Group", account: ACCOUNT, members: [] } }),
      "actor.members",
      "is not a property of a Group",
    );
  });
});

describe("validateStatement: verb", () => {
  it("requires id, an IRI", () => {
    expectOnly(statement({ verb: { display: { en: "did" } } }), "verb.id", "is required");
    expectOnly(
      statement({ verb: { id: "completed" } }),
      "verb.id",
      "must be an IRI such as http://example.com/verbs/x",
    );
    expectOnly(statement({ verb: { id: "http://" } }), "verb.id", "must be an IRI");
    expectOnly(
      statement({ verb: { id: "http://example.com/verbs/has space" } }),
      "verb.id",
      "must be an IRI",
    );
  });

  it("requires display to be a language map", () => {
    expectOnly(
      statement({ verb: { ...VERB, display: "completed" } }),
      "verb.display",
      "must be a language map",
    );
    expectOnly(
      statement({ verb: { ...VERB, display: { en_US: "completed" } } }),
      "verb.display.en_US",
      "RFC 5646",
    );
    expectOnly(
      statement({ verb: { ...VERB, display: { "en-US": 1 } } }),
      'verb.display["en-US"]',
      "must be a string",
    );
    expectOnly(
      statement({ verb: { ...VERB, display: { "en--US": "x" } } }),
      'verb.display["en--US"]',
      "RFC 5646",
    );
    expect(
      validate(
        statement({
          verb: { ...VERB, display: { "sr-Latn-RS": "x", "x-klingon": "y", "i-klingon": "z", und: "w" } },
        }),
      ),
    ).toEqual([]);
  });

  it("rejects unknown properties of a verb", () => {
    expectOnly(
      statement({ verb: { ...VERB, name: "completed" } }),
      "verb.name",
      "is not a property of a verb",
    );
  });
});

describe("validateStatement: object", () => {
  it("requires a known objectType", () => {
    expectOnly(
      statement({ object: { ...ACTIVITY, objectType: "Lesson" } }),
      "object.objectType",
      "must be one of Activity, Agent, Group, StatementRef, SubStatement",
    );
  });

  it("requires an Activity id, an IRI, and no other properties", () => {
    expectOnly(statement({ object: { definition: {} } }), "object.id", "is required");
    expectOnly(statement({ object: { id: "lesson-1" } }), "object.id", "must be an IRI");
    expectOnly(
      statement({ object: { ...ACTIVITY, name: "Lesson 1" } }),
      "object.name",
      "is not a property of an Activity",
    );
  });

  it("checks the Activity definition", () => {
    const withDefinition = (definition: Json) => statement({ object: { ...ACTIVITY, definition } });
    expectOnly(
      withDefinition({ title: "x" }),
      "object.definition.title",
      "is not a property of an Activity definition",
    );
    expectOnly(withDefinition({ name: "Lesson" }), "object.definition.name", "must be a language map");
    expectOnly(
      withDefinition({ description: { "en-US": ["x"] } }),
      'object.definition.description["en-US"]',
      "must be a string",
    );
    expectOnly(withDefinition({ type: "lesson" }), "object.definition.type", "must be an IRI");
    expectOnly(withDefinition({ moreInfo: "/lessons/1" }), "object.definition.moreInfo", "must be an IRL");
    expectOnly(
      withDefinition({ extensions: { color: "red" } }),
      "object.definition.extensions.color",
      "has a key that is not an IRI",
    );
  });

  it("checks interaction properties", () => {
    const withDefinition = (definition: Json) => statement({ object: { ...ACTIVITY, definition } });
    expectOnly(
      withDefinition({ interactionType: "multiple-choice" }),
      "object.definition.interactionType",
      "must be one of true-false, choice",
    );
    expectOnly(
      withDefinition({ correctResponsesPattern: ["a"] }),
      "object.definition.correctResponsesPattern",
      "only allowed with an interactionType",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", correctResponsesPattern: "a" }),
      "object.definition.correctResponsesPattern",
      "must be an array of strings",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", correctResponsesPattern: [1] }),
      "object.definition.correctResponsesPattern[0]",
      "must be a string",
    );
    expectOnly(
      withDefinition({ interactionType: "true-false", choices: [{ id: "a" }] }),
      "object.definition.choices",
      "is only allowed when interactionType is choice or sequencing",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", scale: [{ id: "a" }] }),
      "object.definition.scale",
      "interactionType is likert",
    );
    expectOnly(
      withDefinition({ choices: [{ id: "a" }] }),
      "object.definition.choices",
      "is only allowed when interactionType is",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", choices: [{ id: "a" }, { id: "a" }] }),
      "object.definition.choices[1].id",
      "duplicates the id of object.definition.choices[0]",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", choices: [{ id: "a", label: "A" }] }),
      "object.definition.choices[0].label",
      "is not a property of an interaction component",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", choices: [{ description: { en: "A" } }] }),
      "object.definition.choices[0].id",
      "is required",
    );
    expectOnly(
      withDefinition({ interactionType: "choice", choices: [{ id: "" }] }),
      "object.definition.choices[0].id",
      "must not be empty",
    );
    expectOnly(
      withDefinition({ interactionType: "matching", source: { id: "a" } }),
      "object.definition.source",
      "must be an array of interaction components",
    );
  });

  it("requires an Agent object to say objectType and have one identifier", () => {
    expectOnly(statement({ object: { objectType: "Agent", name: "Ben" } }), "object", "exactly one of mbox");
    // Without objectType the object is an Activity, so an Agent's properties are unknown there.
    expectProblem(
      statement({ object: { mbox: "mailto:ben@example.com" } }),
      "object.mbox",
      "is not a property of an Activity",
    );
    expectProblem(statement({ object: { mbox: "mailto:ben@example.com" } }), "object.id", "is required");
  });

  it("checks a Group object like a Group actor", () => {
    expectOnly(
      statement({ object: { objectType: "Group" } }),
      "object.member",
      "is required for an anonymous Group",
    );
  });

  it("requires a StatementRef to have a UUID id and nothing else", () => {
    expectOnly(
      statement({ object: { objectType: "StatementRef", id: "http://example.com/s/1" } }),
      "object.id",
      "must be a UUID",
    );
    expectOnly(statement({ object: { objectType: "StatementRef" } }), "object.id", "is required");
    expectOnly(
      statement({ object: { objectType: "StatementRef", id: UUID_2, definition: {} } }),
      "object.definition",
      "is not a property of a StatementRef",
    );
  });

  it("validates a SubStatement as a statement without id, stored, version, authority", () => {
    const sub = (overrides: Json) =>
      statement({
        object: { objectType: "SubStatement", actor: ACTOR, verb: VERB, object: ACTIVITY, ...overrides },
      });
    expectOnly(sub({ id: UUID_1 }), "object.id", "is not allowed in a SubStatement");
    expectOnly(sub({ stored: "2024-05-01T12:00:00Z" }), "object.stored", "is not allowed in a SubStatement");
    expectOnly(sub({ version: "1.0.0" }), "object.version", "is not allowed in a SubStatement");
    expectOnly(sub({ authority: ACTOR }), "object.authority", "is not allowed in a SubStatement");
    expectOnly(sub({ foo: 1 }), "object.foo", "is not a property of a SubStatement");
    expectOnly(sub({ verb: undefined }), "object.verb", "is required");
    expectOnly(sub({ actor: { mbox: "ana" } }), "object.actor.mbox", "must be a mailto: IRI");
    expectOnly(sub({ result: { score: { scaled: 2 } } }), "object.result.score.scaled", "between -1 and 1");
    expectOnly(
      sub({ object: { objectType: "SubStatement", actor: ACTOR, verb: VERB, object: ACTIVITY } }),
      "object.object.objectType",
      "a SubStatement cannot contain another",
    );
  });
});

describe("validateStatement: result", () => {
  const withResult = (result: unknown) => statement({ result });

  it("rejects unknown properties", () => {
    expectOnly(withResult({ grade: "A" }), "result.grade", "is not a property of result");
    expectOnly(withResult({ score: { percent: 90 } }), "result.score.percent", "is not a property of score");
  });

  it("checks the score", () => {
    expectOnly(withResult({ score: { scaled: 1.5 } }), "result.score.scaled", "must be between -1 and 1");
    expectOnly(withResult({ score: { scaled: -1.01 } }), "result.score.scaled", "must be between -1 and 1");
    expectOnly(withResult({ score: { raw: "5" } }), "result.score.raw", "must be a number");
    expectOnly(withResult({ score: { raw: -1, min: 0 } }), "result.score.raw", "must be at least min (0)");
    expectOnly(
      withResult({ score: { raw: 101, max: 100 } }),
      "result.score.raw",
      "must be at most max (100)",
    );
    expectOnly(
      withResult({ score: { min: 10, max: 10 } }),
      "result.score.max",
      "must be greater than min (10)",
    );
    expect(validate(withResult({ score: { scaled: -1, raw: 0, min: 0, max: 1 } }))).toEqual([]);
    expect(validate(withResult({ score: { raw: 1e6 } }))).toEqual([]);
  });

  it("requires success and completion to be booleans and response a string", () => {
    expectOnly(withResult({ success: "true" }), "result.success", "must be true or false");
    expectOnly(withResult({ completion: 1 }), "result.completion", "must be true or false");
    expectOnly(withResult({ response: 42 }), "result.response", "must be a string");
  });

  it("requires duration to be an ISO 8601 duration", () => {
    for (const duration of [
      "1h",
      "P",
      "PT",
      "P4W1D",
      "PT1.5H30M",
      "P16559.14S",
      "P0003-01-02T00:00:00",
      "PT-1S",
      "pt1h",
      " PT1H",
    ]) {
      expectOnly(withResult({ duration }), "result.duration", "must be an ISO 8601 duration such as PT1H30M");
    }
    expectOnly(withResult({ duration: 90 }), "result.duration", "ISO 8601 duration");
  });

  it("requires extensions to be keyed by IRIs", () => {
    expectOnly(
      withResult({ extensions: { score2: 1 } }),
      "result.extensions.score2",
      "has a key that is not an IRI",
    );
    expectOnly(withResult({ extensions: [] }), "result.extensions", "must be an object whose keys are IRIs");
    expect(validate(withResult({ extensions: { "http://example.com/x": null } }))).toEqual([]);
  });
});

describe("validateStatement: context", () => {
  const withContext = (context: unknown, version: XapiVersion = "1.0.3") =>
    validate(statement({ context }), version);
  const only = (context: unknown, path: string, fragment: string, version: XapiVersion = "1.0.3") =>
    expect(withContext(context, version)).toEqual([{ path, message: expect.stringContaining(fragment) }]);

  it("checks registration, instructor and team", () => {
    only({ registration: "abc" }, "context.registration", "must be a UUID");
    only({ instructor: { mbox: "teacher@example.com" } }, "context.instructor.mbox", "must be a mailto: IRI");
    expect(withContext({ instructor: { objectType: "Group", member: [ACTOR] } })).toEqual([]);
    only({ team: ACTOR }, "context.team.objectType", "must be Group");
    only({ team: { mbox: "mailto:team@example.com" } }, "context.team.objectType", "is required (Group)");
  });

  it("checks contextActivities", () => {
    only(
      { contextActivities: { parents: [ACTIVITY] } },
      "context.contextActivities.parents",
      "is not a property of contextActivities",
    );
    only(
      { contextActivities: { parent: [{ id: "lesson" }] } },
      "context.contextActivities.parent[0].id",
      "must be an IRI",
    );
    only(
      { contextActivities: { parent: [ACTIVITY, { objectType: "Agent", id: "http://x.com/a" }] } },
      "context.contextActivities.parent[1].objectType",
      "must be Activity",
    );
    only(
      { contextActivities: { grouping: { ...ACTIVITY, name: "course" } } },
      "context.contextActivities.grouping.name",
      "is not a property of an Activity",
    );
    only(
      { contextActivities: { other: "http://example.com/a" } },
      "context.contextActivities.other",
      "must be an object",
    );
  });

  it("allows revision and platform only when the object is an Activity", () => {
    const ref = { objectType: "StatementRef", id: UUID_2 };
    expect(validate(statement({ object: ref, context: { revision: "2" } }))).toEqual([
      {
        path: "context.revision",
        message: expect.stringContaining("only allowed when the statement's object is an Activity"),
      },
    ]);
    expect(validate(statement({ object: ref, context: { platform: "web" } }))).toEqual([
      {
        path: "context.platform",
        message: expect.stringContaining("only allowed when the statement's object is an Activity"),
      },
    ]);
    only({ revision: 2 }, "context.revision", "must be a string");
  });

  it("checks language, statement and extensions", () => {
    only({ language: "en_US" }, "context.language", "RFC 5646 language tag");
    only({ statement: { id: UUID_2 } }, "context.statement.objectType", "is required (StatementRef)");
    only(
      { statement: { objectType: "StatementRef", id: ACTIVITY.id } },
      "context.statement.id",
      "must be a UUID",
    );
    only(
      { extensions: { "not an iri": 1 } },
      'context.extensions["not an iri"]',
      "has a key that is not an IRI",
    );
    only({ mood: "happy" }, "context.mood", "is not a property of context");
  });

  it("allows contextAgents and contextGroups only in xAPI 2.0.0", () => {
    const contextAgents = [{ objectType: "contextAgent", agent: ACTOR }];
    only({ contextAgents }, "context.contextAgents", "is not a property of context before xAPI 2.0.0");
    only({ contextGroups: [] }, "context.contextGroups", "is not a property of context before xAPI 2.0.0");
    expect(withContext({ contextAgents }, "2.0.0")).toEqual([]);
  });

  it("checks contextAgents and contextGroups in xAPI 2.0.0", () => {
    const check = (context: unknown, path: string, fragment: string) =>
      only(context, path, fragment, "2.0.0");
    check({ contextAgents: {} }, "context.contextAgents", "must be an array of contextAgent objects");
    check(
      { contextAgents: [{ objectType: "Agent", agent: ACTOR }] },
      "context.contextAgents[0].objectType",
      "must be contextAgent",
    );
    check(
      { contextAgents: [{ agent: ACTOR }] },
      "context.contextAgents[0].objectType",
      "is required (contextAgent)",
    );
    check(
      { contextAgents: [{ objectType: "contextAgent" }] },
      "context.contextAgents[0].agent",
      "is required",
    );
    check(
      { contextAgents: [{ objectType: "contextAgent", agent: { name: "x" } }] },
      "context.contextAgents[0].agent",
      "exactly one of mbox",
    );
    check(
      { contextAgents: [{ objectType: "contextAgent", agent: ACTOR, relevantTypes: [] }] },
      "context.contextAgents[0].relevantTypes",
      "must list at least one IRI",
    );
    check(
      { contextAgents: [{ objectType: "contextAgent", agent: ACTOR, relevantTypes: ["mentor"] }] },
      "context.contextAgents[0].relevantTypes[0]",
      "must be an IRI",
    );
    check(
      { contextAgents: [{ objectType: "contextAgent", agent: ACTOR, role: "x" }] },
      "context.contextAgents[0].role",
      "is not a property of a contextAgent",
    );
    check(
      { contextGroups: [{ objectType: "contextGroup", group: ACTOR }] },
      "context.contextGroups[0].group.objectType",
      "must be Group",
    );
    check(
      { contextGroups: [{ objectType: "contextAgent", group: { objectType: "Group", account: ACCOUNT } }] },
      "context.contextGroups[0].objectType",
      "must be contextGroup",
    );
  });
});

describe("validateStatement: extensions", () => {
  /** `{ "http://example.com/x": [[[…]]] }` with `depth` nested arrays. */
  function nested(depth: number): Json {
    let value: unknown = "leaf";
    for (let level = 0; level < depth; level++) value = [value];
    return { "http://example.com/x": value };
  }

  it(`accepts any JSON values nested up to ${MAX_EXTENSION_DEPTH} levels`, () => {
    expect(validate(statement({ result: { extensions: nested(MAX_EXTENSION_DEPTH) } }))).toEqual([]);
  });

  it("rejects deeper nesting, naming where it goes too deep", () => {
    const problems = validate(statement({ result: { extensions: nested(MAX_EXTENSION_DEPTH + 1) } }));
    expect(problems).toEqual([
      {
        path: `result.extensions["http://example.com/x"]${"[0]".repeat(MAX_EXTENSION_DEPTH)}`,
        message: expect.stringContaining(`nests deeper than ${MAX_EXTENSION_DEPTH} levels`),
      },
    ]);
  });

  it("reports absurd nesting as a problem rather than overflowing the stack", () => {
    const problems = validate(statement({ context: { extensions: nested(200_000) } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain("nests deeper than");
  });

  it("ignores properties inherited from Object.prototype", () => {
    expectOnly(statement({ verb: { display: {} } }), "verb.id", "is required");
    expectOnly(
      JSON.parse(
        '{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.com/v"},"object":{"id":"http://x.com/a"},"__proto__":{}}',
      ),
      "__proto__",
      "is not a property of a statement",
    );
  });
});

describe("validateStatement: attachments", () => {
  const ATTACHMENT = {
    usageType: "http://example.com/attachment-usage/certificate",
    display: { "en-US": "Certificate" },
    contentType: "application/pdf",
    length: 0,
    sha2: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  };
  const withAttachment = (overrides: Json) => statement({ attachments: [{ ...ATTACHMENT, ...overrides }] });

  it("accepts a minimal attachment", () => {
    expect(validate(statement({ attachments: [ATTACHMENT] }))).toEqual([]);
  });

  it("requires usageType, display, contentType, length and sha2", () => {
    for (const key of ["usageType", "display", "contentType", "length", "sha2"]) {
      expectOnly(withAttachment({ [key]: undefined }), `attachments[0].${key}`, "is required");
    }
  });

  it("checks each property's format", () => {
    expectOnly(withAttachment({ usageType: "certificate" }), "attachments[0].usageType", "must be an IRI");
    expectOnly(
      withAttachment({ display: "Certificate" }),
      "attachments[0].display",
      "must be a language map",
    );
    expectOnly(
      withAttachment({ description: { "en-US": 1 } }),
      'attachments[0].description["en-US"]',
      "must be a string",
    );
    expectOnly(withAttachment({ contentType: "pdf" }), "attachments[0].contentType", "must be a media type");
    expectOnly(withAttachment({ length: -1 }), "attachments[0].length", "whole number of bytes");
    expectOnly(withAttachment({ length: 1.5 }), "attachments[0].length", "whole number of bytes");
    expectOnly(withAttachment({ length: "10" }), "attachments[0].length", "whole number of bytes");
    expectOnly(withAttachment({ sha2: "abc" }), "attachments[0].sha2", "SHA-2");
    expectOnly(withAttachment({ fileUrl: "certificate.pdf" }), "attachments[0].fileUrl", "must be an IRL");
    expectOnly(withAttachment({ data: "AAAA" }), "attachments[0].data", "is not a property of an attachment");
    expectOnly(statement({ attachments: ATTACHMENT }), "attachments", "must be an array of attachments");
  });
});

describe("validateStatement: limits", () => {
  it(`returns at most ${MAX_PROBLEMS} problems`, () => {
    const member = Array.from({ length: 500 }, () => ({ mbox: "not-an-email" }));
    const problems = validate(statement({ actor: { objectType: "Group", member } }));
    expect(problems).toHaveLength(MAX_PROBLEMS);
    expect(problems[0]).toEqual({
      path: "actor.member[0].mbox",
      message: expect.stringContaining("mailto:"),
    });
  });
});

describe("validateStatement: huge invalid statements", () => {
  it("explains a Group of 100,000 bad members in time linear in its size (50 problems)", () => {
    const member = Array.from({ length: 100_000 }, () => ({ mbox: "not-an-email", nickname: "x" }));
    const started = performance.now();
    const problems = validate(statement({ actor: { objectType: "Group", member } }));
    expect(problems).toHaveLength(MAX_PROBLEMS);
    expect(problems[0]).toEqual({
      path: "actor.member[0].nickname",
      message: "is not a property of an Agent",
    });
    expect(problems[1]).toEqual({
      path: "actor.member[0].mbox",
      message: expect.stringContaining("mailto:"),
    });
    // Copying the error list per failing member made this take minutes; linear, it is about a second.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe("validateStatements", () => {
  it("validates a single object without an index prefix", () => {
    expect(validateStatements(statement(), "1.0.3")).toEqual([]);
    expect(validateStatements(statement({ actor: { mbox: "x" } }), "1.0.3")).toEqual([
      { path: "actor.mbox", message: expect.stringContaining("mailto:") },
    ]);
  });

  it("prefixes the problems of an array element with its index", () => {
    const body = [statement(), statement(), statement({ actor: { mbox: "x" } })];
    expect(validateStatements(body, "1.0.3")).toEqual([
      { path: "[2].actor.mbox", message: expect.stringContaining("mailto:") },
    ]);
    expect(validateStatements([statement(), "x"], "1.0.3")).toEqual([
      { path: "[1]", message: expect.stringContaining("must be an object") },
    ]);
    expect(validateStatements([statement({ foo: 1 })], "1.0.3")).toEqual([
      { path: "[0].foo", message: expect.stringContaining("is not a property") },
    ]);
  });

  it("flags an id used twice in one array, whatever its case", () => {
    const body = [
      statement({ id: UUID_1 }),
      statement({ id: UUID_2 }),
      statement({ id: UUID_1.toUpperCase() }),
    ];
    expect(validateStatements(body, "1.0.3")).toEqual([
      { path: "[2].id", message: "duplicates the id of statement [0]" },
    ]);
    expect(validateStatements([statement(), statement()], "1.0.3")).toEqual([]);
  });

  it("rejects an empty array and a body that is not a statement", () => {
    expect(validateStatements([], "1.0.3")).toEqual([
      { path: "", message: "must contain at least one statement" },
    ]);
    expect(validateStatements("statement", "1.0.3")).toEqual([
      { path: "", message: "must be a statement object or an array of statements" },
    ]);
    expect(validateStatements(null, "1.0.3")).toEqual([
      { path: "", message: "must be a statement object or an array of statements" },
    ]);
  });

  it("passes the request version down to each statement", () => {
    const body = [statement({ context: { contextAgents: [{ objectType: "contextAgent", agent: ACTOR }] } })];
    expect(validateStatements(body, "2.0.0")).toEqual([]);
    expect(validateStatements(body, "1.0.3")).toEqual([
      { path: "[0].context.contextAgents", message: expect.stringContaining("before xAPI 2.0.0") },
    ]);
  });

  it(`caps the problems of a large batch at ${MAX_PROBLEMS}`, () => {
    const body = Array.from({ length: 1000 }, () => statement({ actor: { mbox: "x" } }));
    const problems = validateStatements(body, "1.0.3");
    expect(problems).toHaveLength(MAX_PROBLEMS);
    expect(problems.at(-1)!.path).toBe(`[${MAX_PROBLEMS - 1}].actor.mbox`);
  });
});

describe("identifier length", () => {
  const long = `https://example.com/${"x".repeat(3000)}`;
  const base = {
    actor: { mbox: "mailto:ada@example.com" },
    verb: { id: "http://adlnet.gov/expapi/verbs/completed" },
    object: { id: "https://example.com/lesson" },
  };

  it.each([
    ["object.id", { ...base, object: { id: long } }],
    ["verb.id", { ...base, verb: { id: long } }],
    ["actor.mbox", { ...base, actor: { mbox: `mailto:${"a".repeat(3000)}@example.com` } }],
    [
      "actor.account.name",
      { ...base, actor: { account: { homePage: "https://lms.example.com", name: "n".repeat(3000) } } },
    ],
  ])("refuses an indexed identifier over 2048 characters at %s", (path, statement) => {
    const problems = validateStatement(statement, { version: "1.0.3" });
    expect(problems).toContainEqual({ path, message: expect.stringContaining("at most 2048 characters") });
  });
});

describe("validateStatement: text PostgreSQL cannot store", () => {
  it.each([
    ["actor.name", statement({ actor: { ...ACTOR, name: "Ana\u0000" } }), "U+0000 (NUL)"],
    [
      'object.definition.name["en-US"]',
      statement({ object: { ...ACTIVITY, definition: { name: { "en-US": "Day\ud800" } } } }),
      "unpaired surrogate U+D800",
    ],
    [
      'object.result.extensions["http://example.com/e"].deep[0]',
      statement({
        object: {
          objectType: "SubStatement",
          actor: ACTOR,
          verb: VERB,
          object: ACTIVITY,
          result: { extensions: { "http://example.com/e": { deep: ["\udc00"] } } },
        },
      }),
      "unpaired surrogate U+DC00",
    ],
  ])("is a problem at %s, nested statements and extension values included", (path, value, fragment) => {
    expectOnly(value, path, fragment);
  });

  it("names a key holding it, and the index of the statement in a batch", () => {
    const bad = statement({ result: { extensions: { "http://example.com/\u0000": 1 } } });
    expect(validateStatements([statement(), bad], "2.0.0")).toContainEqual({
      path: '[1].result.extensions["http://example.com/\\u0000"]',
      message: "must not contain U+0000 (NUL)",
    });
  });
});

describe("validateStatement: several problems, in reading order", () => {
  it("names an object's unknown properties, then each missing one where it is declared", () => {
    expect(validate({ Actor: ACTOR, verb: VERB })).toEqual([
      { path: "Actor", message: "is not a property of a statement" },
      { path: "actor", message: "is required" },
      { path: "object", message: "is required" },
    ]);
    const context = { contextActivities: { other: { objectType: "Agent", name: "x" } } };
    expect(validate(statement({ context }))).toEqual([
      { path: "context.contextActivities.other.name", message: "is not a property of an Activity" },
      { path: "context.contextActivities.other.objectType", message: "must be Activity" },
      { path: "context.contextActivities.other.id", message: "is required" },
    ]);
  });

  it("names a statement's and an attachment's missing properties before what is wrong in the others", () => {
    const attachment = {
      usageType: "http://example.com/u",
      display: "x",
      contentType: "text/plain",
      length: 1,
    };
    expect(validate({ actor: { mbox: "x" }, object: ACTIVITY, attachments: [attachment] })).toEqual([
      { path: "verb", message: "is required" },
      { path: "actor.mbox", message: "must be a mailto: IRI such as mailto:learner@example.com" },
      { path: "attachments[0].sha2", message: "is required" },
      { path: "attachments[0].display", message: 'must be a language map such as {"en-US": "completed"}' },
    ]);
  });

  it("says a list is not allowed before what is wrong inside it", () => {
    const definition = {
      interactionType: "matching",
      source: [{ id: "s" }],
      target: [{ id: "t" }],
      scale: [{}],
    };
    expect(validate(statement({ object: { ...ACTIVITY, definition } }))).toEqual([
      { path: "object.definition.scale", message: "is only allowed when interactionType is likert" },
      { path: "object.definition.scale[0].id", message: "is required" },
    ]);
  });

  it("names the first of two interaction components with one id from the statement root, in a batch too", () => {
    const definition = { interactionType: "choice", choices: [{ id: "a" }, { id: "a" }] };
    expect(
      validateStatements([statement(), statement({ object: { ...ACTIVITY, definition } })], "1.0.3"),
    ).toEqual([
      {
        path: "[1].object.definition.choices[1].id",
        message: "duplicates the id of [1].object.definition.choices[0]",
      },
    ]);
  });

  it("treats an object whose objectType is null as an Activity, and an actor's as unknown", () => {
    expect(validate(statement({ object: { objectType: null, id: "lesson" } }))).toEqual([
      { path: "object.objectType", message: "must be Activity" },
      {
        path: "object.id",
        message: "must be an IRI such as http://example.com/activities/lesson-1",
      },
    ]);
    expectOnly(
      statement({ actor: { ...ACTOR, objectType: null } }),
      "actor.objectType",
      "must be Agent or Group",
    );
  });

  it("refuses numbers JSON cannot hold (1e400 parses as Infinity)", () => {
    const parsed = JSON.parse('{"score": {"raw": 1e400}}');
    expectOnly(statement({ result: parsed }), "result.score.raw", "must be a number");
  });

  it("keeps checking an authority Group's pair when its member list is not a list", () => {
    expect(validate(statement({ authority: { objectType: "Group", member: "two" } }))).toEqual([
      { path: "authority.member", message: "must be an array of Agents" },
      { path: "authority.member", message: "must list exactly two Agents (an OAuth application and a user)" },
    ]);
  });
});
