import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { createLesson } from "../../commands/createLesson.ts";
import { listLessons } from "../../data/listLessons.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import { presentLesson } from "../../presenters/lesson.ts";
import { CreateLessonRequest, LessonPage, LessonRead, ListLessonsQuery } from "./schema.ts";

/** Lessons, for operators (admin). Reports and reminders are built on them. */
export const lessonRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/api/lessons",
    {
      config: { auth: "admin" },
      // Two IRIs of up to 2,048 characters and a title: 32 KiB holds any valid lesson.
      bodyLimit: 32 * 1024,
      schema: {
        tags: ["lessons"],
        summary: "Add a lesson to a cohort",
        description:
          "Errors: 400 `validation_error`, 401 `unauthorized`, 409 `lesson_exists` (same cohort and activity).",
        body: CreateLessonRequest,
        response: { 201: LessonRead, 409: ErrorResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(presentLesson(await createLesson(app.deps.database.db, request.body))),
  );

  app.get(
    "/api/lessons",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["lessons"],
        summary: "List lessons, by due date",
        querystring: ListLessonsQuery,
        response: { 200: LessonPage, ...errorResponses },
      },
    },
    async (request) => {
      const page = await listLessons(app.deps.database.db, request.query);
      return { ...page, items: page.items.map(presentLesson) };
    },
  );
};
