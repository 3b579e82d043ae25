/**
 * A prebuilt query's parameters as a declared schema: each `ParamDescriptor` becomes a TypeBox
 * (JSON Schema) property with its wording as annotations (see `http/schemaProblems.ts`), and the
 * query's parameters one object that accepts nothing else. `executeSafeQuery` compiles it with
 * Ajv once per query and reports the first problem of each parameter.
 *
 * Checks, in the order a parameter's problem is chosen:
 * - `integer`: a JSON number that is a safe integer, then `min`, then `max`;
 * - every other type: a string, at most `maxLength` (never more than 200) characters, not empty,
 *   no NUL; then `enum` one of `values`, `uuid` a UUID, `email` an email address, `date` a
 *   calendar date `YYYY-MM-DD` from 1900-01-01 to 2999-12-31.
 */
import type { Ajv } from "ajv";
import { type TSchema, Type } from "typebox";
import { isSaneInstant, SANE_DATES } from "../http/validation.ts";
import { MAX_STRING_PARAM_LENGTH, type ParamDescriptor, type QueryDescriptor } from "./vettedQueries.ts";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The formats the parameter schemas name. */
export function addParamFormats(ajv: Ajv): void {
  ajv.addFormat("param-uuid", { type: "string", validate: (text: string) => UUID.test(text) });
  ajv.addFormat("param-email", { type: "string", validate: (text: string) => EMAIL.test(text) });
  ajv.addFormat("param-calendar-date", { type: "string", validate: isCalendarDate });
  ajv.addFormat("param-sane-date", {
    type: "string",
    validate: (text: string) => isSaneInstant(new Date(`${text}T00:00:00Z`)),
  });
}

function integerSchema(param: ParamDescriptor): TSchema {
  const checks: TSchema[] = [
    Type.Integer({
      minimum: Number.MIN_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
      "x-type": "an integer",
      "x-message": "must be an integer",
    }),
  ];
  if (param.min !== undefined)
    checks.push(Type.Unsafe({ minimum: param.min, "x-message": `must be at least ${param.min}` }));
  if (param.max !== undefined)
    checks.push(Type.Unsafe({ maximum: param.max, "x-message": `must be at most ${param.max}` }));
  return Type.Unsafe<number>({ allOf: checks });
}

/** What a string parameter of `type` must be besides a short, non-empty, NUL-free string. */
function stringTypeSchema(param: ParamDescriptor): TSchema | undefined {
  switch (param.type) {
    case "string":
    case "integer":
      return undefined;
    case "enum": {
      const values = param.values ?? [];
      return Type.Unsafe({ enum: values, "x-message": `must be one of ${values.join(", ")}` });
    }
    case "uuid":
      return Type.Unsafe({ format: "param-uuid", "x-message": "must be a UUID" });
    case "email":
      return Type.Unsafe({ format: "param-email", "x-message": "must be an email address" });
    case "date":
      return Type.Unsafe({
        allOf: [
          { format: "param-calendar-date", "x-message": "must be a date, YYYY-MM-DD" },
          {
            format: "param-sane-date",
            "x-message": `must be a date from ${SANE_DATES.from} to ${SANE_DATES.to}`,
          },
        ],
      });
  }
}

function stringSchema(param: ParamDescriptor): TSchema {
  const maxLength = Math.min(param.maxLength ?? MAX_STRING_PARAM_LENGTH, MAX_STRING_PARAM_LENGTH);
  const text = Type.String({
    maxLength,
    minLength: 1,
    pattern: "^[^\\u0000]*$",
    "x-type": `a string (${param.type})`,
    "x-messages": {
      maxLength: `must be at most ${maxLength} characters`,
      minLength: "must not be empty (leave an optional parameter out instead)",
      pattern: "must not contain NUL characters",
    },
  });
  const typed = stringTypeSchema(param);
  return typed ? Type.Unsafe<string>({ allOf: [text, typed] }) : text;
}

/** The schema of one parameter's value (given, not null). */
export function paramSchema(param: ParamDescriptor): TSchema {
  return param.type === "integer" ? integerSchema(param) : stringSchema(param);
}

/**
 * The schema of a query's `params`: an object of its declared parameters (the required ones
 * present), and nothing else. Null values count as not given: callers drop them first.
 */
export function paramsSchema(query: QueryDescriptor): TSchema {
  const properties = Object.fromEntries(
    query.params.map((param) => [
      param.name,
      param.required ? paramSchema(param) : Type.Optional(paramSchema(param)),
    ]),
  );
  const accepted = query.params.map((param) => param.name).join(", ") || "none";
  return Type.Object(properties, {
    additionalProperties: false,
    "x-expected": "an object of parameter values",
    "x-unknown": `is not a parameter of ${query.name} (accepted: ${accepted})`,
    "x-required-first": true,
  });
}
