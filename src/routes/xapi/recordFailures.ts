/**
 * Every refused request under `/xapi` (a 4xx or 5xx answer, whatever gave it: a route, the
 * credential check, the version check, the body parser, the 404 handler) goes to the log of
 * refused xAPI requests (`xapi/failureLog.ts`). Installed on the root instance before any route.
 *
 * What it costs a request that succeeds: the JSON body parser keeps a copy of the body's first
 * KiB (a request refused after parsing, say for an invalid statement, has no raw body otherwise).
 * Everything else happens only for a refusal, and the recording itself after the answer is sent.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { BODY_PREFIX_BYTES, type XapiFailureLog } from "../../xapi/failureLog.ts";
import { VERSION_HEADER } from "../../xapi/version.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The first KiB (or more) of an xAPI request's body as received, kept by the body parser. */
    xapiBodyPrefix?: { bytes: Buffer; complete: boolean };
    /** The `error` and `message` of a refused xAPI request's answer. */
    xapiRefusal?: { code: string | undefined; message: string | undefined };
  }
}

/** Error answers are small; a larger payload is not parsed for its code. */
const MAX_ERROR_PAYLOAD = 64 * 1024;

function isXapi(url: string): boolean {
  return url === "/xapi" || url.startsWith("/xapi/") || url.startsWith("/xapi?");
}

/** Keeps the start of an xAPI request's body for the log (a copy, so the body itself can go). */
export function keepBodyPrefix(request: FastifyRequest, body: string | Buffer): void {
  if (!isXapi(request.url)) return;
  if (typeof body === "string") {
    // At most 1,024 characters are at least 1,024 bytes (or the whole body).
    const head = body.length > BODY_PREFIX_BYTES ? body.slice(0, BODY_PREFIX_BYTES) : body;
    request.xapiBodyPrefix = { bytes: Buffer.from(head, "utf8"), complete: head.length === body.length };
  } else {
    request.xapiBodyPrefix = {
      bytes: Buffer.from(body.subarray(0, BODY_PREFIX_BYTES)),
      complete: body.length <= BODY_PREFIX_BYTES,
    };
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function readRefusal(payload: unknown): { code: string | undefined; message: string | undefined } {
  const text = Buffer.isBuffer(payload) ? payload.toString("utf8") : payload;
  if (typeof text !== "string" || text.length > MAX_ERROR_PAYLOAD || !text.startsWith("{")) {
    return { code: undefined, message: undefined };
  }
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    return {
      code: typeof parsed.error === "string" ? parsed.error : undefined,
      message: typeof parsed.message === "string" ? parsed.message : undefined,
    };
  } catch {
    return { code: undefined, message: undefined };
  }
}

export function installFailureRecording(app: FastifyInstance, failureLog: XapiFailureLog): void {
  // The JSON parser, Fastify's own, keeping the start of an xAPI body first: a refusal of bad
  // JSON or of an invalid statement has it in the log.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    keepBodyPrefix(request, body as string);
    parseJson(request, body as string, done);
  });

  app.addHook("onSend", async (request, reply, payload) => {
    if (reply.statusCode >= 400 && isXapi(request.url)) {
      try {
        request.xapiRefusal = readRefusal(payload);
      } catch {
        // never change an answer over the log
      }
    }
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    if (reply.statusCode < 400 || !isXapi(request.url)) return;
    const bodyPrefix =
      request.xapiBodyPrefix ??
      (Buffer.isBuffer(request.body)
        ? {
            bytes: request.body.subarray(0, BODY_PREFIX_BYTES),
            complete: request.body.length <= BODY_PREFIX_BYTES,
          }
        : undefined);
    failureLog.record({
      at: new Date(),
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      errorCode: request.xapiRefusal?.code,
      message: request.xapiRefusal?.message,
      authorization: header(request, "authorization"),
      client: request.xapiClient,
      xapiVersion: header(request, VERSION_HEADER),
      contentType: header(request, "content-type"),
      contentLength: header(request, "content-length"),
      bodyPrefix: bodyPrefix?.bytes,
      bodyComplete: bodyPrefix?.complete ?? false,
      clientAddress: request.ip,
      requestId: request.id,
    });
  });
}
