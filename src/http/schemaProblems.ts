/**
 * Declared schemas whose errors read like a person wrote them: TypeBox (plain JSON Schema)
 * compiled by Ajv, each schema carrying its own wording in a few annotations, and one function
 * that turns Ajv's errors into `{ segments, message }` problems. The xAPI statement validator and
 * the DB terminal's parameters use it; route bodies keep `validation.ts`, whose wording is Ajv's.
 *
 * Annotations (on the schema that an error comes from, Ajv's `parentSchema`):
 * - `x-expected`: what a valid value is, with an example (`"a UUID such as 6690e6c9-…"`). A value
 *   of the wrong type, or failing `format`, `pattern`, `minimum`, … reads `must be <x-expected>`;
 *   a null reads `must not be null (expected <x-expected>)`.
 * - `x-type`: what to say instead of `x-expected` when the JSON type is wrong (`"a string"` where
 *   `x-expected` describes the format).
 * - `x-message`: the whole message for any failure of this schema other than its type.
 * - `x-messages`: `{ <keyword>: <message> }`, the message for one keyword (`minLength`).
 * - `x-label`: what an object is (`"an Agent"`): an unknown property reads `is not a property of
 *   an Agent`.
 * - `x-forbidden`: `{ <property>: <message> }` for properties an object must not have, said in
 *   place of "is not a property of".
 * - `x-unknown`: the whole message for any property the object does not declare.
 * - `x-required`: `{ <property>: <message> }` in place of `is required`.
 * - `x-required-first`: report this object's missing properties before any problem of the others
 *   (by default each is reported in its place among the properties).
 * Without annotations, a wrong type reads `must be a string` (`a number`, `an object`, …).
 *
 * Rules a schema cannot say are Ajv keywords written in code (see `xapi/statementRules.ts`); their
 * errors carry their final `message`, and `params.refersTo` when the message names another element
 * of the same array (`duplicates the id of …choices[0]`).
 */
import { Ajv, type ErrorObject, type Options } from "ajv";
import type { PathSegment } from "../db/storableText.ts";

export interface SchemaProblem {
  /** Where, from the validated value's root: object keys and array indexes. */
  segments: PathSegment[];
  message: string;
  /** For a message naming another element (`duplicates the id of`): that element's segments. */
  refersTo?: PathSegment[];
}

/**
 * An Ajv for declared schemas. `allErrors: false` answers "valid?" fastest (the hot path);
 * `allErrors: true` collects every problem, with `verbose` so each error carries its schema and
 * value for the wording. Strict JSON: no coercion, no defaults, own properties only (`constructor`
 * is not a property of `{}`), finite numbers only, and lengths in UTF-16 units as JavaScript
 * counts them.
 */
export function makeDeclaredAjv(allErrors: boolean, options: Options = {}): Ajv {
  return new Ajv({
    logger: QUIET_ABOUT_UNICODE,
    allErrors,
    verbose: allErrors,
    messages: allErrors,
    strict: false,
    strictNumbers: true,
    ownProperties: true,
    unicode: false,
    coerceTypes: false,
    useDefaults: false,
    ...options,
  });
}

/**
 * Ajv's console logger, without its notice that `unicode: false` is deprecated: the option still
 * works, and counting UTF-16 units is deliberate (the limits were, and are, JavaScript lengths).
 */
const QUIET_ABOUT_UNICODE = {
  log: console.log,
  warn: (...args: unknown[]) => {
    if (!String(args[0]).startsWith("DEPRECATED: option unicode")) console.warn(...args);
  },
  error: console.error,
};

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "an array",
};

/** The message for a value of the wrong JSON type, saying what was expected. */
export function typeProblem(value: unknown, expected: string): string {
  return value === null ? `must not be null (expected ${expected})` : `must be ${expected}`;
}

type Annotated = Record<string, unknown> & {
  "x-expected"?: string;
  "x-type"?: string;
  "x-message"?: string;
  "x-messages"?: Record<string, string>;
  "x-label"?: string;
  "x-forbidden"?: Record<string, string>;
  "x-unknown"?: string;
  "x-required"?: Record<string, string>;
};

/**
 * Ajv's errors (from a validator with `allErrors` and `verbose`) as problems, at most `limit`.
 * `root` is the value that was validated: it tells an array index from an object key named "0".
 *
 * Once a value has the wrong type nothing below it is reported (its properties cannot be judged);
 * `if` errors are dropped (the branch taken already said what is wrong); an object's unknown
 * properties are reported before its missing ones, as one reads it.
 */
export function schemaProblems(
  errors: readonly ErrorObject[],
  root: unknown,
  limit: number,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const wrongType: string[] = [];
  for (const error of requiredInPlace(unknownPropertiesFirst(errors))) {
    if (problems.length >= limit) break;
    if (error.keyword === "if" || error.propertyName !== undefined) continue;
    const at = error.instancePath;
    const isRule = (error.params as { rule?: unknown }).rule !== undefined;
    if (!isRule && wrongType.some((path) => at === path || at.startsWith(`${path}/`))) continue;
    if (error.keyword === "type") wrongType.push(at);
    problems.push(describe(error, root));
  }
  return problems;
}

