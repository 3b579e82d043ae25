/**
 * The xAPI statement declared: xAPI 1.0.3 (Part Two, §2 and §4) and 2.0.0 (IEEE 9274.1.1) as
 * TypeBox schemas, the TypeScript types derived from them, and the wording of every problem as
 * annotations (`x-expected`, `x-label`, …; see `http/schemaProblems.ts`). `validateStatement.ts`
 * compiles them with Ajv; rules a schema cannot say are named with `xapiRule` and written in
 * `statementRules.ts`; formats are predicates in `statementFormats.ts`.
 *
 * The differences between the versions: `context.contextAgents` / `context.contextGroups` exist
 * only in 2.0.0, and `version` accepts `1.0.x` (1.0.3) or `1.0.x` and `2.0.x` (2.0.0).
 *
 * Kinds chosen by `objectType` (an actor is an Agent or a Group, a statement's object an
 * Activity, Agent, Group, StatementRef or SubStatement) are `if`/`then` chains, so only the kind
 * the value says it is gets checked and reported, as a reader expects; TypeScript sees them as
 * the union of the kinds' derived types.
 */
import { type Static, type TSchema, Type } from "typebox";
import { MAX_IRI_LENGTH, type StatementFormat } from "./statementFormats.ts";
import { COMPONENT_LISTS, INTERACTION_TYPES, type RuleName } from "./statementRules.ts";
import type { XapiVersion } from "./version.ts";

// ---------------------------------------------------------------------------------------------
// Building blocks.

const DEFINITIONS: Record<string, unknown>[] = [];

/**
 * Declares `schema` once under `id` and returns a reference to it. Ajv compiles each declared
 * schema to its own function, called wherever it is referenced: the code stays small enough for
 * V8 to optimise, where inlining every Agent and Activity would make one huge function.
 */
function declare<T extends TSchema>(id: string, schema: T) {
  const $id = `urn:cohort-lrs:xapi:${id}`;
  DEFINITIONS.push({ ...(schema as Record<string, unknown>), $id });
  return Type.Unsafe<Static<T>>({ $ref: $id });
}

/** Every declared schema, for `Ajv.addSchema` before compiling a statement schema. */
export const STATEMENT_DEFINITIONS: readonly Record<string, unknown>[] = DEFINITIONS;

/** `schema` with every reference to a declared schema replaced by that schema, recursively. */
function inline(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(inline);
  if (typeof schema !== "object" || schema === null) return schema;
  const { $ref } = schema as { $ref?: unknown };
  if (typeof $ref === "string") {
    const declared = DEFINITIONS.find((definition) => definition.$id === $ref);
    if (!declared) throw new Error(`${$ref} is used before it is declared`);
    const { $id: _id, ...body } = declared;
    return inline(body);
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, inline(value)]));
}

/**
 * An array of `item`s, the item schema written out in place rather than referenced. Ajv adds a
 * referenced schema's errors to its caller's list by copying the list, once per failing call: a
 * Group of 100,000 bad members took minutes to explain. In place, each error is added once.
 */
function arrayOf<T extends TSchema>(item: T, options: Record<string, unknown>) {
  return Type.Unsafe<Static<T>[]>({ type: "array", items: inline(item), ...options });
}

/** A string in one of the statement formats; `expected` says what a valid one looks like. */
function formatted(format: StatementFormat, expected: string, options: object = {}) {
  return Type.String({ format, "x-expected": expected, ...options });
}

/** An identifier: indexed, so at most `MAX_IRI_LENGTH` characters. */
function iri(example = "http://example.com/xapi/") {
  return formatted("xapi-iri", `an IRI such as ${example}`, { maxLength: MAX_IRI_LENGTH });
}

function irl(example = "https://example.com") {
  return formatted("xapi-irl", `an IRL (a URL) such as ${example}`, { maxLength: MAX_IRI_LENGTH });
}

const Uuid = formatted("xapi-uuid", "a UUID such as 6690e6c9-3ef0-4ed3-8b37-7f3964730bee");

const Timestamp = formatted(
  "xapi-timestamp",
  "an ISO 8601 date and time with a time zone, such as 2024-05-01T12:00:00.000Z or 2024-05-01T14:00:00+02:00",
);

/** Exactly `value`, else `message` (whatever the JSON type of what was given). */
function literal<const V extends string>(value: V, message = `must be ${value}`) {
  return Type.Unsafe<V>({ const: value, "x-message": message });
}

