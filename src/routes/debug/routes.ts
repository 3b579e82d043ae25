/**
 * The debug API (plan a.07b), admin only: what the pipeline last did, in JSON, each route with its
 * response schema in OpenAPI.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { lastStatement, rawStatement, recentCompletions } from "../../data/debug.ts";
import { NotFound } from "../../errors.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import { reminderPreview } from "../../reminders/plan.ts";

const DateTime = Type.String({ format: "date-time" });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const debugRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ["debug"];

  app.get(
    "/api/debug/last-statement",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "The newest stored statement, and when it was flattened",
        response: {
          200: Type.Object({
            id: Type.String({ format: "uuid" }),
            stored: DateTime,
            flattenedAt: Nullable(DateTime),
            flattenLagMs: Type.Union([Type.Number(), Type.Null()]),
            statement: Type.Unknown(),
          }),
          404: ErrorResponse,
          ...errorResponses,
        },
      },
    },
    async () => {
      const last = await lastStatement(app.deps.database.db);
      if (!last) throw new NotFound("no statement has been stored yet; a statement");
      return {
        id: last.id,
        stored: last.stored.toISOString(),
        flattenedAt: last.flattenedAt?.toISOString() ?? null,
        flattenLagMs: last.flattenedAt ? last.flattenedAt.getTime() - last.stored.getTime() : null,
        statement: last.payload,
      };
    },
  );

  app.get(
    "/api/debug/recent-completions",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "The newest completions (non-voided), with learner and lesson",
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                statementId: Type.String({ format: "uuid" }),
                timestamp: DateTime,
                actor: Type.Union([Type.String(), Type.Null()]),
                userId: Type.Union([Type.String(), Type.Null()]),
                learner: Type.Union([Type.String(), Type.Null()]),
                objectId: Type.String(),
                objectName: Type.Union([Type.String(), Type.Null()]),
                lessonTitle: Type.Union([Type.String(), Type.Null()]),
                scoreScaled: Type.Union([Type.Number(), Type.Null()]),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      items: (await recentCompletions(app.deps.database.db, request.query.limit)).map((row) => ({
        ...row,
        timestamp: row.timestamp.toISOString(),
      })),
    }),
  );

  app.get(
    "/api/debug/raw-json/:id",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "A stored statement exactly as stored",
        params: Type.Object({ id: Type.String({ format: "uuid", description: "the statement id" }) }),
        response: {
          200: Type.Object({ id: Type.String(), stored: DateTime, statement: Type.Unknown() }),
          404: ErrorResponse,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const found = await rawStatement(app.deps.database.db, request.params.id);
      if (!found) throw new NotFound(`statement ${request.params.id}`);
      return {
        id: request.params.id.toLowerCase(),
        stored: found.stored.toISOString(),
        statement: found.payload,
      };
    },
  );

  app.get(
    "/api/debug/reminder-preview",
    {
      config: { auth: "admin" },
      schema: {
        tags,
        summary: "Who would be reminded at an instant (default now), of which lesson; sends nothing",
        querystring: Type.Object(
          { at: Type.Optional(Type.String({ format: "date-time", description: "ISO 8601 instant" })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            at: DateTime,
            reminderHour: Type.Integer(),
            zones: Type.Array(
              Type.Object({ timezone: Type.String(), localDate: Type.String(), localTime: Type.String() }),
            ),
            reminders: Type.Array(
              Type.Object({
                userId: Type.String(),
                name: Type.String(),
                email: Type.String(),
                avatar: Type.String(),
                timezone: Type.String(),
                cohortId: Type.String(),
                lessonId: Type.String(),
                lessonTitle: Type.String(),
                lessonUrl: Type.Union([Type.String(), Type.Null()]),
                activityId: Type.String(),
                lessonDate: Type.String(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { config, database } = app.deps;
      return reminderPreview(
        database.db,
        { reminderHour: config.reminderHour, publicBaseUrl: config.publicBaseUrl },
        request.query.at ? new Date(request.query.at) : new Date(),
      );
    },
  );
};
