/**
 * Running a task now from outside the process that holds the database: `run-task` against a
 * running embedded server, and the admin area. Admin only.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { AppError } from "../../errors.ts";
import { errorResponses } from "../../http/schemas.ts";
import { TASK_NAMES, type TaskName } from "../../jobs/definitions.ts";

/** One of the tasks of the job map (`TASK_NAMES`). */
export const TaskNameParam = Type.Unsafe<TaskName>(Type.Union(TASK_NAMES.map((name) => Type.Literal(name))));

export const taskRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/api/tasks/:name/run",
    {
      config: { auth: "admin" },
      bodyLimit: 4 * 1024, // an instant and a flag
      schema: {
        tags: ["tasks"],
        summary: "Run a scheduled task now",
        description:
          "daily-reminders plans the reminders of `at` (default now) and sends them (or, with `dryRun`, only " +
          "lists who would be reminded); incremental-etl runs one sweep. Answers with what it did.",
        params: Type.Object({ name: TaskNameParam }),
        body: Type.Optional(
          Type.Object(
            {
              at: Type.Optional(
                Type.String({ format: "date-time", description: "the instant to plan (ISO 8601)" }),
              ),
              dryRun: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: Type.Object({
            task: Type.String(),
            ok: Type.Boolean(),
            lines: Type.Array(Type.String()),
            detail: Type.Unknown(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const run = app.deps.runTask;
      if (!run) throw new AppError(503, "tasks_unavailable", "this process does not run tasks");
      const body = request.body ?? {};
      return run(request.params.name, {
        ...(body.at ? { at: new Date(body.at) } : {}),
        ...(body.dryRun ? { dryRun: true } : {}),
      });
    },
  );
};