/** An object with exactly `properties` (`label` names it in "is not a property of …"). */
function object<P extends Parameters<typeof Type.Object>[0]>(
  properties: P,
  label: string,
  annotations: Record<string, unknown> = {},
) {
  return Type.Object(properties, { additionalProperties: false, "x-label": label, ...annotations });
}

/** JSON Schema's `if`/`then`/`else`: `then` applies to a value matching `condition`, else `otherwise`. */
function when(condition: object, then: object, otherwise: object): Record<string, unknown> {
  return { if: condition, then, else: otherwise };
}

function rule(name: RuleName) {
  return { xapiRule: name };
}

/**
 * A value whose `objectType` picks its schema: `cases` by value, `absent` when not given, and
 * `otherwise` (an unknown objectType) reports `unknown` at `objectType`. Not an object: `expected`.
 */
function byObjectType<T>(options: {
  expected: string;
  cases: Record<string, TSchema>;
  absent?: TSchema;
  /** A null `objectType` counts as not given (so an object `{"objectType": null}` is an Activity). */
  nullIsAbsent?: boolean;
  unknown: string;
  annotations?: Record<string, unknown>;
}) {
  let chain: Record<string, unknown> = {
    properties: { objectType: { not: {}, "x-message": options.unknown } },
  };
  for (const [value, schema] of Object.entries(options.cases).reverse()) {
    chain = when({ required: ["objectType"], properties: { objectType: { const: value } } }, schema, chain);
  }
  if (options.absent) {
    const given = options.nullIsAbsent
      ? { required: ["objectType"], properties: { objectType: { not: { type: "null" } } } }
      : { required: ["objectType"] };
    chain = when({ not: given }, options.absent, chain);
  }
  return Type.Unsafe<T>({
    ...when({ type: "object" }, chain, { type: "object", "x-expected": options.expected }),
    ...options.annotations,
  });
}

/** `{ "<RFC 5646 tag>": "text" }`. */
const LanguageMap = declare(
  "languageMap",
  Type.Unsafe<Record<string, string>>({
    type: "object",
    "x-expected": 'a language map such as {"en-US": "completed"}',
    propertyNames: {
      format: "xapi-language-tag",
      "x-message": "is not an RFC 5646 language tag such as en or en-US",
    },
    additionalProperties: { type: "string" },
  }),
);

/** `{ "<IRI>": <any JSON> }`: values are never judged, only their nesting depth. */
const Extensions = declare(
  "extensions",
  Type.Unsafe<Record<string, unknown>>({
    type: "object",
    "x-expected": "an object whose keys are IRIs",
    propertyNames: {
      format: "xapi-iri",
      "x-message": "has a key that is not an IRI such as http://example.com/ext/x",
    },
    ...rule("extensions"),
  }),
);

// ---------------------------------------------------------------------------------------------
// Agents and Groups.

const AccountSchema = declare(
  "account",
  object(
    {
      homePage: irl("https://lms.example.com"),
      name: Type.String({
        minLength: 1,
        maxLength: MAX_IRI_LENGTH,
        "x-messages": { minLength: "must not be empty" },
      }),
    },
    "an account",
    { "x-expected": 'an object such as {"homePage": "https://lms.example.com", "name": "42"}' },
  ),
);

/** The inverse functional identifiers (IFIs); an Agent has exactly one, a Group at most one. */
const identifiers = {
  mbox: Type.Optional(
    formatted("xapi-mailto", "a mailto: IRI such as mailto:learner@example.com", {
      maxLength: MAX_IRI_LENGTH,
    }),
  ),
  mbox_sha1sum: Type.Optional(formatted("xapi-sha1", "40 hexadecimal digits (the SHA-1 of a mailto: IRI)")),
  openid: Type.Optional(iri("https://openid.example.com/learner")),
  account: Type.Optional(AccountSchema),
};

const AgentSchema = declare(
  "agent",
  object(
    { objectType: Type.Optional(literal("Agent")), name: Type.Optional(Type.String()), ...identifiers },
    "an Agent",
    { "x-expected": "an object (an Agent)", ...rule("agent") },
  ),
);

/** A Group's member: an Agent, never a Group. */
const MemberSchema = declare(
  "member",
  Type.Unsafe<Static<typeof AgentSchema>>(
    when(
      { type: "object", required: ["objectType"], properties: { objectType: { const: "Group" } } },
      {
        properties: { objectType: { not: {}, "x-message": "must be Agent: a Group cannot contain Groups" } },
      },
      AgentSchema,
    ),
  ),
);

