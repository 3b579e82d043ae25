/**
 * The xAPI resources this LRS serves under `/xapi` (xAPI 1.0.3 Communication, and 2.0.0):
 * `GET /xapi/about`, and the statements resource: POST, PUT, and GET of one statement.
 *
 * The version header and CORS are handled for every `/xapi` path in `protocol.ts`. Bodies are validated by
 * `validateStatements` (the xAPI rules are code, not a JSON Schema), so the route schemas only
 * describe them for OpenAPI.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { AppError, NotFound } from "../../errors.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import type { XapiClient } from "../../xapi/credentials.ts";
import { getStatement } from "../../xapi/getStatement.ts";
import { ingestStatements } from "../../xapi/ingestStatements.ts";
import { StatementStore } from "../../xapi/storeStatements.ts";
import { SUPPORTED_VERSIONS } from "../../xapi/version.ts";
import { XapiHeaders, XapiVersionHeader } from "./openapi.ts";

const UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
const StatementId = Type.String({ pattern: UUID, description: "a statement id (UUID)" });
const AnyStatement = Type.Unknown({ description: "an xAPI statement, or (POST) an array of them" });
const xapiErrors = { ...errorResponses, 409: ErrorResponse, 413: ErrorResponse };

export const xapiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.deps;

  /** xAPI scopes: `all`, or `statements/write` to store and `statements/read` to read. */
  const requireScope =
    (scope: "statements/write" | "statements/read") => async (request: { xapiClient?: XapiClient }) => {
      const scopes = request.xapiClient?.scopes ?? [];
      if (!scopes.includes("all") && !scopes.includes(scope)) {
        throw new AppError(
          403,
          "insufficient_scope",
          `this credential may not do that: it needs the scope ${scope} (or all)`,
        );
      }
    };

  app.get(
    "/xapi/about",
    {
      config: { auth: "public" },
      schema: {
        tags: ["xAPI"],
        summary: "The xAPI versions this LRS speaks",
        headers: Type.Object({ "X-Experience-API-Version": Type.Optional(XapiVersionHeader) }),
        response: { 200: Type.Object({ version: Type.Array(Type.String()), extensions: Type.Object({}) }) },
      },
    },
    async () => ({ version: [...SUPPORTED_VERSIONS], extensions: {} }),
  );

  const store = new StatementStore(app.deps.database.db);
  const ingestDeps = () => ({
    store,
    log: app.log as never,
    publicBaseUrl: config.publicBaseUrl,
    etlMode: config.etlMode,
    redis: app.deps.redis,
    onStored: app.deps.onStatementsStored,
  });

  app.post(
    "/xapi/statements",
    {
      config: { auth: "xapi" },
      preHandler: requireScope("statements/write"),
      schema: {
        tags: ["xAPI"],
        summary: "Store one statement or an array of statements",
        description:
          "Answers 200 with the ids, in order, once every statement is committed. One invalid statement rejects " +
          "the whole request (400 `invalid_statement`, naming `statement[i].path`); a stored id with different " +
          "content rejects it with 409 `statement_conflict`. Requires `X-Experience-API-Version`.",
        headers: XapiHeaders,
        body: AnyStatement,
        response: { 200: Type.Array(Type.String({ format: "uuid" })), ...xapiErrors },
      },
    },
    async (request) =>
      ingestStatements(ingestDeps(), {
        body: request.body,
        client: request.xapiClient!,
        version: request.xapiVersion!,
      }),
  );

  app.put(
    "/xapi/statements",
    {
      config: { auth: "xapi" },
      preHandler: requireScope("statements/write"),
      schema: {
        tags: ["xAPI"],
        summary: "Store one statement under the given id",
        description:
          "204 when stored (or already stored identically); 409 when a different statement has this id.",
        querystring: Type.Object({ statementId: StatementId }),
        headers: XapiHeaders,
        body: AnyStatement,
        response: { 204: Type.Null(), ...xapiErrors },
      },
    },
    async (request, reply) => {
      await ingestStatements(ingestDeps(), {
        body: request.body,
        client: request.xapiClient!,
        version: request.xapiVersion!,
        statementId: request.query.statementId.toLowerCase(),
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/xapi/statements",
    {
      config: { auth: "xapi" },
      preHandler: requireScope("statements/read"),
      schema: {
        tags: ["xAPI"],
        summary: "Get one statement by statementId or voidedStatementId",
        description:
          "Statement queries (filters, paging) are not served yet: a request without statementId or " +
          "voidedStatementId answers 501.",
        headers: XapiHeaders,
        querystring: Type.Object({
          statementId: Type.Optional(StatementId),
          voidedStatementId: Type.Optional(StatementId),
          attachments: Type.Optional(Type.Boolean()),
          format: Type.Optional(
            Type.Union([Type.Literal("ids"), Type.Literal("exact"), Type.Literal("canonical")]),
          ),
        }),
        response: { 200: Type.Unknown(), 404: ErrorResponse, 501: ErrorResponse, ...xapiErrors },
      },
    },
    async (request, reply) => {
      const { statementId, voidedStatementId } = request.query;
      if (statementId && voidedStatementId) {
        throw new AppError(400, "invalid_query", "give statementId or voidedStatementId, not both");
      }
      const id = statementId ?? voidedStatementId;
      if (!id) {
        throw new AppError(
          501,
          "not_implemented",
          "statement queries are not supported yet; get a single statement with ?statementId=",
        );
      }
      // Statements are readable as soon as they are acknowledged (the write is synchronous).
      reply.header("x-experience-api-consistent-through", new Date().toISOString());
      const found = await getStatement(app.deps.database.db, id, voidedStatementId !== undefined);
      if (!found) throw new NotFound(`statement ${id}`);
      reply.header("last-modified", found.stored.toUTCString());
      return found.statement;
    },
  );
};
