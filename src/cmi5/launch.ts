/**
 * The LMS side of a cmi5 AU launch (cmi5 spec, "AU launch" and "LMS.LaunchData"), as pure
 * functions: the LaunchData State document, the `launched` statement and the launch URL.
 *
 * Terminology:
 * - AU: an Assignable Unit, the content the learner opens (a page on another origin).
 * - registration: one learner's enrolment in the course; a launch's statements and State carry it.
 * - session: one launch of an AU; its id is in the context template's extensions.
 * - fetch URL: a one-time URL the AU POSTs to for its xAPI credential (`{"auth-token": …}`).
 */
import type { Agent, Statement } from "../xapi/validateStatement.ts";

export const LAUNCH_DATA_STATE_ID = "LMS.LaunchData";
export const LAUNCH_MODES = ["Normal", "Browse", "Review"] as const;
export type LaunchMode = (typeof LAUNCH_MODES)[number];
export const MOVE_ON = [
  "Passed",
  "Completed",
  "CompletedAndPassed",
  "CompletedOrPassed",
  "NotApplicable",
] as const;
export type MoveOn = (typeof MOVE_ON)[number];

const CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
const EXTENSION = "https://w3id.org/xapi/cmi5/context/extensions/";
const LAUNCHED = "http://adlnet.gov/expapi/verbs/launched";

export interface LaunchSpec {
  actor: Agent;
  /** The AU's activity id: the object of its statements and the State's activityId. */
  activityId: string;
  /** The AU's publisher id, the grouping activity of every statement of the session. */
  publisherId: string;
  registration: string;
  sessionId: string;
  launchMode: LaunchMode;
  moveOn: MoveOn;
  masteryScore?: number | undefined;
  returnUrl?: string | undefined;
  launchParameters?: string | undefined;
}

/** The context every statement of the session starts from (cmi5: `contextTemplate`). */
function contextTemplate(spec: LaunchSpec) {
  return {
    contextActivities: { grouping: [{ id: spec.publisherId }] },
    extensions: { [`${EXTENSION}sessionid`]: spec.sessionId },
  };
}

/** The `LMS.LaunchData` State document of the launch. */
export function launchData(spec: LaunchSpec): Record<string, unknown> {
  return {
    contextTemplate: contextTemplate(spec),
    launchMode: spec.launchMode,
    launchMethod: "AnyWindow",
    moveOn: spec.moveOn,
    ...(spec.masteryScore !== undefined ? { masteryScore: spec.masteryScore } : {}),
    ...(spec.returnUrl !== undefined ? { returnURL: spec.returnUrl } : {}),
    ...(spec.launchParameters !== undefined ? { launchParameters: spec.launchParameters } : {}),
  };
}

/** The `launched` statement the LMS records before the AU starts. */
export function launchedStatement(spec: LaunchSpec, launchUrl: string): Statement {
  const template = contextTemplate(spec);
  return {
    actor: spec.actor,
    verb: { id: LAUNCHED, display: { "en-US": "launched" } },
    object: { objectType: "Activity", id: spec.activityId },
    context: {
      registration: spec.registration,
      contextActivities: { ...template.contextActivities, category: [{ id: CMI5_CATEGORY }] },
      extensions: {
        ...template.extensions,
        [`${EXTENSION}launchmode`]: spec.launchMode,
        [`${EXTENSION}launchurl`]: launchUrl,
        [`${EXTENSION}moveon`]: spec.moveOn,
        ...(spec.launchParameters !== undefined
          ? { [`${EXTENSION}launchparameters`]: spec.launchParameters }
          : {}),
        ...(spec.masteryScore !== undefined ? { [`${EXTENSION}masteryscore`]: spec.masteryScore } : {}),
      },
    },
  } as Statement;
}

/** The AU's URL with the five cmi5 launch parameters added (its own query is kept). */
export function launchUrl(
  auUrl: string,
  spec: Pick<LaunchSpec, "actor" | "activityId" | "registration">,
  endpoint: string,
  fetchUrl: string,
): string {
  const url = new URL(auUrl);
  url.searchParams.set("endpoint", endpoint);
  url.searchParams.set("fetch", fetchUrl);
  url.searchParams.set("actor", JSON.stringify(spec.actor));
  url.searchParams.set("registration", spec.registration);
  url.searchParams.set("activityId", spec.activityId);
  return url.toString();
}
