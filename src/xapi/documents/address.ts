/**
 * Where a document lives: the request parameters of the three document resources
 * (Communication §2.3 State, §2.6 Activity Profile, §2.7 Agent Profile), checked and turned into
 * a `DocumentAddress`. Every parameter is checked for what the spec allows: required ones present
 * once, no unknown or mis-cased names, `agent` a valid Agent, `activityId` an IRI, `registration`
 * a UUID, `since` a timestamp, and `since` never together with a document id.
 */
import { createHash } from "node:crypto";
import {
  type Agent,
  isIri,
  isTimestamp,
  MAX_IRI_LENGTH,
  validateAgentParameter,
} from "../validateStatement.ts";
import type { XapiVersion } from "../version.ts";
import { agentKey } from "./agentKey.ts";
import { BadParameter } from "./errors.ts";

export type DocumentKind = "state" | "activity_profile" | "agent_profile";

/** Which documents a request is about: one (`documentId` set) or all in a context. */
export interface DocumentAddress {
  kind: DocumentKind;
  activityId: string | null;
  /** The Agent's canonical IFI (agentKey.ts). */
  agent: string | null;
  registration: string | null;
  documentId?: string;
}

/** The single-document key (`xapi_documents.id`). */
export function documentKey(address: DocumentAddress & { documentId: string }): string {
  return sha256([address.kind, address.activityId, address.agent, address.registration, address.documentId]);
}

/** The context key without registration and document id (`xapi_documents.scope`). */
export function scopeKey(address: DocumentAddress): string {
  return sha256([address.kind, address.activityId, address.agent]);
}

function sha256(parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/** The name of the document id parameter of each resource. */
export const DOCUMENT_ID_PARAMETER: Record<DocumentKind, "stateId" | "profileId"> = {
  state: "stateId",
  activity_profile: "profileId",
  agent_profile: "profileId",
};

const CONTEXT_PARAMETERS: Record<DocumentKind, readonly string[]> = {
  state: ["activityId", "agent", "registration"],
  activity_profile: ["activityId"],
  agent_profile: ["agent"],
};

/** What the request does with the document id: must have it, may omit it (all), may list (`since`). */
export type IdUse = "required" | "optional" | "list";

/** The longest document id accepted (a `stateId` or `profileId`). */
export const MAX_DOCUMENT_ID_LENGTH = 2048;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ParsedRequest {
  address: DocumentAddress;
  /** Only with `list`: ids of documents updated strictly after this time. */
  since?: Date;
}

/**
 * Checks the query of a request to a document resource. `ids`: `required` for PUT and POST,
 * `optional` for DELETE (State without `stateId` deletes all), `list` for GET (without the id it
 * lists ids, optionally `since`). Throws `BadParameter` naming the first parameter at fault.
 */
export function parseDocumentQuery(
  kind: DocumentKind,
  query: Record<string, unknown>,
  ids: IdUse,
  version: XapiVersion,
): ParsedRequest {
  const idName = DOCUMENT_ID_PARAMETER[kind];
  const allowed = new Set([...CONTEXT_PARAMETERS[kind], idName, ...(ids === "list" ? ["since"] : [])]);
  for (const name of Object.keys(query)) {
    if (!allowed.has(name)) {
      const near = [...allowed].find((known) => known.toLowerCase() === name.toLowerCase());
      throw new BadParameter(
        name,
        near
          ? `is not a parameter of this resource; did you mean ${near}?`
          : "is not a parameter of this resource",
      );
    }
  }
  const value = (name: string): string | undefined => {
    const raw = query[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== "string") throw new BadParameter(name, "must be given once");
    return raw;
  };
  const required = (name: string): string => {
    const raw = value(name);
    if (raw === undefined || raw === "") throw new BadParameter(name, "is required");
    return raw;
  };

  const address: DocumentAddress = { kind, activityId: null, agent: null, registration: null };
  if (CONTEXT_PARAMETERS[kind].includes("activityId")) {
    address.activityId = parseActivityId(required("activityId"));
  }
  if (CONTEXT_PARAMETERS[kind].includes("agent"))
    address.agent = agentKey(parseAgent(required("agent"), version));
  const registration = value("registration");
  if (registration !== undefined) {
    if (!UUID.test(registration)) throw new BadParameter("registration", "must be a UUID");
    address.registration = registration.toLowerCase();
  }

  const documentId = value(idName);
  const sinceText = value("since");
  if (documentId !== undefined) {
    if (documentId === "") throw new BadParameter(idName, "must not be empty");
    if (documentId.length > MAX_DOCUMENT_ID_LENGTH) {
      throw new BadParameter(idName, `must be at most ${MAX_DOCUMENT_ID_LENGTH} characters`);
    }
    if (sinceText !== undefined) throw new BadParameter("since", `is not allowed together with ${idName}`);
    address.documentId = documentId;
  } else if (ids === "required") {
    throw new BadParameter(idName, "is required");
  }
  if (sinceText === undefined) return { address };
  if (!isTimestamp(sinceText)) {
    throw new BadParameter("since", "must be an ISO 8601 timestamp such as 2024-05-01T12:00:00.000Z");
  }
  return { address, since: new Date(sinceText) };
}

/** The `agent` parameter: JSON of an Agent with exactly one IFI. */
export function parseAgent(text: string, version: XapiVersion): Agent {
  let agent: unknown;
  try {
    agent = JSON.parse(text);
  } catch {
    throw new BadParameter(
      "agent",
      'must be an Agent as JSON, such as {"mbox":"mailto:learner@example.com"}',
    );
  }
  const problems = validateAgentParameter(agent, version);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new BadParameter(first.path || "agent", first.message);
  }
  return agent as Agent;
}

/**
 * The one parameter of the Agents (`agent`) and Activities (`activityId`) resources: required,
 * given once; any other parameter is 400.
 */
export function parseOnlyParameter(query: Record<string, unknown>, name: string): string {
  for (const other of Object.keys(query)) {
    if (other !== name)
      throw new BadParameter(other, `is not a parameter of this resource (it takes ${name})`);
  }
  const value = query[name];
  if (value === undefined || value === "") throw new BadParameter(name, "is required");
  if (typeof value !== "string") throw new BadParameter(name, "must be given once");
  return value;
}

/** The `activityId` parameter: an IRI. */
export function parseActivityId(text: string): string {
  if (text.length > MAX_IRI_LENGTH || !isIri(text)) {
    throw new BadParameter("activityId", "must be an IRI such as http://example.com/activities/lesson-1");
  }
  return text;
}
