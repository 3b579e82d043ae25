/**
 * xAPI statement validation: the rules of xAPI 1.0.3 (Part Two, "Experience API Data", §2 and §4)
 * and of xAPI 2.0.0 (IEEE 9274.1.1). No database, no HTTP: data in, problems out. The statement is
 * declared in `statementSchema.ts` (TypeBox, with the types other modules import), compiled here by
 * Ajv; `statementRules.ts` holds the rules a schema cannot say and `statementFormats.ts`
 * the string formats. A statement is first checked by a validator that stops at the first problem
 * (the hot path: most statements are valid); only a statement that fails is checked again by one
 * that collects every problem, worded from the schema's annotations.
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

import type { ValidateFunction } from "ajv";
import { findUnstorableText, type PathSegment } from "../db/storableText.ts";
import { makeDeclaredAjv, schemaProblems } from "../http/schemaProblems.ts";
import { addStatementFormats, UUID } from "./statementFormats.ts";
import { addStatementRules } from "./statementRules.ts";
import { AGENT_SCHEMA, STATEMENT_DEFINITIONS, STATEMENT_SCHEMAS } from "./statementSchema.ts";
import type { XapiVersion } from "./version.ts";

export { isIri, isTimestamp, MAX_IRI_LENGTH } from "./statementFormats.ts";
export { MAX_EXTENSION_DEPTH } from "./statementRules.ts";
export type {
  Account,
  Activity,
  ActivityDefinition,
  Actor,
  Agent,
  AgentObject,
  Attachment,
  Context,
  ContextActivities,
  ContextAgent,
  ContextGroup,
  Extensions,
  Group,
  InteractionComponent,
  LanguageMap,
  Result,
  Score,
  Statement,
  StatementObject,
  StatementRef,
  StoredStatement,
  SubStatement,
  Verb,
} from "./statementSchema.ts";

export interface StatementProblem {
  /** JSON path from the statement root (`result.score.scaled`); `""` for the root itself. */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** The xAPI version of the request (`X-Experience-API-Version`). */
  version: XapiVersion;
}

/** At most this many problems are returned; a request with more is rejected on these alone. */
export const MAX_PROBLEMS = 50;

// ---------------------------------------------------------------------------------------------
// The compiled schemas, per xAPI version: one validator that answers "valid?" at the first
// problem, compiled at load (the hot path); one that explains, compiled when first needed (a
// process that never meets an invalid statement never pays for it).

class Validators {
  readonly isValid: ValidateFunction;
  #explain: ValidateFunction | undefined;
  constructor(private readonly schema: object) {
    this.isValid = firstProblemAjv.compile(schema);
  }
  get explain(): ValidateFunction {
    this.#explain ??= everyProblemAjv.compile(this.schema);
    return this.#explain;
  }
}

function statementAjv(allErrors: boolean) {
  const ajv = makeDeclaredAjv(allErrors);
  addStatementFormats(ajv);
  addStatementRules(ajv);
  ajv.addSchema([...STATEMENT_DEFINITIONS]);
  return ajv;
}

const firstProblemAjv = statementAjv(false);
const everyProblemAjv = statementAjv(true);

const STATEMENT_VALIDATORS: Record<XapiVersion, Validators> = {
  "1.0.3": new Validators(STATEMENT_SCHEMAS["1.0.3"]),
  "2.0.0": new Validators(STATEMENT_SCHEMAS["2.0.0"]),
};
const AGENT_VALIDATORS = new Validators(AGENT_SCHEMA);

// ---------------------------------------------------------------------------------------------
// Entry points.

/** Validates one statement. Returns `[]` when it is valid, else at most `MAX_PROBLEMS` problems. */
export function validateStatement(statement: unknown, options: ValidateOptions): StatementProblem[] {
  const problems = new Problems(MAX_PROBLEMS);
  checkStatement(statement, "", options.version, problems);
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
    checkStatement(statement, path, version, problems);
    const id = isObject(statement) && Object.hasOwn(statement, "id") ? statement.id : undefined;
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
  _version: XapiVersion,
  path = "agent",
): StatementProblem[] {
  const problems = new Problems(MAX_PROBLEMS);
  check(AGENT_VALIDATORS, agent, path, problems);
  return problems.list;
}

// ---------------------------------------------------------------------------------------------
// Plumbing: the problem list and paths.

class Problems {
  readonly list: StatementProblem[] = [];
  constructor(private readonly limit: number) {}
  get full(): boolean {
    return this.list.length >= this.limit;
  }
  get room(): number {
    return this.limit - this.list.length;
  }
  add(path: string, message: string): void {
    if (!this.full) this.list.push({ path, message });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `a` + `b` → `a.b`; keys that are not identifiers (IRIs, language tags) → `a["en-US"]`. */
function child(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

/** `path` followed by `segments`: `actor` + `["member", 0, "mbox"]` → `actor.member[0].mbox`. */
function pathOf(path: string, segments: readonly PathSegment[]): string {
  return segments.reduce<string>(
    (prefix, segment) => (typeof segment === "number" ? `${prefix}[${segment}]` : child(prefix, segment)),
    path,
  );
}

function checkStatement(value: unknown, path: string, version: XapiVersion, problems: Problems): void {
  // No string or key anywhere (extension values and keys included) may hold text PostgreSQL
  // cannot store: a NUL or an unpaired surrogate would fail the write of every statement
  // committed with it.
  if (isObject(value)) {
    for (const found of findUnstorableText(value, MAX_PROBLEMS))
      problems.add(pathOf(path, found.path), found.message);
  }
  check(STATEMENT_VALIDATORS[version], value, path, problems);
}

function check(validators: Validators, value: unknown, path: string, problems: Problems): void {
  if (validators.isValid(value)) return;
  const explain = validators.explain;
  explain(value);
  for (const problem of schemaProblems(explain.errors ?? [], value, problems.room)) {
    const message = problem.refersTo
      ? `${problem.message} ${pathOf(path, problem.refersTo)}`
      : problem.message;
    problems.add(pathOf(path, problem.segments), message);
  }
}
