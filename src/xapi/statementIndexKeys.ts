/**
 * The keys a statement is found by in statement queries (xAPI Communication §2.1.3), as strings
 * in one namespace, so one index table (`statement_index`) serves every filter. Pure.
 *
 * Terminology:
 * - agent key: an Agent or identified Group, by its objectType and inverse functional identifier
 *   (Data §2.4.2.1: equal when the same IFI is used and the objectType is the same).
 * - direct keys (`agent`, `activity`): what the filter matches without `related_*`: the actor or
 *   an Agent/Group object; an Activity object.
 * - related keys (`related_agent`, `related_activity`): what `related_agents=true` /
 *   `related_activities=true` match: the direct ones, and authority, context instructor and team,
 *   2.0.0 contextAgents/contextGroups, context activities, and the same inside a SubStatement.
 */
import { createHash } from "node:crypto";
import type { Actor, Context, Statement, StatementObject } from "./validateStatement.ts";

export type IndexKeyKind =
  | "agent"
  | "related_agent"
  | "verb"
  | "activity"
  | "related_activity"
  | "registration";

/** The readable key of `value` under `kind`: `activity:https://…`, `agent:Agent|mbox=…`. */
export function keyText(kind: IndexKeyKind, value: string): string {
  return `${kind}:${value}`;
}

/**
 * What `statement_index.key` holds for a readable key: the first 128 bits of its SHA-256, as a
 * uuid. Fixed-size keys keep the index half the size of the text (and any IRI length fits a
 * btree entry); SQL computes the same value as
 * `encode(substr(sha256(convert_to(text, 'UTF8')), 1, 16), 'hex')::uuid`.
 */
export function hashKey(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The stored index key of `value` under `kind` (what queries look up). */
export function indexKey(kind: IndexKeyKind, value: string): string {
  return hashKey(keyText(kind, value));
}

/**
 * What `statement_index.verb` holds for a statement whose object is a StatementRef: it may have
 * its target's verb key beside its own, so it has no single verb, and a query checks the verb's
 * own index entries for it (queryStatements.ts). Also the column's default, so a row written
 * without a verb is never wrongly left out.
 */
export const NO_SINGLE_VERB = "00000000-0000-0000-0000-000000000000";

/** `Agent|mbox=mailto:a@example.com`, or undefined for an anonymous Group (no IFI). */
export function agentIdentity(actor: Actor): string | undefined {
  const type = actor.objectType === "Group" ? "Group" : "Agent";
  // mbox case carries no meaning in practice (as in statement comparison and learner matching).
  if (actor.mbox !== undefined) return `${type}|mbox=${actor.mbox.toLowerCase()}`;
  if (actor.mbox_sha1sum !== undefined) return `${type}|mbox_sha1sum=${actor.mbox_sha1sum.toLowerCase()}`;
  if (actor.openid !== undefined) return `${type}|openid=${actor.openid}`;
  if (actor.account !== undefined) return `${type}|account=${actor.account.homePage} ${actor.account.name}`;
  return undefined;
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function isAgentLike(object: StatementObject): object is Actor & StatementObject {
  return object.objectType === "Agent" || object.objectType === "Group";
}

/** The keys of the parts a statement and its SubStatement share (no id, authority, stored). */
function addBodyKeys(
  body: { actor: Actor; verb: { id: string }; object: StatementObject; context?: Context | undefined },
  add: (kind: IndexKeyKind, value: string | undefined) => void,
  { direct }: { direct: boolean },
): void {
  const agent = (actor: Actor | undefined, isDirect: boolean) => {
    if (!actor) return;
    const identity = agentIdentity(actor);
    if (isDirect) add("agent", identity);
    add("related_agent", identity);
  };
  agent(body.actor, direct);
  if (direct) add("verb", body.verb.id);
  const { object, context } = body;
  if (isAgentLike(object)) agent(object, direct);
  else if (object.objectType === undefined || object.objectType === "Activity") {
    if (direct) add("activity", object.id);
    add("related_activity", object.id);
  }
  if (context) {
    if (direct) add("registration", context.registration?.toLowerCase());
    agent(context.instructor, false);
    agent(context.team, false);
    for (const contextAgent of context.contextAgents ?? []) agent(contextAgent.agent, false);
    for (const contextGroup of context.contextGroups ?? []) agent(contextGroup.group, false);
    const activities = context.contextActivities ?? {};
    for (const list of [activities.parent, activities.grouping, activities.category, activities.other]) {
      for (const activity of asList(list)) add("related_activity", activity.id);
    }
  }
}

/**
 * Every index key of `statement` as readable text (`keyText`), without duplicates; what is
 * stored is each one's `hashKey`. A StatementRef object contributes nothing here: the keys of its
 * target are added by the caller (`writeStatementIndex`), since the target is another statement.
 */
export function statementIndexKeys(statement: Statement): string[] {
  const keys = new Set<string>();
  const add = (kind: IndexKeyKind, value: string | undefined) => {
    if (value !== undefined) keys.add(keyText(kind, value));
  };
  addBodyKeys(statement, add, { direct: true });
  if (statement.authority) {
    const identity = agentIdentity(statement.authority);
    add("related_agent", identity);
    // An OAuth authority is an anonymous two-member Group: its members identify it.
    if (identity === undefined && statement.authority.objectType === "Group") {
      for (const member of statement.authority.member ?? []) add("related_agent", agentIdentity(member));
    }
  }
  if (statement.object.objectType === "SubStatement") addBodyKeys(statement.object, add, { direct: false });
  return [...keys];
}

/** The id of the statement `statement` targets by a StatementRef object, lower-cased. */
export function statementRefTarget(statement: Statement): string | undefined {
  return statement.object.objectType === "StatementRef" ? statement.object.id.toLowerCase() : undefined;
}
