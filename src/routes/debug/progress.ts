/**
 * The build's progress, from the running service (plan a.07c): the contracts checked against this
 * app's routes and the files on disk, who is working on what, and the latest test run.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { checkProgress, readContracts } from "../../contracts/contracts.ts";
import { readTestReport } from "../../contracts/testReport.ts";
import { NotFound } from "../../errors.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";

const Status = Type.Union([Type.Literal("planned"), Type.Literal("in_progress"), Type.Literal("done")]);

export const ModuleProgress = Type.Object({
  module: Type.String(),
  title: Type.Optional(Type.String()),
  agent: Type.String(),
  status: Status,
  notes: Type.Optional(Type.String()),
  endpoints: Type.Array(Type.Object({ endpoint: Type.String(), registered: Type.Boolean() })),
  files: Type.Array(
    Type.Object({
      file: Type.String(),
      exists: Type.Union([Type.Boolean(), Type.Null()], { description: "null: not part of this build" }),
    }),
  ),
  flagged: Type.Boolean({ description: "done, but an endpoint is not registered or a file is missing" }),
  problems: Type.Array(Type.String()),
});

/** The progress of every module against this app's route table. */
export function progressOf(routeTable: { method: string; url: string }[]) {
  const { contracts, problems } = readContracts();
  const registered = new Set(routeTable.map((route) => `${route.method} ${route.url}`));
  const modules = checkProgress(contracts, registered);
  return {
    modules,
    invalid: problems,
    summary: {
      planned: modules.filter((m) => m.status === "planned").length,
      inProgress: modules.filter((m) => m.status === "in_progress").length,
      done: modules.filter((m) => m.status === "done").length,
      flagged: modules.filter((m) => m.flagged).length,
    },
  };
}

export const progressRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ["debug"];

  app.get(
    "/api/debug/progress",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "Every plan module's status, checked live against this app",
        response: {
          200: Type.Object({
            modules: Type.Array(ModuleProgress),
            invalid: Type.Array(Type.Object({ file: Type.String(), problem: Type.String() })),
            summary: Type.Object({
              planned: Type.Integer(),
              inProgress: Type.Integer(),
              done: Type.Integer(),
              flagged: Type.Integer(),
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async () => progressOf(app.routeTable),
  );

  app.get(
    "/api/debug/active-agents",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "Modules in progress, grouped by agent",
        response: {
          200: Type.Object({
            agents: Type.Array(
              Type.Object({
                agent: Type.String(),
                modules: Type.Array(
                  Type.Object({
                    module: Type.String(),
                    title: Type.Optional(Type.String()),
                    notes: Type.Optional(Type.String()),
                  }),
                ),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const { contracts } = readContracts();
      const byAgent = new Map<string, { module: string; title?: string; notes?: string }[]>();
      for (const { contract } of contracts.filter(({ contract }) => contract.status === "in_progress")) {
        byAgent.set(contract.agent, [
          ...(byAgent.get(contract.agent) ?? []),
          {
            module: contract.module,
            ...(contract.title ? { title: contract.title } : {}),
            ...(contract.notes ? { notes: contract.notes } : {}),
          },
        ]);
      }
      return { agents: [...byAgent].map(([agent, modules]) => ({ agent, modules })) };
    },
  );

  app.get(
    "/api/debug/test-report",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "The latest test run: totals, failures by file, duration, when",
        response: {
          200: Type.Object({
            when: Type.String({ format: "date-time" }),
            success: Type.Boolean(),
            durationMs: Type.Number(),
            totals: Type.Object({
              tests: Type.Integer(),
              passed: Type.Integer(),
              failed: Type.Integer(),
              skipped: Type.Integer(),
              files: Type.Integer(),
            }),
            failuresByFile: Type.Array(
              Type.Object({
                file: Type.String(),
                failed: Type.Integer(),
                tests: Type.Array(Type.String()),
                message: Type.Optional(Type.String()),
              }),
            ),
          }),
          404: ErrorResponse,
          ...errorResponses,
        },
      },
    },
    async () => {
      const report = readTestReport(app.deps.testReportFile);
      if (!report)
        throw new NotFound(
          "no test report: run `npm test` (it writes reports/test-report.json); a test report",
        );
      return report;
    },
  );
};
