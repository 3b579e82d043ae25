/**
 * xAPI statement validation: the rules of xAPI 1.0.3 (Part Two, "Experience API Data", §2 and §4)
 * and of xAPI 2.0.0 (IEEE 9274.1.1), as pure code. No database, no HTTP: data in, problems out.
 *
 * Terminology:
 * - statement: one xAPI record `{actor, verb, object, …}` as sent by content. Its `object` is an
 *   Activity (the default), an Agent or Group, a StatementRef (a pointer to another statement by
 *   id) or a SubStatement (a statement nested as the object, without `id`, `stored`, `version`,
 *   `authority`, and never nested twice).
 * - Agent / Group: a person or system / a set of Agents. Identified by exactly one inverse
 *   functional identifier (IFI): `mbox`, `mbox_sha1sum`, `openid` or `account`. A Group without
 *   an IFI is an anonymous group and must list its `member`s.
 * - IRI / IRL: an internationalised identifier with a scheme (`http://…`, `urn:…`) / one that
 *   can be fetched (`https://…`). Checked best-effort, as the spec allows (§2.2.s4.b6).
 * - language map: `{ "<RFC 5646 tag>": "text" }`, e.g. `{ "en-US": "completed" }`.
 * - extensions: `{ "<IRI>": <any JSON> }`; values are never judged, only their nesting depth.
 * - problem: `{ path, message }`; `path` is a JSON path from the statement root
 *   (`context.contextActivities.parent[0].id`, `verb.display["en-US"]`; `""` is the root).
 *
 * Decisions where the spec leaves room:
 * - Unknown properties are rejected everywhere the spec lists an object's properties (the spec
 *   says SHOULD*; the conformance suite and most LRSs reject). Nulls are rejected except inside
 *   extension values (§2.2.s4.b1.b1).
 * - `version`: a 1.0.3 request accepts `1.0` and `1.0.x` (§2.4.10: "starts with 1.0."); a 2.0.0
 *   request accepts `1.0.x` and `2.0.x`, because the 2.0 data model is a superset of 1.0.
 * - UUIDs: any version and variant, either case (§4.4 only *recommends* RFC 4122 variant 2).
 * - Timestamps: RFC 3339 date-times with seconds and a `Z` or `±hh:mm` offset; no `-00:00`
 *   (RFC 3339's "unknown offset"), no leap second, and the calendar date must exist.
 * - Durations: ISO 8601 `PnYnMnDTnHnMnS` or `PnW`; a fraction (`.` or `,`) only on the smallest
 *   unit given. The alternative format (`P0003-01-02T…`) is forbidden by §4.6, and the spec's own
 *   `P16559.14S` example is an erratum (seconds need the `T`).
 * - Anonymous groups need at least one member; account names and interaction component ids must
 *   not be empty; interaction component lists are only allowed with the interactionType that
 *   uses them (§2.4.4.1.s13.b3 allows this check).
 * - 2.0.0 `contextAgents` / `contextGroups`: `objectType` is required; `relevantTypes` is optional
 *   (the 9274.1.1 table marks it Optional) but, when given, must be a non-empty array of IRIs.
 * - Voiding: only a top-level statement voids; a SubStatement with the voided verb is allowed.
 * - Text: no string or key, anywhere (extensions too), may hold U+0000 or an unpaired surrogate.
 *   JSON can carry both; PostgreSQL can store neither, so they are refused like any other problem.
 */

import { findUnstorableText } from "../db/storableText.ts";
import { VOIDED_VERB } from "../names.ts";
import type { XapiVersion } from "./version.ts";

export interface StatementProblem {
  /** JSON path from the statement root (`result.score.scaled`); `""` for the root itself. */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** The xAPI version of the request (`X-Experience-API-Version`). */
  version: XapiVersion;
}

/** The reserved verb of a statement that voids another (§2.3.2). */

/** At most this many problems are returned; a request with more is rejected on these alone. */
export const MAX_PROBLEMS = 50;

/** Extension values may nest objects/arrays this deep; deeper is a problem, not a stack overflow. */
export const MAX_EXTENSION_DEPTH = 32;

// ---------------------------------------------------------------------------------------------
// The shape of a statement once it has validated.

export type LanguageMap = Record<string, string>;
export type Extensions = Record<string, unknown>;

export interface Account {
  homePage: string;
  name: string;
}

interface InverseFunctionalIdentifiers {
  mbox?: string;
  mbox_sha1sum?: string;
  openid?: string;
  account?: Account;
}

export interface Agent extends InverseFunctionalIdentifiers {
  objectType?: "Agent";
  name?: string;
}

export interface Group extends InverseFunctionalIdentifiers {
  objectType: "Group";
  name?: string;
  member?: Agent[];
}

export type Actor = Agent | Group;

export interface Verb {
  id: string;
  display?: LanguageMap;
}

export interface InteractionComponent {
  id: string;
  description?: LanguageMap;
}

export interface ActivityDefinition {
  name?: LanguageMap;
  description?: LanguageMap;
  type?: string;
  moreInfo?: string;
  interactionType?: string;
  correctResponsesPattern?: string[];
  choices?: InteractionComponent[];
  scale?: InteractionComponent[];
  source?: InteractionComponent[];
  target?: InteractionComponent[];
  steps?: InteractionComponent[];
  extensions?: Extensions;
}

export interface Activity {
  objectType?: "Activity";
  id: string;
  definition?: ActivityDefinition;
}

export interface StatementRef {
  objectType: "StatementRef";
  id: string;
}

export interface Score {
  scaled?: number;
  raw?: number;
  min?: number;
  max?: number;
}

export interface Result {
  score?: Score;
  success?: boolean;
  completion?: boolean;
  response?: string;
  duration?: string;
  extensions?: Extensions;
}

export interface ContextActivities {
  parent?: Activity | Activity[];
  grouping?: Activity | Activity[];
  category?: Activity | Activity[];
  other?: Activity | Activity[];
}

