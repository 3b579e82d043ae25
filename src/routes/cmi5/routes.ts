/**
 * cmi5, the LMS side (cmi5 spec, "AU launch"): operators create a launch for a learner
 * (`POST /api/cmi5/launches`, admin), and the AU fetches its xAPI credential once from the fetch
 * URL in its launch URL (`POST /xapi/cmi5/fetch/:token`, public: the token is the credential).
 * The fetch URL lives under `/xapi` so CORS answers the AU's cross-origin POST; it is exempt from
 * the xAPI version header, which the AU does not send there.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { claimLaunchCredential } from "../../cmi5/launchCredential.ts";
import { createCmi5Launch } from "../../commands/createCmi5Launch.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import { XapiVersionHeader } from "../xapi/openapi.ts";
import { Cmi5LaunchRead, CreateCmi5LaunchRequest, FetchParams } from "./schema.ts";

export const CMI5_FETCH_PREFIX = "/xapi/cmi5/fetch/";

const FETCH_ERROR_TEXT = {
  "1": "this fetch URL was already used; launch the AU again from the LMS",
  "2": "this fetch URL has expired; launch the AU again from the LMS",
  "3": "this is not a fetch URL of this LMS",
} as const;

export const cmi5Routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/api/cmi5/launches",
    {
      config: { auth: "admin" },
      bodyLimit: 32 * 1024,
      schema: {
        tags: ["cmi5"],
        summary: "Launch a cmi5 AU for a learner",
        description:
          "Writes LMS.LaunchData for the learner's registration, records the cmi5 `launched` statement and answers " +
          "the launch URL (with endpoint, fetch, actor, registration and activityId). " +
          "Errors: 400 `validation_error`, 401 `unauthorized`, 404 `learner_not_found`.",
        body: CreateCmi5LaunchRequest,
        response: { 201: Cmi5LaunchRead, ...errorResponses },
      },
    },
    async (request, reply) => {
      const launch = await createCmi5Launch(app.deps.database.db, request.body, {
        publicBaseUrl: app.deps.config.publicBaseUrl,
        signingSecret: app.deps.signingSecret,
      });
      app.deps.onStatementsStored?.();
      return reply.code(201).send({ ...launch, expiresAt: launch.expiresAt.toISOString() });
    },
  );

  app.post(
    `${CMI5_FETCH_PREFIX}:token`,
    {
      config: { auth: "public" },
      schema: {
        tags: ["cmi5"],
        summary: "The AU's one-time fetch URL: its xAPI credential",
        description:
          'The first POST answers `{"auth-token": …}`, the value of `Authorization: Basic` for this launch. ' +
          'Later ones, and unknown or expired URLs, answer 400 `{"error-code", "error-text"}` (cmi5 codes 1: already ' +
          "used, 2: expired, 3: not a fetch URL), with the project's `error` and `message` beside them.",
        params: FetchParams,
        headers: Type.Object({ "X-Experience-API-Version": Type.Optional(XapiVersionHeader) }),
        response: {
          200: Type.Object({ "auth-token": Type.String() }),
          400: Type.Object({
            "error-code": Type.String(),
            "error-text": Type.String(),
            error: Type.String(),
            message: Type.String(),
          }),
          429: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const result = await claimLaunchCredential(
        app.deps.database.db,
        app.deps.signingSecret,
        request.params.token,
      );
      // The token is a credential: no cache may keep the answer.
      reply.header("cache-control", "no-store");
      if ("authToken" in result) return { "auth-token": result.authToken };
      const text = FETCH_ERROR_TEXT[result.errorCode];
      return reply.code(400).send({
        "error-code": result.errorCode,
        "error-text": text,
        error: `fetch_${result.reason}`,
        message: text,
      });
    },
  );
};
