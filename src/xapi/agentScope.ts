/**
 * Credentials that act for one learner only (a cmi5 launch's, see `cmi5/launchCredential.ts`):
 * the scope `agent:<canonical IFI>` (`documents/agentKey.ts`) limits what the credential may do
 * to that Agent's own records. Its statements must have that Agent as actor; its State and Agent
 * Profile documents must be that Agent's; it may read Activity Profiles but not change them.
 * Anything else is 403 `insufficient_scope`, naming the field, before anything is stored.
 */
import { AppError } from "../errors.ts";
import type { XapiClient } from "./credentials.ts";
import type { DocumentAddress } from "./documents/address.ts";
import { agentKey } from "./documents/agentKey.ts";
import type { Actor, Agent, Statement } from "./validateStatement.ts";

const PREFIX = "agent:";

/** The scope that limits a credential to `agent`. */
export function agentScope(agent: Agent): string {
  return `${PREFIX}${agentKey(agent)}`;
}

function scopedAgent(client: XapiClient | undefined): string | undefined {
  return client?.scopes.find((scope) => scope.startsWith(PREFIX))?.slice(PREFIX.length);
}

function keyOf(actor: Actor): string | undefined {
  if (actor.objectType === "Group") return undefined;
  try {
    return agentKey(actor as Agent);
  } catch {
    return undefined;
  }
}

const refuse = (field: string, message: string) =>
  new AppError(403, "insufficient_scope", `this credential acts for one learner only: ${field} ${message}`, [
    { field, message },
  ]);

/** Refuses statements (validated) whose actor is not the credential's learner. */
export function checkStatementActors(
  client: XapiClient | undefined,
  statements: readonly Statement[],
  batch: boolean,
): void {
  const agent = scopedAgent(client);
  if (agent === undefined) return;
  statements.forEach((statement, index) => {
    if (keyOf(statement.actor) !== agent) {
      throw refuse(batch ? `statement[${index}].actor` : "actor", "must be the launch's learner");
    }
  });
}

/** Refuses document requests outside the credential's learner's own documents. */
export function checkDocumentScope(
  client: XapiClient | undefined,
  address: DocumentAddress,
  method: string,
): void {
  const agent = scopedAgent(client);
  if (agent === undefined) return;
  if (address.kind === "activity_profile") {
    if (method !== "GET" && method !== "HEAD")
      throw refuse("activityId", "profiles may be read, not changed");
    return;
  }
  if (address.agent !== agent) throw refuse("agent", "must be the launch's learner");
}
