/**
 * The LRS's part of a statement (xAPI Data §2.4): the properties it assigns before storing.
 * Pure: the clock and the client are passed in.
 */
import { randomUUID } from "node:crypto";
import type { XapiClient } from "./credentials.ts";
import type {
  Agent,
  Context,
  ContextActivities,
  Statement,
  StatementObject,
  StatementRef,
  StoredStatement,
} from "./validateStatement.ts";
import { defaultStatementVersion, type XapiVersion } from "./version.ts";

/** A statement ready to store: validated, with every LRS-assigned property set. */
export type PreparedStatement = StoredStatement & { version: string; authority: Agent };

export interface PrepareContext {
  client: XapiClient;
  version: XapiVersion;
  /** The `stored` time of every statement of the request. */
  stored: Date;
  publicBaseUrl: string;
}

/** The `authority` of statements sent with a credential: an account under this LRS. */
export function authorityFor(client: XapiClient, publicBaseUrl: string): Agent {
  return {
    objectType: "Agent",
    name: client.name,
    account: { homePage: `${publicBaseUrl}/xapi/credentials`, name: client.key },
  };
}

/** A StatementRef with its id lower-cased: UUID case carries no meaning, and one form keeps lookups indexed. */
function normalizeRef<T extends StatementObject | StatementRef>(value: T): T {
  return value.objectType === "StatementRef" ? { ...value, id: value.id.toLowerCase() } : value;
}

/**
 * Context activities as the LRS returns them (Data §2.4.6.2): each of `parent`, `grouping`,
 * `category` and `other` an array, also when it was sent as a single Activity object.
 */
function normalizeContext(context: Context): Context {
  const activities = context.contextActivities;
  const out: Context = context.statement
    ? { ...context, statement: normalizeRef(context.statement) }
    : context;
  if (!activities) return out;
  const arrays: ContextActivities = {};
  for (const [kind, value] of Object.entries(activities)) {
    if (value !== undefined)
      (arrays as Record<string, unknown>)[kind] = Array.isArray(value) ? value : [value];
  }
  return { ...out, contextActivities: arrays };
}

/** The statement's object, with a StatementRef's id lower-cased and a SubStatement's context normalized. */
function normalizeObject(object: Statement["object"]): Statement["object"] {
  if (object.objectType === "SubStatement" && object.context) {
    return { ...object, context: normalizeContext(object.context) };
  }
  return normalizeRef(object);
}

/**
 * Sets `id` (lower-cased, or generated), `stored`, `timestamp` (when missing), `authority`
 * (always: the LRS asserts who sent it) and `version` (when missing), and returns context
 * activities as arrays.
 */
export function prepareStatement(statement: Statement, context: PrepareContext): PreparedStatement {
  const stored = context.stored.toISOString();
  const { id, actor, verb, object, result, context: statementContext, timestamp, attachments } = statement;
  const prepared: PreparedStatement = {
    id: id?.toLowerCase() ?? randomUUID(),
    actor,
    verb,
    object: normalizeObject(object),
    timestamp: timestamp ?? stored,
    stored,
    authority: authorityFor(context.client, context.publicBaseUrl),
    version: statement.version ?? defaultStatementVersion(context.version),
  };
  if (result !== undefined) prepared.result = result;
  if (statementContext !== undefined) prepared.context = normalizeContext(statementContext);
  if (attachments !== undefined) prepared.attachments = attachments;
  return prepared;
}
