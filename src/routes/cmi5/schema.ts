import { type Static, Type } from "typebox";
import { LAUNCH_MODES, MOVE_ON } from "../../cmi5/launch.ts";
import { AVATAR_PATTERN } from "../../db/schema.ts";
import { Iri } from "../lessons/schema.ts";

const HttpUrl = Type.String({ maxLength: 2048, pattern: "^https?://[^\\s]+$" });
const Uuid = Type.String({
  pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
});

export const CreateCmi5LaunchRequest = Type.Object(
  {
    learner: Type.String({ pattern: AVATAR_PATTERN, description: "the learner's avatar" }),
    activityId: { ...Iri, description: "the AU's activity id" },
    auUrl: { ...HttpUrl, description: "where the AU is served; the launch parameters are added to it" },
    publisherId: Type.Optional({ ...Iri, description: "the AU's publisher id; default activityId" }),
    registration: Type.Optional({
      ...Uuid,
      description: "an earlier launch's registration, to launch again in it; default a new one",
    }),
    launchMode: Type.Optional(Type.Union(LAUNCH_MODES.map((mode) => Type.Literal(mode)))),
    moveOn: Type.Optional(Type.Union(MOVE_ON.map((criterion) => Type.Literal(criterion)))),
    masteryScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    returnUrl: Type.Optional({ ...HttpUrl, description: "where the AU sends the learner when it exits" }),
    launchParameters: Type.Optional(Type.String({ maxLength: 8192 })),
  },
  { additionalProperties: false },
);
export type CreateCmi5LaunchRequest = Static<typeof CreateCmi5LaunchRequest>;

export const Cmi5LaunchRead = Type.Object({
  url: Type.String({ description: "the URL the learner opens (the AU with its launch parameters)" }),
  registration: Type.String({ format: "uuid" }),
  sessionId: Type.String({ format: "uuid" }),
  actor: Type.Unknown({ description: "the learner's xAPI Agent (their account under PUBLIC_BASE_URL)" }),
  activityId: Type.String(),
  launchedStatementId: Type.String({ format: "uuid" }),
  expiresAt: Type.String({ format: "date-time", description: "when the launch's credential stops working" }),
});

export const FetchParams = Type.Object({ token: Type.String({ maxLength: 512 }) });
