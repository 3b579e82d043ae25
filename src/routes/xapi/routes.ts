/**
 * The xAPI resources this LRS serves under `/xapi` (xAPI 1.0.3 Communication, and 2.0.0):
 * `GET /xapi/about`, and the statements resource: POST, PUT, and GET (one statement, or queries),
 * as JSON or, with attachments, as `multipart/mixed` (Communication §1.5.2).
 * Every GET answers HEAD too (Fastify's HEAD routes: the same headers, no body).
 *
 * The version header and CORS are handled for every `/xapi` path in `protocol.ts`. Bodies are validated by
 * `validateStatements` (the xAPI rules are code, not a JSON Schema), so the route schemas only
 * describe them for OpenAPI.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { AppError } from "../../errors.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import { type AttachmentContent, readMultipartStatements } from "../../xapi/attachmentParts.ts";
import { consistentThrough } from "../../xapi/consistentThrough.ts";
import type { XapiClient } from "../../xapi/credentials.ts";
import { ingestStatements } from "../../xapi/ingestStatements.ts";
import { buildMultipart } from "../../xapi/multipart.ts";
import { MAX_QUERY_LIMIT, parseStatementQuery } from "../../xapi/parseStatementQuery.ts";
import { readStatements } from "../../xapi/readStatements.ts";
import { StatementStore } from "../../xapi/storeStatements.ts";
import { SUPPORTED_VERSIONS } from "../../xapi/version.ts";
import { XapiHeaders, XapiVersionHeader } from "./openapi.ts";
import { keepBodyPrefix } from "./recordFailures.ts";

const CONSISTENT_THROUGH = "x-experience-api-consistent-through";
const UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
const StatementId = Type.String({ pattern: UUID, description: "a statement id (UUID)" });
const AnyStatement = Type.Unknown({ description: "an xAPI statement, or (POST) an array of them" });
const xapiErrors = { ...errorResponses, 409: ErrorResponse, 413: ErrorResponse };

/**
 * The statements and attachment parts of a POST or PUT: a JSON body as parsed, or a
 * `multipart/mixed` one (kept as bytes by its content-type parser) read into its parts.
 */
function statementBody(request: FastifyRequest) {
  const contentType = request.headers["content-type"] ?? "";
  return Buffer.isBuffer(request.body) && /^multipart\/mixed\b/i.test(contentType)
    ? readMultipartStatements(request.body, contentType)
    : { statements: request.body, parts: [] };
}

