/**
 * One check, on every route, that the input holds only text PostgreSQL can store
 * (`db/storableText.ts`): every string and object key of the path parameters, the query string
 * and the parsed body (JSON or form). It runs after the body is parsed and before the route's
 * schema, so a NUL or an unpaired surrogate is a 400 `invalid_text` naming the field
 * (`name`, `params.cohortId`, `query.avatar`, `items[2]["a\u0000"]`) on routes whose handlers
 * never thought of it, rather than a 500 from the database.
 *
 * A route whose handler checks its body's text itself, and names fields its own way, says so
 * with `config.bodyTextCheckedByHandler` (the xAPI statements resource: `validateStatements`
 * reports `statement[1].actor.name` like its other problems). Its parameters and query string
 * are still checked here.
 */
import type { FastifyRequest } from "fastify";
import { fieldPath, findUnstorableText } from "../db/storableText.ts";
import { type ErrorDetail, InvalidText } from "../errors.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The handler refuses unstorable text in the body itself (see http/storableInput.ts). */
    bodyTextCheckedByHandler?: boolean;
  }
}

/** At most this many fields are named in one error. */
const MAX_DETAILS = 20;

function problemsIn(value: unknown, root: string): ErrorDetail[] {
  return findUnstorableText(value, MAX_DETAILS).map(({ path, message }) => ({
    field: fieldPath(path, root),
    message,
  }));
}

/** The `preValidation` hook: throws `InvalidText` naming each field that PostgreSQL cannot store. */
export async function rejectUnstorableInput(request: FastifyRequest): Promise<void> {
  const details = [
    ...problemsIn(request.params, "params"),
    ...problemsIn(request.query, "query"),
    ...(request.routeOptions.config.bodyTextCheckedByHandler ? [] : problemsIn(request.body, "")),
  ];
  if (details.length) throw new InvalidText(details.slice(0, MAX_DETAILS));
}
