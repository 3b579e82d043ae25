/**
 * The xAPI document resources (Communication §2.2–2.7): State `/xapi/activities/state`, Activity
 * Profile `/xapi/activities/profile` and Agent Profile `/xapi/agents/profile`. Each route checks
 * its parameters (`xapi/documents/address.ts`), calls one function of the document repository and
 * presents the result. Bodies are taken as bytes of any content type, so text suspend data and
 * binary documents round-trip byte for byte.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import { checkDocumentScope } from "../../xapi/agentScope.ts";
import {
  DOCUMENT_ID_PARAMETER,
  type DocumentKind,
  type IdUse,
  type ParsedRequest,
  parseDocumentQuery,
} from "../../xapi/documents/address.ts";
import type { DocumentContents } from "../../xapi/documents/contents.ts";
import { DocumentNotFound } from "../../xapi/documents/errors.ts";
import {
  type ConcurrencyHeaderRule,
  type Preconditions,
  parseEntityTags,
} from "../../xapi/documents/preconditions.ts";
import {
  deleteDocument,
  deleteDocuments,
  getDocument,
  listDocumentIds,
  type StoredDocument,
  writeDocument,
} from "../../xapi/documents/repository.ts";
import { XapiHeaders } from "./openapi.ts";

interface Resource {
  kind: DocumentKind;
  url: string;
  /** What one document is called in messages and OpenAPI. */
  noun: string;
  parameters: Record<string, string>;
}

const AGENT = 'an Agent as JSON, e.g. {"mbox":"mailto:learner@example.com"}; any one IFI';
const ACTIVITY = "the Activity's IRI";

const RESOURCES: Resource[] = [
  {
    kind: "state",
    url: "/xapi/activities/state",
    noun: "State document",
    parameters: {
      activityId: ACTIVITY,
      agent: AGENT,
      registration: "optional registration (UUID)",
      stateId: "the document's id; without it GET lists ids and DELETE deletes every document of the context",
    },
  },
  {
    kind: "activity_profile",
    url: "/xapi/activities/profile",
    noun: "Activity Profile document",
    parameters: { activityId: ACTIVITY, profileId: "the document's id; without it GET lists ids" },
  },
  {
    kind: "agent_profile",
    url: "/xapi/agents/profile",
    noun: "Agent Profile document",
    parameters: { agent: AGENT, profileId: "the document's id; without it GET lists ids" },
  },
];

/** The query string for OpenAPI: every parameter is checked by `parseDocumentQuery`, not here. */
function querystring(resource: Resource, since: boolean) {
  const properties: Record<string, ReturnType<typeof Type.String>> = {};
  for (const [name, description] of Object.entries(resource.parameters)) {
    properties[name] = Type.String({ description });
  }
  if (since)
    properties.since = Type.String({ description: "GET of ids only: documents updated after this time" });
  return Type.Object(Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Type.Optional(v)])));
}

const documentErrors = {
  ...errorResponses,
  404: ErrorResponse,
  409: ErrorResponse,
  412: ErrorResponse,
  413: ErrorResponse,
};

function preconditionsOf(request: FastifyRequest): Preconditions {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
  };
  return {
    ifMatch: parseEntityTags("If-Match", header("if-match")),
    ifNoneMatch: parseEntityTags("If-None-Match", header("if-none-match")),
  };
}

function bodyOf(request: FastifyRequest): DocumentContents {
  const contents = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  return { contentType: request.headers["content-type"] ?? "application/octet-stream", contents };
}

function sendDocument(reply: FastifyReply, document: StoredDocument) {
  return reply
    .header("etag", `"${document.etag}"`)
    .header("last-modified", document.updated.toUTCString())
    .type(document.contentType)
    .send(document.contents);
}