const GroupSchema = declare(
  "group",
  object(
    {
      objectType: literal("Group"),
      name: Type.Optional(Type.String()),
      ...identifiers,
      member: Type.Optional(arrayOf(MemberSchema, { "x-expected": "an array of Agents" })),
    },
    "a Group",
    {
      "x-expected": "an object (a Group)",
      "x-required": { objectType: "is required (Group)" },
      ...rule("group"),
    },
  ),
);

export type Account = Static<typeof AccountSchema>;
export type Agent = Static<typeof AgentSchema>;
export type Group = Static<typeof GroupSchema>;
export type Actor = Agent | Group;

function actor(annotations: Record<string, unknown> = {}) {
  return byObjectType<Actor>({
    expected: "an object (an Agent or a Group)",
    absent: AgentSchema,
    cases: { Agent: AgentSchema, Group: GroupSchema },
    unknown: "must be Agent or Group",
    annotations,
  });
}

const ActorSchema = declare("actor", actor());
const AuthoritySchema = declare("authority", actor(rule("authority")));

// ---------------------------------------------------------------------------------------------
// Verb, Activity, StatementRef.

const VerbSchema = declare(
  "verb",
  object({ id: iri("http://example.com/verbs/x"), display: Type.Optional(LanguageMap) }, "a verb", {
    "x-expected": 'an object such as {"id": "http://adlnet.gov/expapi/verbs/completed"}',
  }),
);

const InteractionComponentSchema = declare(
  "interactionComponent",
  object(
    {
      id: Type.String({ minLength: 1, "x-messages": { minLength: "must not be empty" } }),
      description: Type.Optional(LanguageMap),
    },
    "an interaction component",
  ),
);

const InteractionComponents = declare(
  "interactionComponents",
  arrayOf(InteractionComponentSchema, {
    "x-expected": 'an array of interaction components such as [{"id": "a"}]',
    xapiRuleBefore: "interactionProperty" satisfies RuleName,
    ...rule("componentIds"),
  }),
);

const componentLists = Object.fromEntries(
  COMPONENT_LISTS.map((list) => [list, Type.Optional(InteractionComponents)]),
) as Record<(typeof COMPONENT_LISTS)[number], Type.TOptional<typeof InteractionComponents>>;

const DefinitionSchema = declare(
  "definition",
  object(
    {
      name: Type.Optional(LanguageMap),
      description: Type.Optional(LanguageMap),
      type: Type.Optional(iri("http://adlnet.gov/expapi/activities/lesson")),
      moreInfo: Type.Optional(irl("https://example.com/lessons/1")),
      extensions: Type.Optional(Extensions),
      interactionType: Type.Optional(
        Type.Unsafe<(typeof INTERACTION_TYPES)[number]>({
          enum: [...INTERACTION_TYPES],
          "x-message": `must be one of ${INTERACTION_TYPES.join(", ")}`,
        }),
      ),
      correctResponsesPattern: Type.Optional(
        Type.Array(Type.String(), {
          "x-expected": "an array of strings",
          xapiRuleBefore: "interactionProperty" satisfies RuleName,
        }),
      ),
      ...componentLists,
    },
    "an Activity definition",
  ),
);

const ActivitySchema = declare(
  "activity",
  object(
    {
      objectType: Type.Optional(literal("Activity")),
      id: iri("http://example.com/activities/lesson-1"),
      definition: Type.Optional(DefinitionSchema),
    },
    "an Activity",
    { "x-expected": 'an object (an Activity such as {"id": "http://example.com/lessons/1"})' },
  ),
);

const StatementRefSchema = declare(
  "statementRef",
  object({ objectType: literal("StatementRef"), id: Uuid }, "a StatementRef", {
    "x-expected": 'an object such as {"objectType": "StatementRef", "id": "<uuid>"}',
    "x-required": { objectType: "is required (StatementRef)" },
  }),
);

export type Verb = Static<typeof VerbSchema>;
export type InteractionComponent = Static<typeof InteractionComponentSchema>;
export type ActivityDefinition = Static<typeof DefinitionSchema>;
export type Activity = Static<typeof ActivitySchema>;
export type StatementRef = Static<typeof StatementRefSchema>;
export type LanguageMap = Static<typeof LanguageMap>;
export type Extensions = Static<typeof Extensions>;

// ---------------------------------------------------------------------------------------------
// Result, context, attachments.

const ScoreSchema = declare(
  "score",
  object(
    {
      scaled: Type.Optional(
        Type.Number({ minimum: -1, maximum: 1, "x-message": "must be between -1 and 1" }),
      ),
      raw: Type.Optional(Type.Number()),
      min: Type.Optional(Type.Number()),
      max: Type.Optional(Type.Number()),
    },
    "score",
    rule("score"),
  ),
);

