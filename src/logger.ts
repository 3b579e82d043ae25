/**
 * Structured logs (pino), one JSON object a line. Secrets never reach them: headers are not
 * logged, query-string values that look like credentials are masked, and the usual secret
 * property names are redacted wherever they appear in a logged object.
 */
import type { FastifyRequest } from "fastify";
import pino, { type LoggerOptions } from "pino";
import type { LogLevel } from "./config.ts";

const SECRET_QUERY = /([?&](?:token|secret|password|key|signature)=)[^&#]*/gi;
/** The cmi5 fetch URL carries its one-time token in the path. */
const SECRET_PATH = /^(\/xapi\/cmi5\/fetch\/)[^?#]*/i;

/** The URL with secret-looking query values (and the cmi5 fetch token) masked. */
export function redactUrlQuery(url: string): string {
  return url.replace(SECRET_PATH, "$1***").replace(SECRET_QUERY, "$1***");
}

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        "password",
        "secret",
        "token",
        "*.password",
        "*.secret",
        "*.secretHash",
        "*.token",
        "*.authorization",
        "*.cookie",
        "req.headers",
      ],
      censor: "***",
    },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrlQuery(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}

export function createLogger(level: LogLevel): pino.Logger {
  return pino(loggerOptions(level));
}