/** Sends `body` as JSON, or with its attachments as `multipart/mixed` (Communication §2.1.3). */
function sendWithAttachments(
  reply: FastifyReply,
  body: unknown,
  attachments: AttachmentContent[] | undefined,
) {
  if (!attachments) return reply.send(body);
  const { contentType, body: multipart } = buildMultipart([
    { headers: { "Content-Type": "application/json" }, body: Buffer.from(JSON.stringify(body)) },
    ...attachments.map((attachment) => ({
      headers: {
        "Content-Type": attachment.contentType,
        "Content-Transfer-Encoding": "binary",
        "X-Experience-API-Hash": attachment.sha2,
      },
      body: attachment.contents,
    })),
  ]);
  return reply.type(contentType).send(multipart);
}

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

  // Statement requests with attachments (Communication §1.5.2): multipart/mixed, kept as bytes
  // within BODY_LIMIT and read by the handler. Other multipart types are refused, naming both
  // types the resource takes.
  app.addContentTypeParser(/^multipart\//i, { parseAs: "buffer" }, (request, body, done) => {
    if (/^multipart\/mixed\b/i.test(request.headers["content-type"] ?? "")) return done(null, body);
    keepBodyPrefix(request, body);
    done(
      new AppError(
        400,
        "unsupported_content_type",
        `statements are sent as application/json or multipart/mixed, not ${request.headers["content-type"]?.split(";")[0]}`,
        [{ field: "Content-Type", message: "must be application/json or multipart/mixed" }],
      ),
    );
  });

  const store = new StatementStore(app.deps.database.db);
  const ingestDeps = () => ({
    store,
    db: app.deps.database.db,
    log: app.log as never,
    publicBaseUrl: config.publicBaseUrl,
    etlMode: config.etlMode,
    redis: app.deps.redis,
    onStored: app.deps.onStatementsStored,
  });

  app.post(
    "/xapi/statements",
    {
      // validateStatements refuses unstorable text, naming the statement field.
      config: { auth: "xapi", bodyTextCheckedByHandler: true },
      preHandler: requireScope("statements/write"),
      schema: {
        tags: ["xAPI"],
        summary: "Store one statement or an array of statements",
        description:
          "Answers 200 with the ids, in order, once every statement is committed. One invalid statement rejects " +
          "the whole request (400 `invalid_statement`, naming `statement[i].path`); a stored id with different " +
          "content rejects it with 409 `statement_conflict`. Requires `X-Experience-API-Version`. Attachments " +
          "come as `multipart/mixed` (statements first, then one part per attachment with " +
          "`X-Experience-API-Hash`); signatures are verified (400 `invalid_signature`).",
        headers: XapiHeaders,
        body: AnyStatement,
        response: { 200: Type.Array(Type.String({ format: "uuid" })), ...xapiErrors },
      },
    },
    async (request) => {
      const { statements, parts } = statementBody(request);
      return ingestStatements(ingestDeps(), {
        body: statements,
        parts,
        client: request.xapiClient!,
        version: request.xapiVersion!,
      });
    },
  );

  app.put(
    "/xapi/statements",
    {
      // validateStatements refuses unstorable text, naming the statement field.
      config: { auth: "xapi", bodyTextCheckedByHandler: true },
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
      const { statements, parts } = statementBody(request);
      await ingestStatements(ingestDeps(), {
        body: statements,
        parts,
        client: request.xapiClient!,
        version: request.xapiVersion!,
        statementId: request.query.statementId.toLowerCase(),
      });
      return reply.code(204).send(null);
    },
  );

  const param = (description: string) => Type.Optional(Type.String({ description }));
  app.get(
    "/xapi/statements",
    {
      config: { auth: "xapi" },
      preHandler: requireScope("statements/read"),
      // Every statement GET answers Consistent-Through, refusals too (Communication §2.1.3: the
      // header is returned "regardless of the code"); a successful read sets its own.
      onSend: async (_request, reply, payload) => {
        if (!reply.hasHeader(CONSISTENT_THROUGH)) {
          const bound = await consistentThrough(app.deps.database.db, new Date()).catch(() => undefined);
          if (bound) reply.header(CONSISTENT_THROUGH, bound.toISOString());
        }
        return payload;
      },
      schema: {
        tags: ["xAPI"],
        summary: "Get one statement, or query statements (a StatementResult, paged by `more`)",
        description:
          "With statementId or voidedStatementId: that statement (404 when it is not stored, or is voided / " +
          "not voided). Otherwise a StatementResult `{statements, more}` of the statements matching every " +
          `filter, newest stored first, at most ${MAX_QUERY_LIMIT} a page; \`more\` is the relative link to the ` +
          'next page of the same result (valid 24 hours), `""` on the last. An unknown or repeated parameter, a ' +
          "malformed value, or statementId with a filter answers 400 naming the parameter. HEAD answers the same " +
          "headers without a body.",
        headers: XapiHeaders,
        querystring: Type.Object({
          statementId: param("a statement id (UUID)"),
          voidedStatementId: param("the id of a voided statement (UUID)"),
          agent: param(
            "JSON of an Agent or identified Group: the actor or object (or any agent, with related_agents)",
          ),
          verb: param("a verb id (IRI)"),
          activity: param("an activity id (IRI): the object (or any activity, with related_activities)"),
          registration: param("a registration (UUID)"),
          related_activities: param("true: activity matches context activities and SubStatements too"),
          related_agents: param(
            "true: agent matches authority, instructor, team, context agents/groups, SubStatements",
          ),
          since: param("only statements stored after this time (ISO 8601)"),
          until: param("only statements stored at or before this time (ISO 8601)"),
          limit: param(`statements per page; 0 or more than ${MAX_QUERY_LIMIT} means ${MAX_QUERY_LIMIT}`),
          format: param("ids, exact (default) or canonical (one language per map, from Accept-Language)"),
          attachments: param(
            "true: answer multipart/mixed, the JSON first, then one part per attachment content held",
          ),
          ascending: param("true: oldest stored first"),
          more: param("the more link of a previous page"),
        }),
        response: { 200: Type.Unknown(), 404: ErrorResponse, ...xapiErrors },
      },
    },
    async (request, reply) => {
      const statementRequest = parseStatementQuery(
        new URLSearchParams(request.url.split("?")[1] ?? ""),
        request.xapiVersion!,
      );
      const answer = await readStatements(
        { db: app.deps.database.db, signingSecret: app.deps.signingSecret },
        statementRequest,
        { acceptLanguage: request.headers["accept-language"] },
      );
      reply.header(CONSISTENT_THROUGH, answer.consistentThrough.toISOString());
      reply.header("last-modified", answer.lastModified.toUTCString());
      return sendWithAttachments(reply, answer.body, answer.attachments);
    },
  );
};