function describe(error: ErrorObject, root: unknown): SchemaProblem {
  const schema = (error.parentSchema ?? {}) as Annotated;
  const params = error.params as Record<string, unknown>;
  const segments = toSegments(error.instancePath, root);
  switch (error.keyword) {
    case "type": {
      const expected = schema["x-type"] ?? schema["x-expected"] ?? TYPE_NAMES[String(params.type)] ?? "valid";
      return { segments, message: typeProblem(error.data, expected) };
    }
    case "required": {
      const key = String(params.missingProperty);
      return { segments: [...segments, key], message: schema["x-required"]?.[key] ?? "is required" };
    }
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const forbidden = schema["x-forbidden"];
      const message =
        forbidden && Object.hasOwn(forbidden, key)
          ? forbidden[key]!
          : (schema["x-unknown"] ?? `is not a property of ${schema["x-label"] ?? "this object"}`);
      return { segments: [...segments, key], message };
    }
    case "propertyNames": {
      const names = (schema.propertyNames ?? {}) as Annotated;
      return {
        segments: [...segments, String(params.propertyName)],
        message: names["x-message"] ?? "is not an accepted key",
      };
    }
    case "maxLength":
      return {
        segments,
        message:
          schema["x-messages"]?.maxLength ??
          `must be at most ${String(params.limit)} characters (it has ${String((error.data as string).length)})`,
      };
    default: {
      if (typeof params.refersTo === "number") {
        return {
          segments,
          message: error.message ?? "",
          refersTo: [...segments.slice(0, -2), params.refersTo],
        };
      }
      if (params.rule !== undefined) return { segments, message: error.message ?? "" };
      const message =
        schema["x-messages"]?.[error.keyword] ??
        schema["x-message"] ??
        (schema["x-expected"]
          ? typeProblem(error.data, schema["x-expected"])
          : `${error.message ?? "is invalid"}`);
      return { segments, message };
    }
  }
}

/**
 * Ajv checks an object's `required` before its `additionalProperties`; a reader expects the
 * unknown properties first (a typo such as `Actor` explains the missing `actor`). Reorders each
 * run of those two at the same place, keeping everything else as Ajv reported it.
 */
function unknownPropertiesFirst(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const isKeyProblem = (error: ErrorObject) =>
    error.keyword === "required" || error.keyword === "additionalProperties";
  if (!errors.some((error) => error.keyword === "required")) return errors;
  const ordered: ErrorObject[] = [];
  let index = 0;
  while (index < errors.length) {
    const first = errors[index]!;
    if (!isKeyProblem(first)) {
      ordered.push(first);
      index += 1;
      continue;
    }
    let end = index;
    while (
      end < errors.length &&
      isKeyProblem(errors[end]!) &&
      errors[end]!.instancePath === first.instancePath
    )
      end += 1;
    const run = errors.slice(index, end);
    ordered.push(
      ...run.filter((error) => error.keyword === "additionalProperties"),
      ...run.filter((error) => error.keyword === "required"),
    );
    index = end;
  }
  return ordered;
}

/**
 * Ajv reports an object's missing properties before checking the others; a reader (and the order
 * of the properties in the schema) expects each where it is declared: `objectType` wrong, then
 * `id` missing. Moves each `required` error after the errors of the properties declared before
 * it, unless the schema says `x-required-first` (a statement: actor, verb and object first).
 */
function requiredInPlace(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  if (!errors.some((error) => error.keyword === "required")) return errors;
  const ordered = [...errors];
  const moved = new Set<ErrorObject>();
  for (let index = 0; index < ordered.length; index++) {
    const error = ordered[index]!;
    const schema = error.parentSchema as Annotated | undefined;
    if (error.keyword !== "required" || moved.has(error) || !schema || schema["x-required-first"]) continue;
    const order = Object.keys((schema.properties ?? {}) as object);
    const rank = order.indexOf(String((error.params as { missingProperty?: unknown }).missingProperty));
    const base = error.instancePath;
    let end = index + 1;
    while (end < ordered.length) {
      const next = ordered[end]!;
      if (
        next.parentSchema === schema &&
        next.keyword !== "required" &&
        next.keyword !== "additionalProperties"
      )
        break;
      if (next.instancePath === base) {
        if (next.keyword !== "required" && next.keyword !== "additionalProperties") break;
      } else if (next.instancePath.startsWith(`${base}/`)) {
        const key = next.instancePath
          .slice(base.length + 1)
          .split("/")[0]!
          .replace(/~1/g, "/")
          .replace(/~0/g, "~");
        if (order.indexOf(key) >= rank) break;
      } else break;
      end += 1;
    }
    if (end > index + 1) {
      ordered.splice(index, 1);
      ordered.splice(end - 1, 0, error);
      moved.add(error);
      index -= 1;
    }
  }
  return ordered;
}

/** `/actor/member/0/mbox` → `["actor", "member", 0, "mbox"]`, numbers only where `root` has an array. */
function toSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const segments: PathSegment[] = [];
  let at: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(at)) {
      const index = Number(key);
      segments.push(index);
      at = at[index];
    } else {
      segments.push(key);
      at =
        typeof at === "object" && at !== null && Object.hasOwn(at, key)
          ? (at as Record<string, unknown>)[key]
          : undefined;
    }
  }
  return segments;
}