export interface ContextAgent {
  objectType: "contextAgent";
  agent: Agent;
  relevantTypes?: string[];
}

export interface ContextGroup {
  objectType: "contextGroup";
  group: Group;
  relevantTypes?: string[];
}

export interface Context {
  registration?: string;
  instructor?: Actor;
  team?: Group;
  contextActivities?: ContextActivities;
  revision?: string;
  platform?: string;
  language?: string;
  statement?: StatementRef;
  extensions?: Extensions;
  /** xAPI 2.0.0 only. */
  contextAgents?: ContextAgent[];
  /** xAPI 2.0.0 only. */
  contextGroups?: ContextGroup[];
}

export interface Attachment {
  usageType: string;
  display: LanguageMap;
  description?: LanguageMap;
  contentType: string;
  length: number;
  sha2: string;
  fileUrl?: string;
}

export interface SubStatement {
  objectType: "SubStatement";
  actor: Actor;
  verb: Verb;
  object: Activity | (Agent & { objectType: "Agent" }) | Group | StatementRef;
  result?: Result;
  context?: Context;
  timestamp?: string;
  attachments?: Attachment[];
}

export type StatementObject =
  | Activity
  | (Agent & { objectType: "Agent" })
  | Group
  | StatementRef
  | SubStatement;

export interface Statement {
  id?: string;
  actor: Actor;
  verb: Verb;
  object: StatementObject;
  result?: Result;
  context?: Context;
  timestamp?: string;
  stored?: string;
  authority?: Actor;
  version?: string;
  attachments?: Attachment[];
}

/** A statement as stored in `statements_raw.payload`: validated, with `id`, `stored`, `timestamp` set. */
export type StoredStatement = Statement & { id: string; stored: string; timestamp: string };

// ---------------------------------------------------------------------------------------------
// Entry points.

/** Validates one statement. Returns `[]` when it is valid, else at most `MAX_PROBLEMS` problems. */
export function validateStatement(statement: unknown, options: ValidateOptions): StatementProblem[] {
  const problems = new Problems(MAX_PROBLEMS);
  checkStatement(statement, "", { version: options.version, problems });
  return problems.list;
}

/**
 * Validates a request body: one statement object, or a non-empty array of them. Problems of an
 * array element are prefixed with its index (`[2].actor.mbox`); a statement `id` used twice in one
 * array is a problem (ids compare case-insensitively, as UUIDs do).
 */
export function validateStatements(body: unknown, version: XapiVersion): StatementProblem[] {
  if (!Array.isArray(body)) {
    if (!isObject(body)) {
      return [{ path: "", message: "must be a statement object or an array of statements" }];
    }
    return validateStatement(body, { version });
  }
  if (body.length === 0) return [{ path: "", message: "must contain at least one statement" }];
  const problems = new Problems(MAX_PROBLEMS);
  const firstIndexOfId = new Map<string, number>();
  for (const [index, statement] of body.entries()) {
    if (problems.full) break;
    const path = `[${index}]`;
    checkStatement(statement, path, { version, problems });
    const id = isObject(statement) ? own(statement, "id") : undefined;
    if (typeof id === "string" && UUID.test(id)) {
      const first = firstIndexOfId.get(id.toLowerCase());
      if (first === undefined) firstIndexOfId.set(id.toLowerCase(), index);
      else problems.add(`${path}.id`, `duplicates the id of statement [${first}]`);
    }
  }
  return problems.list;
}

/**
 * Validates an Agent given as a request parameter (the document resources' `agent=`): problems
 * are named from `path` (`agent.mbox`).
 */
export function validateAgentParameter(
  agent: unknown,
  version: XapiVersion,
  path = "agent",
): StatementProblem[] {
  const problems = new Problems(MAX_PROBLEMS);
  checkAgent(agent, path, { version, problems });
  return problems.list;
}

export { isIri, isTimestamp };

// ---------------------------------------------------------------------------------------------
// Plumbing: the problem list, paths, JSON type checks.

class Problems {
  readonly list: StatementProblem[] = [];
  constructor(private readonly limit: number) {}
  get full(): boolean {
    return this.list.length >= this.limit;
  }
  add(path: string, message: string): void {
    if (!this.full) this.list.push({ path, message });
  }
}

