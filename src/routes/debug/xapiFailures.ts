/**
 * `GET /api/debug/xapi-failures` (admin): the log of refused xAPI requests as JSON, for support
 * scripts, with the filters of the page `/ui/xapi-log`.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { type Static, Type } from "typebox";
import { listXapiFailures, type XapiFailureFilters } from "../../data/xapiFailedRequests.ts";
import { type ErrorDetail, ValidationFailed } from "../../errors.ts";
import { errorResponses } from "../../http/schemas.ts";
import { isSaneInstant } from "../../http/validation.ts";

/** A day (the UTC day), a date-time with its offset, or a date-time without one (UTC). */
const TIME_BOUND = "^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})?)?$";

export const XapiFailureQuery = Type.Object(
  {
    status: Type.Optional(
      Type.String({
        pattern: "^([45]xx|[1-5][0-9][0-9])$",
        description: "a status (`401`) or a class (`4xx`, `5xx`)",
      }),
    ),
    credential: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "the credential key presented, exactly" }),
    ),
    route: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: "the path begins with this, e.g. /xapi/statements",
      }),
    ),
    errorCode: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: "the answer's error code, e.g. invalid_statement",
      }),
    ),
    from: Type.Optional(
      Type.String({
        pattern: TIME_BOUND,
        description: "answered at or after: a UTC day (YYYY-MM-DD) or a date-time (UTC without an offset)",
      }),
    ),
    to: Type.Optional(
      Type.String({
        pattern: TIME_BOUND,
        description:
          "answered before: a UTC day (the whole day included) or a date-time (UTC without an offset)",
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: "rows per page (1–500)" }),
    offset: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: "rows to skip (0–1,000,000)",
    }),
  },
  { additionalProperties: false },
);
export type XapiFailureQuery = Static<typeof XapiFailureQuery>;

/** A bound as an instant: a day is its start (`to`: the next day's start, so the day is included). */
function instant(text: string, field: "from" | "to", problems: ErrorDetail[]): Date | undefined {
  const isDay = text.length === 10;
  const hasOffset = /(Z|[+-]\d{2}:\d{2})$/.test(text);
  const date = new Date(isDay ? `${text}T00:00:00Z` : hasOffset ? text : `${text}Z`);
  // `2026-02-30` parses as March 2nd: the calendar must agree with what was written.
  const sameDay =
    !Number.isNaN(date.getTime()) && (hasOffset || date.toISOString().startsWith(text.slice(0, 10)));
  if (!sameDay || !isSaneInstant(date)) {
    problems.push({ field, message: "must be a real date or date-time from 1900-01-01 to 2999-12-31" });
    return undefined;
  }
  if (isDay && field === "to") date.setUTCDate(date.getUTCDate() + 1);
  return date;
}

/** The filters a query names; 400 `validation_error` naming each bad one. */
export function xapiFailureFilters(query: Omit<XapiFailureQuery, "limit" | "offset">): XapiFailureFilters {
  const problems: ErrorDetail[] = [];
  const filters: XapiFailureFilters = {};
  if (query.status) {
    filters.status = query.status.endsWith("xx") ? Number(query.status[0]) : Number(query.status);
  }
  if (query.credential !== undefined) filters.credential = query.credential;
  if (query.route !== undefined) filters.route = query.route;
  if (query.errorCode !== undefined) filters.errorCode = query.errorCode;
  if (query.from) filters.from = instant(query.from, "from", problems);
  if (query.to) filters.to = instant(query.to, "to", problems);
  if (problems.length) throw new ValidationFailed(problems);
  return filters;
}

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const XapiFailureItem = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: "date-time", description: "when the refusal was answered" }),
  method: Type.String(),
  path: Type.String({ description: "the path asked for (a cmi5 fetch token masked)" }),
  query: Nullable(
    Type.String({ description: "the query string, at most 1 KiB, credential-like values masked" }),
  ),
  status: Type.Integer(),
  errorCode: Nullable(Type.String({ description: "the answer's `error`" })),
  message: Nullable(Type.String({ description: "the answer's `message`" })),
  credentialKey: Nullable(Type.String({ description: "the key presented (never the secret)" })),
  credentialStatus: Type.Union([Type.Literal("verified"), Type.Literal("unverified"), Type.Literal("none")], {
    description:
      "verified: authenticated as that key; unverified: a key presented but not accepted (unknown, revoked, " +
      "wrong secret, or refused before the check); none: no Basic credential",
  }),
  credentialName: Nullable(Type.String({ description: "the name of the credential with that key, if any" })),
  xapiVersion: Nullable(Type.String({ description: "X-Experience-API-Version as sent" })),
  contentType: Nullable(Type.String()),
  body: Nullable(
    Type.String({
      description: "the body's first 1,024 bytes as text (NUL shown as ␀); null when the body was not read",
    }),
  ),
  bodyBytes: Nullable(Type.Integer({ description: "the whole body's length in bytes, when known" })),
  clientAddress: Nullable(Type.String()),
  requestId: Nullable(Type.String({ description: "the answer's requestId, to find in the logs" })),
});

export const xapiFailureRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/api/debug/xapi-failures",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["debug"],
        summary: "Refused xAPI requests (4xx and 5xx under /xapi), newest first",
        description:
          "The log behind /ui/xapi-log: time, credential key (never a secret), route, status, error code and " +
          "message, the first KiB of the body. Bounded: XAPI_LOG_MAX_AGE and XAPI_LOG_MAX_ROWS.",
        querystring: XapiFailureQuery,
        response: {
          200: Type.Object({
            items: Type.Array(XapiFailureItem),
            total: Type.Integer({ description: "rows matching the filters" }),
            limit: Type.Integer(),
            offset: Type.Integer(),
            retention: Type.Object({
              maxRows: Type.Integer({ description: "XAPI_LOG_MAX_ROWS" }),
              maxAgeSeconds: Type.Integer({ description: "XAPI_LOG_MAX_AGE" }),
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, offset, ...query } = request.query;
      const filters = xapiFailureFilters(query);
      const { config, database } = app.deps;
      // What this process still holds queued is written first, so a script sees it.
      await app.xapiFailureLog.flush();
      const page = await listXapiFailures(database.db, filters, { limit, offset });
      return {
        items: page.items.map(({ at, ...row }) => ({ ...row, at: at.toISOString() })),
        total: page.total,
        limit,
        offset,
        retention: {
          maxRows: config.xapiLogMaxRows,
          maxAgeSeconds: Math.round(config.xapiLogMaxAgeMs / 1000),
        },
      };
    },
  );
};
