/**
 * The LRS's part of a statement (xAPI Data §2.4): the properties it assigns before storing.
 * Pure: the clock and the client are passed in.
 */
import { randomUUID } from "node:crypto";
import type { XapiClient } from "./credentials.ts";
import type {
  Agent,
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
 * Sets `id` (lower-cased, or generated), `stored`, `timestamp` (when missing), `authority`
 * (always: the LRS asserts who sent it) and `version` (when missing).
 */
export function prepareStatement(statement: Statement, context: PrepareContext): PreparedStatement {
  const stored = context.stored.toISOString();
  const { id, actor, verb, object, result, context: statementContext, timestamp, attachments } = statement;
  const prepared: PreparedStatement = {
    id: id?.toLowerCase() ?? randomUUID(),
    actor,
    verb,
    object: normalizeRef(object),
    timestamp: timestamp ?? stored,
    stored,
    authority: authorityFor(context.client, context.publicBaseUrl),
    version: statement.version ?? defaultStatementVersion(context.version),
  };
  if (result !== undefined) prepared.result = result;
  if (statementContext !== undefined) {
    prepared.context = statementContext.statement
      ? { ...statementContext, statement: normalizeRef(statementContext.statement) }
      : statementContext;
  }
  if (attachments !== undefined) prepared.attachments = attachments;
  return prepared;
}