const ResultSchema = declare(
  "result",
  object(
    {
      score: Type.Optional(ScoreSchema),
      success: Type.Optional(Type.Boolean()),
      completion: Type.Optional(Type.Boolean()),
      response: Type.Optional(Type.String()),
      duration: Type.Optional(
        formatted("xapi-duration", "an ISO 8601 duration such as PT1H30M, PT45S or P1D"),
      ),
      extensions: Type.Optional(Extensions),
    },
    "result",
  ),
);

/** §2.4.6.2.s4.b2: a single Activity is allowed too (0.95 compatibility). */
const ContextActivityList = declare(
  "contextActivityList",
  Type.Unsafe<Activity | Activity[]>(
    when({ type: "array" }, { items: inline(ActivitySchema) }, ActivitySchema),
  ),
);

const ContextActivitiesSchema = declare(
  "contextActivities",
  object(
    {
      parent: Type.Optional(ContextActivityList),
      grouping: Type.Optional(ContextActivityList),
      category: Type.Optional(ContextActivityList),
      other: Type.Optional(ContextActivityList),
    },
    "contextActivities",
  ),
);

function relevantTypes(example: string) {
  return Type.Optional(
    Type.Array(iri(example), {
      minItems: 1,
      "x-expected": "a non-empty array of IRIs",
      "x-messages": { minItems: "must list at least one IRI" },
    }),
  );
}

const ContextAgentSchema = declare(
  "contextAgent",
  object(
    {
      objectType: literal("contextAgent"),
      agent: AgentSchema,
      relevantTypes: relevantTypes("http://example.com/xapi/roles/mentor"),
    },
    "a contextAgent",
    { "x-required": { objectType: "is required (contextAgent)" } },
  ),
);

const ContextGroupSchema = declare(
  "contextGroup",
  object(
    {
      objectType: literal("contextGroup"),
      group: GroupSchema,
      relevantTypes: relevantTypes("http://example.com/xapi/roles/mentor"),
    },
    "a contextGroup",
    { "x-required": { objectType: "is required (contextGroup)" } },
  ),
);

const contextProperties = {
  registration: Type.Optional(Uuid),
  instructor: Type.Optional(ActorSchema),
  team: Type.Optional(GroupSchema),
  contextActivities: Type.Optional(ContextActivitiesSchema),
  revision: Type.Optional(Type.String(rule("activityContent"))),
  platform: Type.Optional(Type.String(rule("activityContent"))),
  language: Type.Optional(formatted("xapi-language-tag", "an RFC 5646 language tag such as en-US")),
  statement: Type.Optional(StatementRefSchema),
  extensions: Type.Optional(Extensions),
};

const ONLY_IN_2_0_0 = "is not a property of context before xAPI 2.0.0";

const Context_1_0_3 = declare(
  "context-1.0.3",
  object(contextProperties, "context", {
    "x-forbidden": { contextAgents: ONLY_IN_2_0_0, contextGroups: ONLY_IN_2_0_0 },
  }),
);

const Context_2_0_0 = declare(
  "context-2.0.0",
  object(
    {
      ...contextProperties,
      contextAgents: Type.Optional(
        arrayOf(ContextAgentSchema, { "x-expected": "an array of contextAgent objects" }),
      ),
      contextGroups: Type.Optional(
        arrayOf(ContextGroupSchema, { "x-expected": "an array of contextGroup objects" }),
      ),
    },
    "context",
  ),
);

const AttachmentSchema = declare(
  "attachment",
  object(
    {
      usageType: iri("http://adlnet.gov/expapi/attachments/signature"),
      display: LanguageMap,
      description: Type.Optional(LanguageMap),
      contentType: formatted("xapi-media-type", "a media type such as application/pdf"),
      length: Type.Integer({ minimum: 0, "x-expected": "a whole number of bytes (0 or more)" }),
      sha2: formatted("xapi-sha2", "a hex-encoded SHA-2 hash (64 hex digits for SHA-256)"),
      fileUrl: Type.Optional(irl("https://example.com/certificates/1.pdf")),
    },
    "an attachment",
    { "x-required-first": true },
  ),
);

export type Score = Static<typeof ScoreSchema>;
export type Result = Static<typeof ResultSchema>;
export type ContextActivities = Static<typeof ContextActivitiesSchema>;
export type ContextAgent = Static<typeof ContextAgentSchema>;
export type ContextGroup = Static<typeof ContextGroupSchema>;
/** The 2.0.0 context: the 1.0.3 one plus `contextAgents` and `contextGroups`. */
export type Context = Static<typeof Context_2_0_0>;
export type Attachment = Static<typeof AttachmentSchema>;

