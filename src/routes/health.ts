import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { checkReadiness } from "../health/readiness.ts";

const CheckResult = Type.Union([Type.Literal("ok"), Type.String({ description: "why it failed" })]);

/** Liveness (`/health`) and readiness (`/health/ready`: what this role needs answers; see health/readiness.ts). */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/health",
    {
      config: { auth: "public" },
      schema: {
        tags: ["health"],
        summary: "Liveness: the process is up",
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/health/ready",
    {
      config: { auth: "public" },
      schema: {
        tags: ["health"],
        summary: "Readiness: whether this process can do its work (200 ready, 503 not)",
        description:
          "The database must answer. Redis, when configured, must answer for a process that runs the " +
          "stream worker or the scheduler (role `all`); the `api` role stays ready without it and " +
          "answers 200 with status `degraded` and the failed check.",
        response: {
          200: Type.Object({
            status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")]),
            checks: Type.Record(Type.String(), CheckResult),
          }),
          503: Type.Object({
            status: Type.Literal("unavailable"),
            checks: Type.Record(Type.String(), CheckResult),
          }),
        },
      },
    },
    async (_request, reply) => {
      const { database, redis, redisRequired } = app.deps;
      const readiness = await checkReadiness({ database, redis, redisRequired: redisRequired ?? false });
      return reply.code(readiness.status === "unavailable" ? 503 : 200).send(readiness as never);
    },
  );
};
