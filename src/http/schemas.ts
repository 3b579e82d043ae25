/** Response shapes shared by many routes. */
import { Type } from "typebox";

export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: "stable machine-readable code, e.g. validation_error" }),
    message: Type.String({ description: "what went wrong, naming the field" }),
    requestId: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { description: "Every error has this shape." },
);

export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};

/** The largest `offset` a list accepts. */
export const MAX_OFFSET = 1_000_000_000;

export const Pagination = {
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: "rows per page (1–1000)" }),
  // Bounded: PostgreSQL's OFFSET is a bigint, and a query string can say 1e20.
  offset: Type.Integer({
    minimum: 0,
    maximum: MAX_OFFSET,
    default: 0,
    description: "rows to skip (0–1,000,000,000)",
  }),
};

export const CohortId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
  description: "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
});