interface Check {
  version: XapiVersion;
  problems: Problems;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own property (never one inherited from `Object.prototype`, such as `constructor`). */
function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `a` + `b` → `a.b`; keys that are not identifiers (IRIs, language tags) → `a["en-US"]`. */
function child(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** The message for a value of the wrong JSON type, saying what was expected. */
function typeProblem(value: unknown, expected: string): string {
  return value === null ? `must not be null (expected ${expected})` : `must be ${expected}`;
}

function expectObject(value: unknown, path: string, c: Check, what = "an object"): value is JsonObject {
  if (isObject(value)) return true;
  c.problems.add(path, typeProblem(value, what));
  return false;
}

function expectArray(value: unknown, path: string, c: Check, what = "an array"): value is unknown[] {
  if (Array.isArray(value)) return true;
  c.problems.add(path, typeProblem(value, what));
  return false;
}

function expectString(value: unknown, path: string, c: Check): value is string {
  if (typeof value === "string") return true;
  c.problems.add(path, typeProblem(value, "a string"));
  return false;
}

function expectBoolean(value: unknown, path: string, c: Check): value is boolean {
  if (typeof value === "boolean") return true;
  c.problems.add(path, typeProblem(value, "true or false"));
  return false;
}

function expectNumber(value: unknown, path: string, c: Check): value is number {
  if (typeof value === "number" && Number.isFinite(value)) return true;
  c.problems.add(path, typeProblem(value, "a number"));
  return false;
}

/** Checks `value` is a string matching `test`; else reports `must be <description>`. */
function expectFormat(
  value: unknown,
  path: string,
  c: Check,
  test: (text: string) => boolean,
  description: string,
): value is string {
  if (typeof value === "string" && test(value)) return true;
  c.problems.add(path, typeProblem(value, description));
  return false;
}

/** Reports every property of `object` that `kind` does not define. */
function checkKeys(object: JsonObject, kind: ObjectKind, path: string, c: Check): void {
  const { keys, label } = OBJECT_KINDS[kind];
  for (const key of Object.keys(object)) {
    if (!keys.has(key)) c.problems.add(child(path, key), `is not a property of ${label}`);
  }
}

function isPresent(object: JsonObject, key: string): boolean {
  return own(object, key) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// The allowed properties of each kind of object, straight from the spec's tables.

const IFI_KEYS = ["mbox", "mbox_sha1sum", "openid", "account"] as const;
const STATEMENT_KEYS = [
  "id",
  "actor",
  "verb",
  "object",
  "result",
  "context",
  "timestamp",
  "stored",
  "authority",
  "version",
  "attachments",
];
/** A SubStatement is a statement without these (§2.4.4.3.s8.b3), plus its `objectType`. */
const NOT_IN_SUBSTATEMENT = new Set(["id", "stored", "version", "authority"]);
const CONTEXT_KEYS_1_0 = [
  "registration",
  "instructor",
  "team",
  "contextActivities",
  "revision",
  "platform",
  "language",
  "statement",
  "extensions",
];
const COMPONENT_LISTS = ["choices", "scale", "source", "target", "steps"] as const;

const OBJECT_KINDS = {
  statement: { label: "a statement", keys: new Set(STATEMENT_KEYS) },
  subStatement: {
    label: "a SubStatement",
    keys: new Set(["objectType", ...STATEMENT_KEYS.filter((key) => !NOT_IN_SUBSTATEMENT.has(key))]),
  },
  agent: { label: "an Agent", keys: new Set(["objectType", "name", ...IFI_KEYS]) },
  group: { label: "a Group", keys: new Set(["objectType", "name", "member", ...IFI_KEYS]) },
  account: { label: "an account", keys: new Set(["homePage", "name"]) },
  verb: { label: "a verb", keys: new Set(["id", "display"]) },
  activity: { label: "an Activity", keys: new Set(["objectType", "id", "definition"]) },
  definition: {
    label: "an Activity definition",
    keys: new Set([
      "name",
      "description",
      "type",
      "moreInfo",
      "interactionType",
      "correctResponsesPattern",
      ...COMPONENT_LISTS,
      "extensions",
    ]),
  },
  interactionComponent: { label: "an interaction component", keys: new Set(["id", "description"]) },
  statementRef: { label: "a StatementRef", keys: new Set(["objectType", "id"]) },
  result: {
    label: "result",
    keys: new Set(["score", "success", "completion", "response", "duration", "extensions"]),
  },
  score: { label: "score", keys: new Set(["scaled", "raw", "min", "max"]) },
  context_1_0_3: { label: "context", keys: new Set(CONTEXT_KEYS_1_0) },
  context_2_0_0: { label: "context", keys: new Set([...CONTEXT_KEYS_1_0, "contextAgents", "contextGroups"]) },
  contextActivities: {
    label: "contextActivities",
    keys: new Set(["parent", "grouping", "category", "other"]),
  },
  contextAgent: { label: "a contextAgent", keys: new Set(["objectType", "agent", "relevantTypes"]) },
  contextGroup: { label: "a contextGroup", keys: new Set(["objectType", "group", "relevantTypes"]) },
  attachment: {
    label: "an attachment",
    keys: new Set(["usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"]),
  },
} satisfies Record<string, { label: string; keys: ReadonlySet<string> }>;

type ObjectKind = keyof typeof OBJECT_KINDS;

const INTERACTION_TYPES = [
  "true-false",
  "choice",
  "fill-in",
  "long-fill-in",
  "matching",
  "performance",
  "sequencing",
  "likert",
  "numeric",
  "other",
] as const;

/** Which interaction component lists each interactionType uses (§2.4.4.1, "Interaction Components"). */
const COMPONENT_LISTS_BY_TYPE: Record<string, readonly string[]> = {
  choice: ["choices"],
  sequencing: ["choices"],
  likert: ["scale"],
  matching: ["source", "target"],
  performance: ["steps"],
};

// ---------------------------------------------------------------------------------------------
// Formats.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Scheme, then at least one character; no whitespace, control characters, `<`, `>` or `"`. */
const IRI = /^[a-z][a-z0-9+.-]*:[^\s\p{Cc}<>"]+$/iu;
const IRL = /^[a-z][a-z0-9+.-]*:\/\/[^\s\p{Cc}<>"/?#]/iu;
const HTTP_WITHOUT_HOST = /^https?:(?!\/\/[^\s/?#])/i;
const MAILTO =
  /^mailto:[^\s\p{Cc}@<>()[\]\\,;:"]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$/iu;
const SHA1_HEX = /^[0-9a-f]{40}$/i;
/** SHA-224, -256, -384 or -512, hex-encoded. */
const SHA2_HEX = /^(?:[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/i;
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(?:\s*;.*)?$/;
const VERSION_1_0 = /^1\.0(?:\.\d+)?$/;
const VERSION_2_0 = /^2\.0(?:\.\d+)?$/;

/** RFC 5646 `Language-Tag`, well-formedness only (the token sequence and lengths, §2.2.s4.b2). */
const LANGUAGE_TAG = new RegExp(
  "^(?:" +
    // langtag: language (with up to three extlangs), script, region, variants, extensions, private use
    "(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})" +
    "(?:-[a-z]{4})?" +
    "(?:-(?:[a-z]{2}|\\d{3}))?" +
    "(?:-(?:[a-z\\d]{5,8}|\\d[a-z\\d]{3}))*" +
    "(?:-[\\da-wy-z](?:-[a-z\\d]{2,8})+)*" +
    "(?:-x(?:-[a-z\\d]{1,8})+)?" +
    // private use only, and the irregular grandfathered tags
    "|x(?:-[a-z\\d]{1,8})+" +
    "|en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao" +
    "|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE" +
    ")$",
  "i",
);

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function isIri(value: string): boolean {
  return IRI.test(value) && !HTTP_WITHOUT_HOST.test(value);
}

function isIrl(value: string): boolean {
  return isIri(value) && IRL.test(value);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isTimestamp(value: string): boolean {
  const match = TIMESTAMP.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const [sign, offsetHour, offsetMinute] = [match[7], Number(match[8] ?? 0), Number(match[9] ?? 0)];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return false;
  if (hour! > 23 || minute! > 59 || second! > 59) return false;
  if (offsetHour > 23 || offsetMinute > 59) return false;
  // RFC 3339 §4.3: "-00:00" means the offset is unknown, which a point in time cannot be.
  return !(sign === "-" && offsetHour === 0 && offsetMinute === 0);
}

const NUMBER = "\\d+(?:[.,]\\d+)?";
const DURATION = new RegExp(
  `^P(?:(${NUMBER})W|(?=\\d|T\\d)(?:(${NUMBER})Y)?(?:(${NUMBER})M)?(?:(${NUMBER})D)?` +
    `(?:T(?=\\d)(?:(${NUMBER})H)?(?:(${NUMBER})M)?(?:(${NUMBER})S)?)?)$`,
);

function isDuration(value: string): boolean {
  const match = DURATION.exec(value);
  if (!match) return false;
  // ISO 8601: only the smallest unit given may carry a decimal fraction.
  const given = match.slice(1).filter((part): part is string => part !== undefined);
  return given.slice(0, -1).every((part) => !/[.,]/.test(part));
}

const IRI_EXAMPLE = "http://example.com/xapi/";

function iriMessage(example: string): string {
  return `an IRI such as ${example}`;
}

// ---------------------------------------------------------------------------------------------
// Checkers, one per kind of object. Each reports into `c.problems` under `path`.

function checkStatement(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, "an object (a statement)")) return;
  checkStorableText(value, path, c);
  checkKeys(value, "statement", path, c);
  checkStatementBody(value, path, c, { sub: false });

  const id = own(value, "id");
  if (id !== undefined) checkUuid(id, child(path, "id"), c);
  const stored = own(value, "stored");
  if (stored !== undefined) checkTimestamp(stored, child(path, "stored"), c);
  const authority = own(value, "authority");
  if (authority !== undefined) checkAuthority(authority, child(path, "authority"), c);
  const version = own(value, "version");
  if (version !== undefined) checkVersion(version, child(path, "version"), c);

  // §2.3.2: a voiding statement's object is the StatementRef of the statement it voids.
  const verb = own(value, "verb");
  const object = own(value, "object");
  if (isObject(verb) && own(verb, "id") === VOIDED_VERB && isObject(object)) {
    if (own(object, "objectType") !== "StatementRef") {
      c.problems.add(
        child(child(path, "object"), "objectType"),
        `must be StatementRef when the verb is ${VOIDED_VERB}`,
      );
    }
  }
}

/**
 * No string or key anywhere in the statement (extension values and keys included) may hold text
 * PostgreSQL cannot store: a NUL or an unpaired surrogate would fail the write of every statement
 * committed with it.
 */
function checkStorableText(value: JsonObject, path: string, c: Check): void {
  for (const found of findUnstorableText(value, MAX_PROBLEMS)) {
    const at = found.path.reduce<string>(
      (prefix, segment) => (typeof segment === "number" ? item(prefix, segment) : child(prefix, segment)),
      path,
    );
    c.problems.add(at, found.message);
  }
}

/** What a statement and a SubStatement have in common: actor, verb, object, result, context, … */
function checkStatementBody(value: JsonObject, path: string, c: Check, { sub }: { sub: boolean }): void {
  for (const key of ["actor", "verb", "object"]) {
    if (!isPresent(value, key)) c.problems.add(child(path, key), "is required");
  }
  const actor = own(value, "actor");
  if (actor !== undefined) checkActor(actor, child(path, "actor"), c);
  const verb = own(value, "verb");
  if (verb !== undefined) checkVerb(verb, child(path, "verb"), c);
  const object = own(value, "object");
  if (object !== undefined) checkObject(object, child(path, "object"), c, { insideSubStatement: sub });
  const result = own(value, "result");
  if (result !== undefined) checkResult(result, child(path, "result"), c);
  const context = own(value, "context");
  if (context !== undefined) {
    const objectType = isObject(object) ? (own(object, "objectType") ?? "Activity") : undefined;
    checkContext(context, child(path, "context"), c, { objectIsActivity: objectType === "Activity" });
  }
  const timestamp = own(value, "timestamp");
  if (timestamp !== undefined) checkTimestamp(timestamp, child(path, "timestamp"), c);
  const attachments = own(value, "attachments");
  if (attachments !== undefined) checkAttachments(attachments, child(path, "attachments"), c);
}

function checkUuid(value: unknown, path: string, c: Check): void {
  expectFormat(
    value,
    path,
    c,
    (text) => UUID.test(text),
    "a UUID such as 6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
  );
}

function checkTimestamp(value: unknown, path: string, c: Check): void {
  expectFormat(
    value,
    path,
    c,
    isTimestamp,
    "an ISO 8601 date and time with a time zone, such as 2024-05-01T12:00:00.000Z or 2024-05-01T14:00:00+02:00",
  );
}

/**
 * Identifiers longer than this are refused: they are indexed (object, actor), and PostgreSQL's
 * b-tree refuses entries over about 2,700 bytes, which would make the statement impossible to flatten.
 */
export const MAX_IRI_LENGTH = 2048;

function withinIriLength(value: unknown, path: string, c: Check): boolean {
  if (typeof value !== "string" || value.length <= MAX_IRI_LENGTH) return true;
  c.problems.add(path, `must be at most ${MAX_IRI_LENGTH} characters (it has ${value.length})`);
  return false;
}

function checkIri(value: unknown, path: string, c: Check, example = IRI_EXAMPLE): void {
  if (withinIriLength(value, path, c)) expectFormat(value, path, c, isIri, iriMessage(example));
}

function checkIrl(value: unknown, path: string, c: Check, example = "https://example.com"): void {
  if (withinIriLength(value, path, c))
    expectFormat(value, path, c, isIrl, `an IRL (a URL) such as ${example}`);
}

function checkVersion(value: unknown, path: string, c: Check): void {
  if (!expectString(value, path, c)) return;
  if (c.version === "1.0.3" && !VERSION_1_0.test(value)) {
    c.problems.add(path, "must be 1.0 or 1.0.x (such as 1.0.0) in an xAPI 1.0.3 request");
  } else if (c.version === "2.0.0" && !VERSION_1_0.test(value) && !VERSION_2_0.test(value)) {
    c.problems.add(path, "must be 1.0.x or 2.0.x (such as 2.0.0) in an xAPI 2.0.0 request");
  }
}

function checkLanguageMap(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, 'a language map such as {"en-US": "completed"}')) return;
  for (const [tag, text] of Object.entries(value)) {
    const entryPath = child(path, tag);
    if (!LANGUAGE_TAG.test(tag)) {
      c.problems.add(entryPath, "is not an RFC 5646 language tag such as en or en-US");
    }
    expectString(text, entryPath, c);
  }
}

function checkExtensions(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, "an object whose keys are IRIs")) return;
  for (const [key, extension] of Object.entries(value)) {
    const entryPath = child(path, key);
    if (!isIri(key))
      c.problems.add(entryPath, `has a key that is not ${iriMessage("http://example.com/ext/x")}`);
    const tooDeep = findTooDeep(extension, 1, []);
    if (tooDeep) {
      const suffix = tooDeep.reduce<string>(
        (at, segment) => (typeof segment === "number" ? item(at, segment) : child(at, segment)),
        entryPath,
      );
      c.problems.add(suffix, `nests deeper than ${MAX_EXTENSION_DEPTH} levels of objects and arrays`);
    }
  }
}

/**
 * The path (below the extension) of the first object/array nested deeper than the limit, or
 * undefined. Recursion is bounded by the limit, so hostile input cannot overflow the stack.
 */
function findTooDeep(
  value: unknown,
  depth: number,
  segments: (string | number)[],
): (string | number)[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > MAX_EXTENSION_DEPTH) return [...segments];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? [...value.entries()]
    : Object.entries(value);
  for (const [key, nested] of entries) {
    if (typeof nested !== "object" || nested === null) continue;
    segments.push(key);
    const found = findTooDeep(nested, depth + 1, segments);
    segments.pop();
    if (found) return found;
  }
  return undefined;
}

function checkActor(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, "an object (an Agent or a Group)")) return;
  const objectType = own(value, "objectType");
  if (objectType === undefined || objectType === "Agent") checkAgent(value, path, c);
  else if (objectType === "Group") checkGroup(value, path, c);
  else c.problems.add(child(path, "objectType"), "must be Agent or Group");
}

function checkAuthority(value: unknown, path: string, c: Check): void {
  checkActor(value, path, c);
  // §2.4.9: an Agent, or (3-legged OAuth) a Group of exactly two Agents: the application and the user.
  // The pair is anonymous: an identified Group is not an authority (Data §2.4.9.s3.b3).
  if (isObject(value) && own(value, "objectType") === "Group") {
    const member = own(value, "member");
    if (!Array.isArray(member) || member.length !== 2) {
      c.problems.add(child(path, "member"), "must list exactly two Agents (an OAuth application and a user)");
    }
    const identifiers = ["mbox", "mbox_sha1sum", "openid", "account"].filter(
      (key) => own(value, key) !== undefined,
    );
    if (identifiers.length) {
      c.problems.add(
        child(path, identifiers[0]!),
        "must not be set: a Group authority is an anonymous OAuth pair of Agents",
      );
    }
  }
}

function checkAgent(value: unknown, path: string, c: Check, { objectTypeRequired = false } = {}): void {
  if (!expectObject(value, path, c, "an object (an Agent)")) return;
  checkKeys(value, "agent", path, c);
  const objectType = own(value, "objectType");
  if (objectType === undefined && objectTypeRequired)
    c.problems.add(child(path, "objectType"), "is required (Agent)");
  else if (objectType !== undefined && objectType !== "Agent")
    c.problems.add(child(path, "objectType"), "must be Agent");
  const name = own(value, "name");
  if (name !== undefined) expectString(name, child(path, "name"), c);
  const count = checkIdentifiers(value, path, c);
  if (count !== 1) {
    c.problems.add(
      path,
      `must have exactly one of mbox, mbox_sha1sum, openid or account; ${describeCount(value)}`,
    );
  }
}

function checkGroup(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, "an object (a Group)")) return;
  checkKeys(value, "group", path, c);
  const objectType = own(value, "objectType");
  if (objectType === undefined) c.problems.add(child(path, "objectType"), "is required (Group)");
  else if (objectType !== "Group") c.problems.add(child(path, "objectType"), "must be Group");
  const name = own(value, "name");
  if (name !== undefined) expectString(name, child(path, "name"), c);
  const count = checkIdentifiers(value, path, c);
  if (count > 1) {
    c.problems.add(
      path,
      `must have at most one of mbox, mbox_sha1sum, openid or account; ${describeCount(value)}`,
    );
  }
  const member = own(value, "member");
  const memberPath = child(path, "member");
  if (member === undefined) {
    if (count === 0) {
      c.problems.add(
        memberPath,
        "is required for an anonymous Group (one without mbox, mbox_sha1sum, openid or account)",
      );
    }
    return;
  }
  if (!expectArray(member, memberPath, c, "an array of Agents")) return;
  if (member.length === 0 && count === 0) c.problems.add(memberPath, "must list at least one Agent");
  for (const [index, agent] of member.entries()) {
    if (c.problems.full) return;
    const agentPath = item(memberPath, index);
    if (isObject(agent) && own(agent, "objectType") === "Group") {
      c.problems.add(child(agentPath, "objectType"), "must be Agent: a Group cannot contain Groups");
    } else {
      checkAgent(agent, agentPath, c);
    }
  }
}

