import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { signUp } from "../../commands/signUp.ts";
import { errorResponses } from "../../http/schemas.ts";
import { presentUser } from "../../presenters/user.ts";
import { SignupRequest, UserRead } from "./schema.ts";

/** Learner signup (plan a.03: `post_signup`). Public, rate-limited per client IP. */
export const signupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { max, windowMs } = app.deps.config.signupRateLimit;
  app.post(
    "/api/signup",
    {
      config: { auth: "public", rateLimit: { max, timeWindow: windowMs } },
      // A valid signup is under 1 KiB; 8 KiB holds any valid one even with every character \u-escaped.
      bodyLimit: 8 * 1024,
      schema: {
        tags: ["learners"],
        summary: "Sign a learner up for a cohort",
        description:
          "Errors: 400 `validation_error` (details name each field, the first 20), 400 `avatar_taken`, " +
          "400 `email_taken`, 413 `payload_too_large` (over 8 KiB), 429 `rate_limited`.",
        body: SignupRequest,
        response: { 201: UserRead, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(presentUser(await signUp(app.deps.database.db, request.body, app.deps.config.publicBaseUrl))),
  );
};
