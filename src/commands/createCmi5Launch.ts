/**
 * Launches a cmi5 AU for a learner (cmi5 spec, "AU launch"): creates the launch's credential,
 * writes `LMS.LaunchData` (State: the AU's activity id, the learner's account actor, the
 * registration), records the `launched` statement, and returns the URL the learner opens.
 * One use case for the admin API (`POST /api/cmi5/launches`) and the `cmi5-launch` command.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import {
  LAUNCH_DATA_STATE_ID,
  type LaunchMode,
  type LaunchSpec,
  launchData,
  launchedStatement,
  launchUrl,
  type MoveOn,
} from "../cmi5/launch.ts";
import { createLaunchCredential } from "../cmi5/launchCredential.ts";
import type { Db } from "../db/client.ts";
import { users } from "../db/schema.ts";
import { AppError } from "../errors.ts";
import { agentKey } from "../xapi/documents/agentKey.ts";
import { writeDocument } from "../xapi/documents/repository.ts";
import { prepareStatement } from "../xapi/prepareStatement.ts";
import { storeStatements } from "../xapi/storeStatements.ts";
import type { Agent } from "../xapi/validateStatement.ts";

export interface Cmi5LaunchInput {
  /** The learner's avatar (their xAPI account name). */
  learner: string;
  /** The AU's activity id. */
  activityId: string;
  /** Where the AU is served; the launch parameters are added to it. */
  auUrl: string;
  /** The AU's publisher id (course structure); default `activityId`. */
  publisherId?: string | undefined;
  /** An existing registration to launch in again (a new session); default a new one. */
  registration?: string | undefined;
  /** Default `Normal`. */
  launchMode?: LaunchMode | undefined;
  /** Default `CompletedOrPassed`. */
  moveOn?: MoveOn | undefined;
  masteryScore?: number | undefined;
  returnUrl?: string | undefined;
  launchParameters?: string | undefined;
}

export interface Cmi5LaunchContext {
  publicBaseUrl: string;
  signingSecret: string;
  now?: Date;
}

export interface Cmi5Launch {
  url: string;
  registration: string;
  sessionId: string;
  actor: Agent;
  activityId: string;
  /** The id of the `launched` statement. */
  launchedStatementId: string;
  /** When the launch's credential stops working. */
  expiresAt: Date;
}

export class LearnerNotFound extends AppError {
  constructor(avatar: string) {
    super(404, "learner_not_found", `no learner has the avatar "${avatar}"`, [
      { field: "learner", message: "is not a registered learner's avatar" },
    ]);
  }
}

export async function createCmi5Launch(
  db: Db,
  input: Cmi5LaunchInput,
  context: Cmi5LaunchContext,
): Promise<Cmi5Launch> {
  const { publicBaseUrl, signingSecret } = context;
  const now = context.now ?? new Date();
  const [user] = await db
    .select({ name: users.name, avatar: users.avatar })
    .from(users)
    .where(eq(users.avatar, input.learner));
  if (!user) throw new LearnerNotFound(input.learner);

  const actor: Agent = {
    objectType: "Agent",
    name: user.name,
    account: { homePage: publicBaseUrl, name: user.avatar },
  };
  const spec: LaunchSpec = {
    actor,
    activityId: input.activityId,
    publisherId: input.publisherId ?? input.activityId,
    registration: (input.registration ?? randomUUID()).toLowerCase(),
    sessionId: randomUUID(),
    launchMode: input.launchMode ?? "Normal",
    moveOn: input.moveOn ?? "CompletedOrPassed",
    masteryScore: input.masteryScore,
    returnUrl: input.returnUrl,
    launchParameters: input.launchParameters,
  };

  const credential = await createLaunchCredential(
    db,
    signingSecret,
    `cmi5 launch: ${user.avatar}`,
    actor,
    now,
  );
  const url = launchUrl(
    input.auUrl,
    spec,
    `${publicBaseUrl}/xapi/`,
    `${publicBaseUrl}/xapi/cmi5/fetch/${encodeURIComponent(credential.fetchToken)}`,
  );
  await writeDocument(
    db,
    {
      kind: "state",
      activityId: spec.activityId,
      agent: agentKey(actor),
      registration: spec.registration,
      documentId: LAUNCH_DATA_STATE_ID,
    },
    {
      method: "PUT",
      document: { contentType: "application/json", contents: Buffer.from(JSON.stringify(launchData(spec))) },
      preconditions: {},
      concurrencyHeader: "optional",
    },
  );
  // The LMS asserts `launched`: its authority is the launch credential, named cohort-lrs.
  const client = { credentialId: credential.id, key: credential.key, name: "cohort-lrs", scopes: [] };
  // The recorded launch URL leaves out `fetch`: statement readers must not see an unused token.
  const recordedUrl = new URL(url);
  recordedUrl.searchParams.delete("fetch");
  const launched = prepareStatement(launchedStatement(spec, recordedUrl.toString()), {
    client,
    version: "2.0.0",
    stored: now,
    publicBaseUrl,
  });
  await storeStatements(db, [launched], credential.id);
  return {
    url,
    registration: spec.registration,
    sessionId: spec.sessionId,
    actor,
    activityId: spec.activityId,
    launchedStatementId: launched.id,
    expiresAt: credential.expiresAt,
  };
}