/** Checks each IFI present; returns how many there are. */
function checkIdentifiers(value: JsonObject, path: string, c: Check): number {
  const mbox = own(value, "mbox");
  if (mbox !== undefined && withinIriLength(mbox, child(path, "mbox"), c)) {
    expectFormat(
      mbox,
      child(path, "mbox"),
      c,
      (text) => MAILTO.test(text),
      "a mailto: IRI such as mailto:learner@example.com",
    );
  }
  const sha1 = own(value, "mbox_sha1sum");
  if (sha1 !== undefined) {
    expectFormat(
      sha1,
      child(path, "mbox_sha1sum"),
      c,
      (text) => SHA1_HEX.test(text),
      "40 hexadecimal digits (the SHA-1 of a mailto: IRI)",
    );
  }
  const openid = own(value, "openid");
  if (openid !== undefined) checkIri(openid, child(path, "openid"), c, "https://openid.example.com/learner");
  const account = own(value, "account");
  if (account !== undefined) checkAccount(account, child(path, "account"), c);
  return IFI_KEYS.filter((key) => isPresent(value, key)).length;
}

function describeCount(value: JsonObject): string {
  const present = IFI_KEYS.filter((key) => isPresent(value, key));
  return present.length === 0 ? "found none" : `found ${present.join(" and ")}`;
}

