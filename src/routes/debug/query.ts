/**
 * The DB terminal's API (plan a.07b, DESIGN §9): list the prebuilt queries, run one by name.
 * Admin only. There is no endpoint that takes SQL.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { executeSafeQuery } from "../../dbTerminal/executeSafeQuery.ts";
import { getQueryDescriptors } from "../../dbTerminal/vettedQueries.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";

const ParamDescriptorRead = Type.Object({
  name: Type.String(),
  type: Type.Union([
    Type.Literal("string"),
    Type.Literal("integer"),
    Type.Literal("date"),
    Type.Literal("uuid"),
    Type.Literal("enum"),
    Type.Literal("email"),
  ]),
  required: Type.Boolean(),
  default: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
  maxLength: Type.Optional(Type.Integer()),
  values: Type.Optional(Type.Array(Type.String(), { description: "the accepted values of an enum" })),
  description: Type.String(),
});

const QueryDescriptorRead = Type.Object({
  name: Type.String({ description: "what to send as `name`" }),
  title: Type.String(),
  description: Type.String(),
  params: Type.Array(ParamDescriptorRead),
  requireOneOf: Type.Optional(
    Type.Array(Type.String(), { description: "exactly one of these parameters must be given" }),
  ),
});

export const RunQueryRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: "a prebuilt query's name" }),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        maxProperties: 20,
        description: "the query's parameters by name, as JSON values (integers as numbers)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const QueryResultRead = Type.Object({
  columns: Type.Array(Type.String()),
  rows: Type.Array(Type.Array(Type.Unknown()), { description: "one array per row, in `columns` order" }),
  truncated: Type.Boolean({ description: "true when there were more rows than the cap (1,000)" }),
  ms: Type.Number({ description: "how long the query took, in milliseconds" }),
});

export const debugQueryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/api/debug/queries",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["debug"],
        summary: "List the DB terminal's prebuilt queries",
        description: "Each query's name, what it shows and the parameters it takes.",
        response: { 200: Type.Object({ items: Type.Array(QueryDescriptorRead) }), ...errorResponses },
      },
    },
    async () => ({ items: getQueryDescriptors() }),
  );

  app.post(
    "/api/debug/query",
    {
      config: { auth: "admin" },
      bodyLimit: 16 * 1024, // a query name and a few parameter values
      schema: {
        tags: ["debug"],
        summary: "Run a prebuilt query",
        description:
          "Runs a named, parameterised query from `GET /api/debug/queries` in a read-only transaction " +
          "(statement timeout 5 s, at most 1,000 rows). There is no way to send SQL. Errors: 400 " +
          "`unknown_query`, 400 `validation_error` (details name `params.<name>`), 401 `unauthorized`, " +
          "422 `query_timeout`.",
        body: RunQueryRequest,
        response: { 200: QueryResultRead, 422: ErrorResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { name, params } = request.body;
      const result = await executeSafeQuery(app.deps.database.db, name, params ?? {}, {
        publicBaseUrl: app.deps.config.publicBaseUrl,
      });
      // Parameter values may be personal data (emails), so only the name is logged.
      request.log.info(
        { query: name, rows: result.rows.length, truncated: result.truncated, ms: result.ms },
        "debug query",
      );
      return result;
    },
  );
};