// ---------------------------------------------------------------------------------------------
// Statements.

/** An Agent as a statement's object: `objectType` is what makes it one. */
export type AgentObject = Agent & { objectType: "Agent" };

/** What a statement and a SubStatement have in common: actor, verb, object, result, context, … */
function statementBody<O extends TSchema>(objectSchema: O, context: TSchema) {
  return {
    actor: ActorSchema,
    verb: VerbSchema,
    object: objectSchema,
    result: Type.Optional(ResultSchema),
    context: Type.Optional(Type.Unsafe<Context>(context)),
    timestamp: Type.Optional(Timestamp),
    attachments: Type.Optional(arrayOf(AttachmentSchema, { "x-expected": "an array of attachments" })),
  };
}

type SubStatementObject = Activity | AgentObject | Group | StatementRef;

/**
 * A statement's or SubStatement's object, by its objectType (an Activity when none is given);
 * `subStatement` is what a SubStatement object must be there.
 */
function statementObjectSchema<T>(subStatement: TSchema) {
  return byObjectType<T>({
    expected: "an object (an Activity, Agent, Group, StatementRef or SubStatement)",
    absent: ActivitySchema,
    nullIsAbsent: true,
    cases: {
      Activity: ActivitySchema,
      Agent: AgentSchema,
      Group: GroupSchema,
      StatementRef: StatementRefSchema,
      SubStatement: subStatement,
    },
    unknown: "must be one of Activity, Agent, Group, StatementRef, SubStatement",
  });
}

const NOT_IN_SUBSTATEMENT = "is not allowed in a SubStatement";

/** A statement nested as the object: without id, stored, version, authority (§2.4.4.3.s8.b3), never nested twice. */
function subStatement(version: XapiVersion, context: TSchema) {
  const subObject = statementObjectSchema<SubStatementObject>({
    properties: {
      objectType: {
        not: {},
        "x-message": "must not be SubStatement: a SubStatement cannot contain another",
      },
    },
  });
  const schema = object(
    { objectType: literal("SubStatement"), ...statementBody(subObject, context) },
    "a SubStatement",
    {
      "x-forbidden": {
        id: NOT_IN_SUBSTATEMENT,
        stored: NOT_IN_SUBSTATEMENT,
        version: NOT_IN_SUBSTATEMENT,
        authority: NOT_IN_SUBSTATEMENT,
      },
      "x-required-first": true,
    },
  );
  return declare(`subStatement-${version}`, schema);
}

const VERSION_MESSAGES: Record<XapiVersion, string> = {
  "1.0.3": "1.0 or 1.0.x (such as 1.0.0) in an xAPI 1.0.3 request",
  "2.0.0": "1.0.x or 2.0.x (such as 2.0.0) in an xAPI 2.0.0 request",
};

function statement(version: XapiVersion) {
  const context = version === "2.0.0" ? Context_2_0_0 : Context_1_0_3;
  const sub = subStatement(version, context);
  const statementObject = statementObjectSchema<
    Activity | AgentObject | Group | StatementRef | Static<typeof sub>
  >(sub);
  return object(
    {
      ...statementBody(statementObject, context),
      id: Type.Optional(Uuid),
      stored: Type.Optional(Timestamp),
      authority: Type.Optional(AuthoritySchema),
      version: Type.Optional(
        formatted(`xapi-version-${version}`, VERSION_MESSAGES[version], { "x-type": "a string" }),
      ),
    },
    "a statement",
    { "x-expected": "an object (a statement)", "x-required-first": true, ...rule("statement") },
  );
}

/** The statement schema of each xAPI version a request may speak. */
export const STATEMENT_SCHEMAS = { "1.0.3": statement("1.0.3"), "2.0.0": statement("2.0.0") } as const;

/** An Agent alone, as the document resources' `agent=` parameter. */
export const AGENT_SCHEMA = AgentSchema;

// ---------------------------------------------------------------------------------------------
// The types of a statement once it has validated (the 2.0.0 shape, a superset of 1.0.3).

const StatementSchema = STATEMENT_SCHEMAS["2.0.0"];
export type Statement = Static<typeof StatementSchema>;
export type StatementObject = Statement["object"];
export type SubStatement = Extract<StatementObject, { objectType: "SubStatement" }>;

/** A statement as stored in `statements_raw.payload`: validated, with `id`, `stored`, `timestamp` set. */
export type StoredStatement = Statement & { id: string; stored: string; timestamp: string };