function checkAccount(value: unknown, path: string, c: Check): void {
  if (
    !expectObject(value, path, c, 'an object such as {"homePage": "https://lms.example.com", "name": "42"}')
  )
    return;
  checkKeys(value, "account", path, c);
  const homePage = own(value, "homePage");
  if (homePage === undefined) c.problems.add(child(path, "homePage"), "is required");
  else checkIrl(homePage, child(path, "homePage"), c, "https://lms.example.com");
  const name = own(value, "name");
  if (name === undefined) c.problems.add(child(path, "name"), "is required");
  else if (expectString(name, child(path, "name"), c) && name === "")
    c.problems.add(child(path, "name"), "must not be empty");
  else withinIriLength(name, child(path, "name"), c);
}

function checkVerb(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, 'an object such as {"id": "http://adlnet.gov/expapi/verbs/completed"}'))
    return;
  checkKeys(value, "verb", path, c);
  const id = own(value, "id");
  if (id === undefined) c.problems.add(child(path, "id"), "is required");
  else checkIri(id, child(path, "id"), c, "http://example.com/verbs/x");
  const display = own(value, "display");
  if (display !== undefined) checkLanguageMap(display, child(path, "display"), c);
}

const OBJECT_TYPES = ["Activity", "Agent", "Group", "StatementRef", "SubStatement"];

