/**
 * The build's progress, from the running service (plan a.07c): each plan module in plain words,
 * checked against this app's routes, the files on disk, the database's tables, the latest test
 * run and the latest recorded conformance run (contracts/evidence.ts); who is working on what.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { readContracts } from "../../contracts/contracts.ts";
import { progressOf } from "../../contracts/progress.ts";
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
  name: Type.String({ description: "the module in plain words" }),
  description: Type.String(),
  state: Type.Union(
    [Type.Literal("working"), Type.Literal("needs_attention"), Type.Literal("not_verified")],
    {
      description:
        "from the evidence: needs_attention when a check fails; working when none fails and its tests (and, for " +
        "the LRS, a recorded conformance run) passed; not_verified otherwise",
    },
  ),
  checks: Type.Array(
    Type.Object({
      kind: Type.Union([
        Type.Literal("routes"),
        Type.Literal("files"),
        Type.Literal("tables"),
        Type.Literal("tests"),
        Type.Literal("conformance"),
      ]),
      status: Type.Union([Type.Literal("pass"), Type.Literal("fail"), Type.Literal("unknown")]),
      summary: Type.String(),
    }),
  ),
  tables: Type.Array(Type.Object({ table: Type.String(), exists: Type.Boolean() })),
  testFiles: Type.Array(
    Type.Object({
      file: Type.String(),
      result: Type.Union([Type.Literal("passed"), Type.Literal("failed"), Type.Literal("not run")]),
    }),
  ),
});

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
              working: Type.Integer({ description: "modules whose evidence says they work" }),
              needsAttention: Type.Integer({ description: "modules with a failing check" }),
              notVerified: Type.Integer({ description: "modules without test evidence yet" }),
            }),
            testRun: Type.Union([
              Type.Object({ when: Type.String({ format: "date-time" }), success: Type.Boolean() }),
              Type.Null(),
            ]),
            conformance: Type.Union(
              [
                Type.Object({
                  when: Type.String({ format: "date-time" }),
                  suite: Type.Optional(Type.String()),
                  commit: Type.Optional(Type.String()),
                  runs: Type.Array(
                    Type.Object({
                      xapiVersion: Type.String(),
                      database: Type.String(),
                      passed: Type.Integer(),
                      failed: Type.Integer(),
                      notes: Type.Optional(Type.String()),
                    }),
                  ),
                }),
                Type.Null(),
              ],
              { description: "the latest run recorded in reports/conformance.json, if any" },
            ),
            conformanceProblem: Type.Union([Type.String(), Type.Null()], {
              description: "why reports/conformance.json cannot be read, if it cannot",
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async () =>
      progressOf(app.routeTable, app.deps.database.db, {
        testReportFile: app.deps.testReportFile,
        conformanceFile: app.deps.conformanceFile,
      }),
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
