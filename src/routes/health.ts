import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { withTimeout } from "../db/client.ts";

const CheckResult = Type.Union([Type.Literal("ok"), Type.String({ description: "why it failed" })]);

/** Liveness (`/health`) and readiness (`/health/ready`: the database and Redis answer). */
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
        summary: "Readiness: the database (and Redis, when configured) answer",
        response: {
          200: Type.Object({ status: Type.Literal("ok"), checks: Type.Record(Type.String(), CheckResult) }),
          503: Type.Object({
            status: Type.Literal("unavailable"),
            checks: Type.Record(Type.String(), CheckResult),
          }),
        },
      },
    },
    async (_request, reply) => {
      const { database, redis } = app.deps;
      const probes: Record<string, Promise<unknown>> = { database: database.ping(2_000) };
      if (redis) probes.redis = withTimeout(redis.ping(), 2_000, "redis");
      const names = Object.keys(probes);
      const results = await Promise.allSettled(Object.values(probes));
      const checks: Record<string, string> = {};
      results.forEach((result, i) => {
        checks[names[i]!] =
          result.status === "fulfilled"
            ? "ok"
            : `unreachable: ${(result.reason as Error).message ?? result.reason}`;
      });
      const ok = Object.values(checks).every((check) => check === "ok");
      return reply.code(ok ? 200 : 503).send({ status: ok ? "ok" : "unavailable", checks } as never);
    },
  );
};