function checkObject(
  value: unknown,
  path: string,
  c: Check,
  { insideSubStatement }: { insideSubStatement: boolean },
): void {
  if (!expectObject(value, path, c, "an object (an Activity, Agent, Group, StatementRef or SubStatement)"))
    return;
  const objectType = own(value, "objectType") ?? "Activity";
  switch (objectType) {
    case "Activity":
      checkActivity(value, path, c);
      break;
    case "Agent":
      checkAgent(value, path, c, { objectTypeRequired: true });
      break;
    case "Group":
      checkGroup(value, path, c);
      break;
    case "StatementRef":
      checkStatementRef(value, path, c);
      break;
    case "SubStatement":
      if (insideSubStatement) {
        c.problems.add(
          child(path, "objectType"),
          "must not be SubStatement: a SubStatement cannot contain another",
        );
      } else {
        checkSubStatement(value, path, c);
      }
      break;
    default:
      c.problems.add(child(path, "objectType"), `must be one of ${OBJECT_TYPES.join(", ")}`);
  }
}

function checkActivity(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, 'an object (an Activity such as {"id": "http://example.com/lessons/1"})'))
    return;
  checkKeys(value, "activity", path, c);
  const objectType = own(value, "objectType");
  if (objectType !== undefined && objectType !== "Activity")
    c.problems.add(child(path, "objectType"), "must be Activity");
  const id = own(value, "id");
  if (id === undefined) c.problems.add(child(path, "id"), "is required");
  else checkIri(id, child(path, "id"), c, "http://example.com/activities/lesson-1");
  const definition = own(value, "definition");
  if (definition !== undefined) checkDefinition(definition, child(path, "definition"), c);
}

