/**
 * The one error path: every error leaves as `{ error, message, requestId, details? }` with the
 * right status. Domain errors (`AppError`) carry their own status and code; Fastify's own errors
 * (bad JSON, body too large, wrong content type) are mapped to codes here; anything else is
 * logged with its stack and answered with a plain 500 that reveals nothing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isDatabaseUnavailable } from "../db/client.ts";
import { AppError, DatabaseUnavailable, RetryLater, Unauthorized, ValidationFailed } from "../errors.ts";
import { describeValidationErrors } from "./validation.ts";

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "invalid_json" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "invalid_json", message: "the request body is empty" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "unsupported_media_type" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "invalid_content_length" },
};

function toAppError(error: FastifyError, bodyLimit: number): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const { details, more } = describeValidationErrors(error.validation as never, error.validationContext);
    return new ValidationFailed(details, more);
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) {
    const message =
      known.code === "payload_too_large"
        ? `the request body is larger than the limit of ${bodyLimit} bytes`
        : known.code === "unsupported_media_type"
          ? "unsupported Content-Type; send application/json"
          : (known.message ?? error.message);
    return new AppError(known.status, known.code, message);
  }
  if (isDatabaseUnavailable(error)) return new DatabaseUnavailable();
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError(error.statusCode, "bad_request", error.message);
  }
  return undefined;
}

export function installErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // A route's own limit (non-xAPI routes have small ones), else the server's BODY_LIMIT.
    const known = toAppError(error, request.routeOptions.bodyLimit ?? bodyLimit);
    if (!known) {
      request.log.error({ err: error }, "unhandled error");
      return reply.code(500).send({
        error: "internal_error",
        message: "something went wrong on our side",
        requestId: request.id,
      });
    }
    // A refusal to retry later (429, 503 busy) is the service protecting itself: under a flood,
    // a log line with a stack for each would be a flood of its own.
    if (known.status >= 500 && !(known instanceof RetryLater))
      request.log.warn({ err: error }, known.message);
    if (known instanceof Unauthorized) reply.header("www-authenticate", known.challenge);
    if (known instanceof RetryLater) reply.header("retry-after", String(known.retryAfterS));
    return reply.code(known.status).send({
      error: known.code,
      message: known.message,
      requestId: request.id,
      ...(known.details ? { details: known.details } : {}),
    });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: "not_found",
      message: `no route ${request.method} ${request.url.split("?")[0]}`,
      requestId: request.id,
    }),
  );
}
