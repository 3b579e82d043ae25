/**
 * What every response under `/xapi` carries, whatever answered it (a route, an error, the 404
 * handler, the credential check): the `X-Experience-API-Version` header and, for allowed origins,
 * the CORS headers, so a lesson served from another origin sees the LRS's real status and
 * message instead of a bare "Network Error". Installed on the root instance, before any route,
 * so its hooks run for unmatched paths too.
 *
 * CORS preflights are answered only under `/xapi`; anywhere else (the admin API, the pages) an
 * `OPTIONS` request is a 404 and a browser refuses the cross-origin call.
 *
 * Every request but `about`, the cmi5 fetch URL and preflights names its version in `X-Experience-API-Version`
 * (400 otherwise); `request.xapiVersion` is what it negotiated. A request refused for naming none
 * is answered with the version its credential's client spoke last (`LastVersions`), else 2.0.0.
 *
 * A 1.0.3 alternate-syntax request (`POST ...?method=`, `alternateRequest.ts`) is rewritten into
 * the request it stands for before any of this runs, so these rules judge that request.
 */
import cors, { type FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseAuthorization } from "../../auth/basic.ts";
import { AppError } from "../../errors.ts";
import {
  LastVersions,
  negotiateVersion,
  SUPPORTED_VERSIONS,
  VERSION_HEADER,
  type XapiVersion,
} from "../../xapi/version.ts";
import { alternateContent, readAlternateRequest } from "./alternateRequest.ts";

declare module "fastify" {
  interface FastifyRequest {
    xapiVersion?: XapiVersion;
  }
}

/** The methods the xAPI resources use, and every header an xAPI client sends. */
export const XAPI_CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"];
export const XAPI_CORS_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "X-Experience-API-Version",
  "If-Match",
  "If-None-Match",
];
export const XAPI_CORS_EXPOSED_HEADERS = [
  "ETag",
  "Last-Modified",
  "X-Experience-API-Version",
  "X-Experience-API-Consistent-Through",
];

function xapiPath(request: FastifyRequest): string | undefined {
  const path = request.url.split("?")[0]!;
  return path === "/xapi" || path.startsWith("/xapi/") ? path : undefined;
}

/**
 * @param bodyLimit the largest body, in bytes, of an xAPI request (`BODY_LIMIT`); an
 *   alternate-syntax form may be up to three times as long
 */
export async function installXapiProtocol(
  app: FastifyInstance,
  corsOrigins: readonly string[],
  bodyLimit: number,
): Promise<void> {
  const lastVersions = new LastVersions();

  // 0. An alternate-syntax request becomes the request it stands for, before anything reads it.
  app.addHook("onRequest", async (request) => {
    if (xapiPath(request)) await readAlternateRequest(request, bodyLimit);
  });
  app.addHook("preParsing", async (request, _reply, payload) => alternateContent(request) ?? payload);

  // 1. The version header goes on first, so even a preflight or a refusal carries it.
  app.addHook("onRequest", async (request, reply) => {
    const path = xapiPath(request);
    if (!path) return;
    const header = request.headers[VERSION_HEADER];
    const version = negotiateVersion(typeof header === "string" ? header : undefined);
    const credentials = version ? undefined : parseAuthorization(request.headers.authorization);
    const key = credentials?.scheme === "basic" ? credentials.username : undefined;
    reply.header(VERSION_HEADER, version ?? lastVersions.of(key) ?? "2.0.0");
    request.xapiVersion = version;
  });

  // 2. CORS, on the root instance so it also answers for 404s and errors under /xapi; the
  // delegator turns it off (no headers, a preflight falls through to the 404) everywhere else.
  const xapiCors: FastifyCorsOptions = {
    origin: corsOrigins.includes("*") ? "*" : [...corsOrigins],
    methods: XAPI_CORS_METHODS,
    allowedHeaders: XAPI_CORS_REQUEST_HEADERS,
    exposedHeaders: XAPI_CORS_EXPOSED_HEADERS,
    maxAge: 86_400,
  };
  await app.register(cors, {
    delegator: (request, callback) => callback(null, xapiPath(request) ? xapiCors : { origin: false }),
  });

  // 3. Only then may a request be refused for its version, with every header already set.
  app.addHook("onRequest", async (request) => {
    const path = xapiPath(request);
    // `about` and the cmi5 fetch URL (not an xAPI resource: the AU posts to it without the
    // header) need no version.
    const exempt = path === "/xapi/about" || path?.startsWith("/xapi/cmi5/fetch/");
    if (!path || request.method === "OPTIONS" || request.xapiVersion || exempt) {
      if (request.alternateRequestError) throw request.alternateRequestError;
      return;
    }
    const header = request.headers[VERSION_HEADER];
    throw new AppError(
      400,
      "unsupported_version",
      header
        ? `X-Experience-API-Version ${String(header)} is not supported; use one of ${SUPPORTED_VERSIONS.join(", ")}`
        : `the X-Experience-API-Version header is required (one of ${SUPPORTED_VERSIONS.join(", ")})`,
      [{ field: "X-Experience-API-Version", message: header ? "is not supported" : "is required" }],
    );
  });

  // 4. A verified client's version, for the day it forgets the header.
  app.addHook("preHandler", async (request) => {
    if (request.xapiClient && request.xapiVersion)
      lastVersions.remember(request.xapiClient.key, request.xapiVersion);
  });
}
