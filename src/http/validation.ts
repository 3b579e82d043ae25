/**
 * Request validation. Route schemas are TypeBox (plain JSON Schema) compiled by Ajv.
 * Bodies are validated strictly (no type coercion, unknown properties rejected, so a typo such
 * as `cohortID` is an error rather than silently ignored); query strings and path parameters
 * are coerced from strings, as they can only be strings on the wire.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";
import { fieldPath, findUnstorableText } from "../db/storableText.ts";
import {
  type AppError,
  type ErrorDetail,
  InvalidText,
  MAX_ERROR_DETAILS,
  ValidationFailed,
} from "../errors.ts";

// ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * The dates and instants a request may name: years 1900 to 2999. PostgreSQL refuses some dates a
 * calendar check allows (year 0000), JavaScript prints years past 9999 in a form PostgreSQL cannot
 * read back (`+010000-01-01`), and nothing in a course's calendar lies outside these years.
 */
export const SANE_DATES = { from: "1900-01-01", to: "2999-12-31" } as const;
const EARLIEST_MS = Date.parse(`${SANE_DATES.from}T00:00:00Z`);
const AFTER_LATEST_MS = Date.parse("3000-01-01T00:00:00Z");

/** True when `date` is an instant within `SANE_DATES` (UTC). */
export function isSaneInstant(date: Date): boolean {
  const ms = date.getTime();
  return ms >= EARLIEST_MS && ms < AFTER_LATEST_MS;
}

const DATE_MESSAGE = `must be a date (YYYY-MM-DD) from ${SANE_DATES.from} to ${SANE_DATES.to}`;
const DATE_TIME_MESSAGE =
  `must be a date-time with its offset (e.g. 2026-03-02T18:00:00+01:00) ` +
  `from ${SANE_DATES.from} to ${SANE_DATES.to}`;

/** ajv-formats' `date` and `date-time`, narrowed to `SANE_DATES`. */
function addSaneDateFormats(ajv: Ajv): void {
  const formats = ajv.formats as Record<string, { validate: (text: string) => boolean }>;
  const calendarDate = formats.date!.validate;
  const dateTime = formats["date-time"]!.validate;
  ajv.addFormat("date", {
    type: "string",
    validate: (text: string) => calendarDate(text) && isSaneInstant(new Date(`${text}T00:00:00Z`)),
  });
  ajv.addFormat("date-time", {
    type: "string",
    validate: (text: string) => dateTime(text) && isSaneInstant(new Date(text)),
  });
}

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    useDefaults: true,
    removeAdditional: false,
    // Gives each error its schema, so a pattern error can quote the readable `description`.
    verbose: true,
    ...options,
  });
  addFormats(ajv);
  addSaneDateFormats(ajv);
  return ajv;
}

const strictAjv = makeAjv({ coerceTypes: false });
const coercingAjv = makeAjv({ coerceTypes: "array" });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === "body" ? strictAjv : coercingAjv;
  return ajv.compile(schema as object);
};

/** `/a/0/b` → `a[0].b` */
function toFieldPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), "");
}

/**
 * Turns Ajv errors into `{ field, message }` details that name the field: the first
 * `MAX_ERROR_DETAILS` distinct ones, and how many errors there were beyond them (`more`). A body
 * of thousands of unknown keys is that many errors; describing each would make the answer the
 * amplifier.
 */
export function describeValidationErrors(
  errors: ErrorObject[],
  context: string | undefined,
): { details: ErrorDetail[]; more: number } {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  let more = 0;
  for (const error of errors) {
    // `anyOf`/`oneOf` wrappers repeat what their branches already said.
    if (error.keyword === "anyOf" || error.keyword === "oneOf" || error.keyword === "if") continue;
    if (details.length >= MAX_ERROR_DETAILS) {
      more += 1;
      continue;
    }
    const detail = describe(error, context);
    const key = `${detail.field}\u0000${detail.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push(detail);
  }
  return { details, more };
}

function describe(error: ErrorObject, context: string | undefined): ErrorDetail {
  let field = toFieldPath(error.instancePath);
  let message = error.message ?? "is invalid";
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required") {
    field = field ? `${field}.${String(params.missingProperty)}` : String(params.missingProperty);
    message = "is required";
  } else if (error.keyword === "additionalProperties") {
    const extra = String(params.additionalProperty);
    field = field ? `${field}.${extra}` : extra;
    message = "is not a known property";
  } else if (error.keyword === "format" && params.format === "date") {
    message = DATE_MESSAGE;
  } else if (error.keyword === "format" && params.format === "date-time") {
    message = DATE_TIME_MESSAGE;
  } else if (error.keyword === "pattern" && typeof error.parentSchema?.description === "string") {
    message = `must be ${error.parentSchema.description}`;
  }
  return { field: field || context || "body", message };
}

/**
 * Fastify's `schemaErrorFormatter`: the message of a validation error, from its first few
 * errors only (Fastify's default joins every one of them into one string).
 */
export function formatSchemaErrors(errors: ErrorObject[], dataVar: string): Error {
  const shown = errors
    .slice(0, MAX_ERROR_DETAILS)
    .map((error) => `${dataVar}${error.instancePath} ${error.message ?? "is invalid"}`);
  const more = errors.length - shown.length;
  return new Error(`${shown.join(", ")}${more > 0 ? `, and ${more} more` : ""}`);
}

const compiledBodySchemas = new WeakMap<object, ValidateFunction>();

/**
 * Checks a value as a route checks its JSON body, for input that arrives another way (an admin
 * form): the unstorable-text check of every request first (`InvalidText`, as
 * `http/storableInput.ts` answers), then the schema with the same strict Ajv and the same
 * messages (`ValidationFailed`). Undefined when the value passes both.
 */
export function bodyProblems(schema: object, value: unknown): AppError | undefined {
  const unstorable = findUnstorableText(value, MAX_ERROR_DETAILS);
  if (unstorable.length) {
    return new InvalidText(unstorable.map(({ path, message }) => ({ field: fieldPath(path, ""), message })));
  }
  let validate = compiledBodySchemas.get(schema);
  if (!validate) {
    validate = strictAjv.compile(schema);
    compiledBodySchemas.set(schema, validate);
  }
  if (validate(value)) return undefined;
  const { details, more } = describeValidationErrors(validate.errors ?? [], "body");
  return new ValidationFailed(details, more);
}
