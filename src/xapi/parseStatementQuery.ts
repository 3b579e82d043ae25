/**
 * The parameters of `GET /xapi/statements` (xAPI Communication §2.1.3), checked and turned into a
 * `StatementRequest`. Pure. Every problem is a 400 naming the parameter: an unknown or repeated
 * parameter, bad JSON in `agent`, a malformed value, or `statementId`/`voidedStatementId` with
 * anything but `attachments` and `format`.
 */
import { AppError } from "../errors.ts";
import { agentIdentity, type IndexKeyKind, indexKey } from "./statementIndexKeys.ts";
import { type Actor, validateStatement } from "./validateStatement.ts";
import type { XapiVersion } from "./version.ts";

/** The most statements one page holds; `limit=0` and larger limits get this many. */
export const MAX_QUERY_LIMIT = 500;

export type StatementFormat = "ids" | "exact" | "canonical";

/** A statement query, resolved: the index keys it filters on and its bounds. */
export interface StatementQuery {
  /**
   * Index keys every returned statement has (see `statementIndexKeys`), the verb's excepted;
   * empty: no filter but perhaps the verb.
   */
  keys: string[];
  /** The index key of the `verb` filter, when there is one (`statement_index.verb` narrows by it). */
  verb?: string | undefined;
  /** Exclusive lower bound on `stored` (ISO 8601). */
  since?: string | undefined;
  /** Inclusive upper bound on `stored` (ISO 8601). */
  until?: string | undefined;
  limit: number;
  ascending: boolean;
  format: StatementFormat;
  attachments: boolean;
}

export type StatementRequest =
  | { kind: "single"; id: string; voided: boolean; format: StatementFormat; attachments: boolean }
  | { kind: "query"; query: StatementQuery }
  | { kind: "more"; token: string };

export class InvalidParameter extends AppError {
  constructor(
    readonly parameter: string,
    problem: string,
    code = "invalid_parameter",
  ) {
    super(400, code, `${parameter} ${problem}`, [{ field: parameter, message: problem }]);
  }
}

const KNOWN = new Set([
  "statementId",
  "voidedStatementId",
  "agent",
  "verb",
  "activity",
  "registration",
  "related_activities",
  "related_agents",
  "since",
  "until",
  "limit",
  "format",
  "attachments",
  "ascending",
  "more",
]);
/** What may come with statementId / voidedStatementId (Communication §2.1.3). */
const WITH_ID = new Set(["statementId", "voidedStatementId", "format", "attachments"]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IRI = /^[a-z][a-z0-9+.-]*:[^\s\p{Cc}<>"]+$/iu;
/** An ISO 8601 date and time with a time zone (as the xAPI Timestamp format requires). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

function single(params: URLSearchParams): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!KNOWN.has(name))
      throw new InvalidParameter(name, "is not a parameter of statement queries", "unknown_parameter");
    if (values.has(name)) throw new InvalidParameter(name, "is given more than once");
    values.set(name, value);
  }
  return values;
}

function boolean(values: Map<string, string>, name: string): boolean {
  const value = values.get(name);
  if (value === undefined) return false;
  if (value !== "true" && value !== "false") throw new InvalidParameter(name, "must be true or false");
  return value === "true";
}

function format(values: Map<string, string>): StatementFormat {
  const value = values.get("format") ?? "exact";
  if (value !== "ids" && value !== "exact" && value !== "canonical") {
    throw new InvalidParameter("format", "must be ids, exact or canonical");
  }
  return value;
}

function uuid(values: Map<string, string>, name: string): string | undefined {
  const value = values.get(name);
  if (value === undefined) return undefined;
  if (!UUID.test(value)) throw new InvalidParameter(name, "must be a UUID");
  return value.toLowerCase();
}

function iri(values: Map<string, string>, name: string): string | undefined {
  const value = values.get(name);
  if (value !== undefined && !IRI.test(value)) throw new InvalidParameter(name, "must be an IRI");
  return value;
}

function timestamp(values: Map<string, string>, name: string): string | undefined {
  const value = values.get(name);
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (!TIMESTAMP.test(value) || Number.isNaN(time)) {
    throw new InvalidParameter(name, "must be an ISO 8601 timestamp with a time zone");
  }
  return new Date(time).toISOString();
}

/** The identity of the `agent` parameter: JSON of an Agent or identified Group. */
function agent(values: Map<string, string>, version: XapiVersion): string | undefined {
  const value = values.get("agent");
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidParameter("agent", "must be JSON (an Agent or Group object)");
  }
  // The statement rules check the actor; any other problem would be in the placeholder parts.
  const probe = { actor: parsed, verb: { id: "urn:x:verb" }, object: { id: "urn:x:object" } };
  const problem = validateStatement(probe, { version }).find((p) => p.path.startsWith("actor"));
  if (problem) {
    throw new InvalidParameter(`agent${problem.path.slice("actor".length)}`, problem.message);
  }
  const identity = agentIdentity(parsed as Actor);
  if (identity === undefined)
    throw new InvalidParameter("agent", "must have an identifier (mbox, mbox_sha1sum, openid or account)");
  return identity;
}

function limit(values: Map<string, string>): number {
  const value = values.get("limit");
  if (value === undefined) return MAX_QUERY_LIMIT;
  if (!/^\d{1,9}$/.test(value)) throw new InvalidParameter("limit", "must be a whole number, 0 or more");
  const n = Number(value);
  return n === 0 ? MAX_QUERY_LIMIT : Math.min(n, MAX_QUERY_LIMIT);
}

/** Checks the query string of `GET /xapi/statements`. */
export function parseStatementQuery(params: URLSearchParams, version: XapiVersion): StatementRequest {
  const values = single(params);

  const more = values.get("more");
  if (more !== undefined) {
    const other = [...values.keys()].find((name) => name !== "more");
    if (other)
      throw new InvalidParameter(other, "cannot be combined with more: the more link carries the query");
    return { kind: "more", token: more };
  }

  const statementId = uuid(values, "statementId");
  const voidedStatementId = uuid(values, "voidedStatementId");
  if (statementId !== undefined || voidedStatementId !== undefined) {
    if (statementId !== undefined && voidedStatementId !== undefined) {
      throw new InvalidParameter("voidedStatementId", "cannot be combined with statementId");
    }
    const other = [...values.keys()].find((name) => !WITH_ID.has(name));
    const by = statementId !== undefined ? "statementId" : "voidedStatementId";
    if (other) throw new InvalidParameter(other, `cannot be combined with ${by}`);
    return {
      kind: "single",
      id: (statementId ?? voidedStatementId)!,
      voided: voidedStatementId !== undefined,
      format: format(values),
      attachments: boolean(values, "attachments"),
    };
  }

  const relatedAgents = boolean(values, "related_agents");
  const relatedActivities = boolean(values, "related_activities");
  const filters: [IndexKeyKind, string | undefined][] = [
    ["registration", uuid(values, "registration")],
    [relatedAgents ? "related_agent" : "agent", agent(values, version)],
    [relatedActivities ? "related_activity" : "activity", iri(values, "activity")],
  ];
  const verb = iri(values, "verb");
  const since = timestamp(values, "since");
  const until = timestamp(values, "until");
  return {
    kind: "query",
    query: {
      keys: filters.flatMap(([kind, value]) => (value === undefined ? [] : [indexKey(kind, value)])),
      verb: verb === undefined ? undefined : indexKey("verb", verb),
      since,
      until,
      limit: limit(values),
      ascending: boolean(values, "ascending"),
      format: format(values),
      attachments: boolean(values, "attachments"),
    },
  };
}
