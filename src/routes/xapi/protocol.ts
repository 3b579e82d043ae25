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
 * (400 otherwise); `request.xapiVersion` is what it negotiated.
 */
import cors, { type FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors.ts";
import {
  negotiateVersion,
  SUPPORTED_VERSIONS,
  VERSION_HEADER,
  type XapiVersion,
} from "../../xapi/version.ts";

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

export async function installXapiProtocol(
  app: FastifyInstance,
  corsOrigins: readonly string[],
): Promise<void> {
  // 1. The version header goes on first, so even a preflight or a refusal carries it.
  app.addHook("onRequest", async (request, reply) => {
    const path = xapiPath(request);
    if (!path) return;
    const header = request.headers[VERSION_HEADER];
    const version = negotiateVersion(typeof header === "string" ? header : undefined);
    reply.header(VERSION_HEADER, version ?? "2.0.0");
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
    if (!path || request.method === "OPTIONS" || request.xapiVersion) return;
    // `about`, and the cmi5 fetch URL (not an xAPI resource: the AU posts to it without the header).
    if (path === "/xapi/about" || path.startsWith("/xapi/cmi5/fetch/")) return;
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
}