export const documentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps.database;
  // Documents are any bytes: one parser for every content type, JSON included (kept as sent).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: app.deps.config.bodyLimitBytes },
    (_r, body, done) => done(null, body),
  );

  for (const resource of RESOURCES) {
    const { kind, url, noun } = resource;
    const idName = DOCUMENT_ID_PARAMETER[kind];
    const parse = (request: FastifyRequest, ids: IdUse): ParsedRequest => {
      const parsed = parseDocumentQuery(
        kind,
        request.query as Record<string, unknown>,
        ids,
        request.xapiVersion!,
      );
      checkDocumentScope(request.xapiClient, parsed.address, request.method);
      return parsed;
    };
    // §3.1: the profiles always, and in 2.0.0 the State too, refuse a PUT over an existing
    // document that carries neither If-Match nor If-None-Match; a 1.0.3 profile PUT needs one
    // even for a new document.
    const concurrencyHeader = (request: FastifyRequest): ConcurrencyHeaderRule =>
      request.xapiVersion === "2.0.0" ? "on-overwrite" : kind === "state" ? "optional" : "always";
    const tags = ["xAPI documents"];
    const headers = XapiHeaders;

    for (const method of ["PUT", "POST"] as const) {
      app.route({
        method,
        url,
        config: { auth: "xapi" },
        schema: {
          tags,
          summary:
            method === "PUT" ? `Store a ${noun} (replaces it)` : `Store a ${noun}, merging JSON objects`,
          description:
            method === "PUT"
              ? "Stores the body, of any content type, byte for byte. Over an existing document send If-Match " +
                "(its ETag) or If-None-Match: *; without either the answer is 409" +
                (kind === "state"
                  ? " (xAPI 2.0.0 only; 1.0.3 State PUTs overwrite)."
                  : "; in xAPI 1.0.3 one of the two is required for a new document too (400 without).")
              : "Merges a JSON object into the stored JSON object, one level deep (400 when either is not a JSON " +
                "object); stores it as sent where none is stored. If-Match / If-None-Match are honoured (412).",
          querystring: querystring(resource, false),
          headers,
          response: { 204: Type.Null(), ...documentErrors },
        },
        handler: async (request, reply) => {
          const { address } = parse(request, "required");
          await writeDocument(db, address as typeof address & { documentId: string }, {
            method,
            document: bodyOf(request),
            preconditions: preconditionsOf(request),
            concurrencyHeader: concurrencyHeader(request),
          });
          return reply.code(204).send(null);
        },
      });
    }

    app.get(
      url,
      {
        config: { auth: "xapi" },
        schema: {
          tags,
          summary: `Get a ${noun}, or the ids stored`,
          description:
            `With ${idName}: the document's bytes with its Content-Type, ETag and Last-Modified (404 when none). ` +
            `Without: a JSON array of the ${idName}s stored, only those updated after \`since\` when given.`,
          querystring: querystring(resource, true),
          headers,
          response: { 200: Type.Unknown(), ...documentErrors },
        },
      },
      async (request, reply) => {
        const { address, since } = parse(request, "list");
        if (address.documentId === undefined) return reply.send(await listDocumentIds(db, address, since));
        const document = await getDocument(db, address as typeof address & { documentId: string });
        if (!document) throw new DocumentNotFound(noun);
        return sendDocument(reply, document);
      },
    );

    app.delete(
      url,
      {
        config: { auth: "xapi" },
        schema: {
          tags,
          summary: kind === "state" ? `Delete a ${noun}, or every one of a context` : `Delete a ${noun}`,
          description:
            "204 whether or not a document was stored. If-Match / If-None-Match are honoured (412).",
          querystring: querystring(resource, false),
          headers,
          response: { 204: Type.Null(), ...documentErrors },
        },
      },
      async (request, reply) => {
        const { address } = parse(request, kind === "state" ? "optional" : "required");
        if (address.documentId === undefined) await deleteDocuments(db, address);
        else
          await deleteDocument(
            db,
            address as typeof address & { documentId: string },
            preconditionsOf(request),
          );
        return reply.code(204).send(null);
      },
    );
  }
};