function checkDefinition(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c)) return;
  checkKeys(value, "definition", path, c);
  for (const key of ["name", "description"]) {
    const map = own(value, key);
    if (map !== undefined) checkLanguageMap(map, child(path, key), c);
  }
  const type = own(value, "type");
  if (type !== undefined)
    checkIri(type, child(path, "type"), c, "http://adlnet.gov/expapi/activities/lesson");
  const moreInfo = own(value, "moreInfo");
  if (moreInfo !== undefined) checkIrl(moreInfo, child(path, "moreInfo"), c, "https://example.com/lessons/1");
  const extensions = own(value, "extensions");
  if (extensions !== undefined) checkExtensions(extensions, child(path, "extensions"), c);

  const interactionType = own(value, "interactionType");
  const knownType =
    typeof interactionType === "string" && (INTERACTION_TYPES as readonly string[]).includes(interactionType)
      ? interactionType
      : undefined;
  if (interactionType !== undefined && !knownType) {
    c.problems.add(child(path, "interactionType"), `must be one of ${INTERACTION_TYPES.join(", ")}`);
  }
  const pattern = own(value, "correctResponsesPattern");
  if (pattern !== undefined) {
    const patternPath = child(path, "correctResponsesPattern");
    if (interactionType === undefined) c.problems.add(patternPath, "is only allowed with an interactionType");
    if (expectArray(pattern, patternPath, c, "an array of strings")) {
      for (const [index, response] of pattern.entries()) expectString(response, item(patternPath, index), c);
    }
  }
  for (const list of COMPONENT_LISTS) {
    const components = own(value, list);
    if (components === undefined) continue;
    const listPath = child(path, list);
    const usedBy = Object.keys(COMPONENT_LISTS_BY_TYPE).filter((type) =>
      COMPONENT_LISTS_BY_TYPE[type]!.includes(list),
    );
    if (interactionType === undefined || (knownType && !usedBy.includes(knownType))) {
      c.problems.add(listPath, `is only allowed when interactionType is ${usedBy.join(" or ")}`);
    }
    checkInteractionComponents(components, listPath, c);
  }
}

function checkInteractionComponents(value: unknown, path: string, c: Check): void {
  if (!expectArray(value, path, c, 'an array of interaction components such as [{"id": "a"}]')) return;
  const firstIndexOfId = new Map<string, number>();
  for (const [index, component] of value.entries()) {
    const componentPath = item(path, index);
    if (!expectObject(component, componentPath, c)) continue;
    checkKeys(component, "interactionComponent", componentPath, c);
    const id = own(component, "id");
    const idPath = child(componentPath, "id");
    if (id === undefined) c.problems.add(idPath, "is required");
    else if (expectString(id, idPath, c)) {
      if (id === "") c.problems.add(idPath, "must not be empty");
      const first = firstIndexOfId.get(id);
      if (first === undefined) firstIndexOfId.set(id, index);
      else c.problems.add(idPath, `duplicates the id of ${item(path, first)}`);
    }
    const description = own(component, "description");
    if (description !== undefined) checkLanguageMap(description, child(componentPath, "description"), c);
  }
}

function checkStatementRef(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c, 'an object such as {"objectType": "StatementRef", "id": "<uuid>"}'))
    return;
  checkKeys(value, "statementRef", path, c);
  const objectType = own(value, "objectType");
  if (objectType === undefined) c.problems.add(child(path, "objectType"), "is required (StatementRef)");
  else if (objectType !== "StatementRef") c.problems.add(child(path, "objectType"), "must be StatementRef");
  const id = own(value, "id");
  if (id === undefined) c.problems.add(child(path, "id"), "is required");
  else checkUuid(id, child(path, "id"), c);
}

function checkSubStatement(value: JsonObject, path: string, c: Check): void {
  for (const key of Object.keys(value)) {
    if (NOT_IN_SUBSTATEMENT.has(key)) c.problems.add(child(path, key), "is not allowed in a SubStatement");
    else if (!OBJECT_KINDS.subStatement.keys.has(key)) {
      c.problems.add(child(path, key), `is not a property of ${OBJECT_KINDS.subStatement.label}`);
    }
  }
  checkStatementBody(value, path, c, { sub: true });
}

function checkResult(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c)) return;
  checkKeys(value, "result", path, c);
  const score = own(value, "score");
  if (score !== undefined) checkScore(score, child(path, "score"), c);
  for (const key of ["success", "completion"]) {
    const flag = own(value, key);
    if (flag !== undefined) expectBoolean(flag, child(path, key), c);
  }
  const response = own(value, "response");
  if (response !== undefined) expectString(response, child(path, "response"), c);
  const duration = own(value, "duration");
  if (duration !== undefined) {
    expectFormat(
      duration,
      child(path, "duration"),
      c,
      isDuration,
      "an ISO 8601 duration such as PT1H30M, PT45S or P1D",
    );
  }
  const extensions = own(value, "extensions");
  if (extensions !== undefined) checkExtensions(extensions, child(path, "extensions"), c);
}

function checkScore(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c)) return;
  checkKeys(value, "score", path, c);
  const numbers: Partial<Record<"scaled" | "raw" | "min" | "max", number>> = {};
  for (const key of ["scaled", "raw", "min", "max"] as const) {
    const number = own(value, key);
    if (number !== undefined && expectNumber(number, child(path, key), c)) numbers[key] = number;
  }
  const { scaled, raw, min, max } = numbers;
  if (scaled !== undefined && (scaled < -1 || scaled > 1)) {
    c.problems.add(child(path, "scaled"), "must be between -1 and 1");
  }
  if (min !== undefined && max !== undefined && !(min < max)) {
    c.problems.add(child(path, "max"), `must be greater than min (${min})`);
  }
  if (raw !== undefined && min !== undefined && raw < min) {
    c.problems.add(child(path, "raw"), `must be at least min (${min})`);
  }
  if (raw !== undefined && max !== undefined && raw > max) {
    c.problems.add(child(path, "raw"), `must be at most max (${max})`);
  }
}

function checkContext(
  value: unknown,
  path: string,
  c: Check,
  { objectIsActivity }: { objectIsActivity: boolean },
): void {
  if (!expectObject(value, path, c)) return;
  const kind = c.version === "2.0.0" ? "context_2_0_0" : "context_1_0_3";
  for (const key of Object.keys(value)) {
    if (OBJECT_KINDS[kind].keys.has(key)) continue;
    const only2 = OBJECT_KINDS.context_2_0_0.keys.has(key);
    c.problems.add(child(path, key), `is not a property of context${only2 ? " before xAPI 2.0.0" : ""}`);
  }
  const registration = own(value, "registration");
  if (registration !== undefined) checkUuid(registration, child(path, "registration"), c);
  const instructor = own(value, "instructor");
  if (instructor !== undefined) checkActor(instructor, child(path, "instructor"), c);
  const team = own(value, "team");
  if (team !== undefined) checkGroup(team, child(path, "team"), c);
  const contextActivities = own(value, "contextActivities");
  if (contextActivities !== undefined)
    checkContextActivities(contextActivities, child(path, "contextActivities"), c);
  for (const key of ["revision", "platform"]) {
    const text = own(value, key);
    if (text === undefined) continue;
    if (expectString(text, child(path, key), c) && !objectIsActivity) {
      c.problems.add(child(path, key), "is only allowed when the statement's object is an Activity");
    }
  }
  const language = own(value, "language");
  if (language !== undefined) {
    expectFormat(
      language,
      child(path, "language"),
      c,
      (tag) => LANGUAGE_TAG.test(tag),
      "an RFC 5646 language tag such as en-US",
    );
  }
  const statement = own(value, "statement");
  if (statement !== undefined) checkStatementRef(statement, child(path, "statement"), c);
  const extensions = own(value, "extensions");
  if (extensions !== undefined) checkExtensions(extensions, child(path, "extensions"), c);
  if (c.version === "2.0.0") {
    const contextAgents = own(value, "contextAgents");
    if (contextAgents !== undefined)
      checkContextAgents(contextAgents, child(path, "contextAgents"), c, "contextAgent");
    const contextGroups = own(value, "contextGroups");
    if (contextGroups !== undefined)
      checkContextAgents(contextGroups, child(path, "contextGroups"), c, "contextGroup");
  }
}

function checkContextActivities(value: unknown, path: string, c: Check): void {
  if (!expectObject(value, path, c)) return;
  checkKeys(value, "contextActivities", path, c);
  for (const key of ["parent", "grouping", "category", "other"]) {
    const activities = own(value, key);
    if (activities === undefined) continue;
    // §2.4.6.2.s4.b2: a single Activity is allowed too (0.95 compatibility).
    if (Array.isArray(activities)) {
      for (const [index, activity] of activities.entries())
        checkActivity(activity, item(child(path, key), index), c);
    } else {
      checkActivity(activities, child(path, key), c);
    }
  }
}

/** xAPI 2.0.0 `contextAgents` (kind contextAgent, property `agent`) or `contextGroups` (`group`). */
function checkContextAgents(
  value: unknown,
  path: string,
  c: Check,
  kind: "contextAgent" | "contextGroup",
): void {
  if (!expectArray(value, path, c, `an array of ${kind} objects`)) return;
  const actorKey = kind === "contextAgent" ? "agent" : "group";
  for (const [index, entry] of value.entries()) {
    const entryPath = item(path, index);
    if (!expectObject(entry, entryPath, c)) continue;
    checkKeys(entry, kind, entryPath, c);
    const objectType = own(entry, "objectType");
    if (objectType === undefined) c.problems.add(child(entryPath, "objectType"), `is required (${kind})`);
    else if (objectType !== kind) c.problems.add(child(entryPath, "objectType"), `must be ${kind}`);
    const actor = own(entry, actorKey);
    if (actor === undefined) c.problems.add(child(entryPath, actorKey), "is required");
    else if (kind === "contextAgent") checkAgent(actor, child(entryPath, actorKey), c);
    else checkGroup(actor, child(entryPath, actorKey), c);
    const relevantTypes = own(entry, "relevantTypes");
    if (relevantTypes === undefined) continue;
    const typesPath = child(entryPath, "relevantTypes");
    if (!expectArray(relevantTypes, typesPath, c, "a non-empty array of IRIs")) continue;
    if (relevantTypes.length === 0) c.problems.add(typesPath, "must list at least one IRI");
    for (const [typeIndex, type] of relevantTypes.entries()) {
      checkIri(type, item(typesPath, typeIndex), c, "http://example.com/xapi/roles/mentor");
    }
  }
}

function checkAttachments(value: unknown, path: string, c: Check): void {
  if (!expectArray(value, path, c, "an array of attachments")) return;
  for (const [index, attachment] of value.entries()) {
    if (c.problems.full) return;
    const attachmentPath = item(path, index);
    if (!expectObject(attachment, attachmentPath, c)) continue;
    checkKeys(attachment, "attachment", attachmentPath, c);
    for (const key of ["usageType", "display", "contentType", "length", "sha2"]) {
      if (!isPresent(attachment, key)) c.problems.add(child(attachmentPath, key), "is required");
    }
    const at = (key: string) => child(attachmentPath, key);
    const usageType = own(attachment, "usageType");
    if (usageType !== undefined)
      checkIri(usageType, at("usageType"), c, "http://adlnet.gov/expapi/attachments/signature");
    const display = own(attachment, "display");
    if (display !== undefined) checkLanguageMap(display, at("display"), c);
    const description = own(attachment, "description");
    if (description !== undefined) checkLanguageMap(description, at("description"), c);
    const contentType = own(attachment, "contentType");
    if (contentType !== undefined) {
      expectFormat(
        contentType,
        at("contentType"),
        c,
        (text) => MEDIA_TYPE.test(text),
        "a media type such as application/pdf",
      );
    }
    const length = own(attachment, "length");
    if (length !== undefined && !(Number.isInteger(length) && (length as number) >= 0)) {
      c.problems.add(at("length"), typeProblem(length, "a whole number of bytes (0 or more)"));
    }
    const sha2 = own(attachment, "sha2");
    if (sha2 !== undefined) {
      expectFormat(
        sha2,
        at("sha2"),
        c,
        (text) => SHA2_HEX.test(text),
        "a hex-encoded SHA-2 hash (64 hex digits for SHA-256)",
      );
    }
    const fileUrl = own(attachment, "fileUrl");
    if (fileUrl !== undefined) checkIrl(fileUrl, at("fileUrl"), c, "https://example.com/certificates/1.pdf");
  }
}
