/**
 * Runs a prebuilt query by name (plan a.07b): look it up → validate its parameters → run it in a
 * read-only transaction with a statement timeout and a row cap → present the rows as JSON-safe
 * values. Anything not in `getPrebuiltQueries()` is refused; there is no way to send SQL.
 *
 * Results are `{ columns, rows, truncated, ms }` with `rows` as arrays in `columns` order: compact,
 * column order kept, and the table the UI draws.
 */
import { performance } from "node:perf_hooks";
import type { ValidateFunction } from "ajv";
import { type SQL, sql } from "drizzle-orm";
import { type Db, driverError } from "../db/client.ts";
import { AppError, ValidationFailed } from "../errors.ts";
import { makeDeclaredAjv, schemaProblems } from "../http/schemaProblems.ts";
import { addParamFormats, paramsSchema } from "./paramsSchema.ts";
import {
  findPrebuiltQuery,
  getPrebuiltQueries,
  type ParamValue,
  type PrebuiltQuery,
  type QueryParams,
} from "./vettedQueries.ts";

export interface QueryResult {
  /** Column names, in the query's order. */
  columns: string[];
  /**
   * One array per row, values in `columns` order and JSON-safe: timestamptz as ISO 8601 strings,
   * dates as `YYYY-MM-DD`, int8 as numbers (as strings beyond 2^53), numeric as strings, jsonb as
   * JSON, bytea as `\x…` hex.
   */
  rows: unknown[][];
  /** True when the query had more rows than the cap; `rows` holds the first `maxRows`. */
  truncated: boolean;
  /** Wall time of the transaction, in milliseconds (one decimal). */
  ms: number;
}

export interface ReadOnlyOptions {
  /** `statement_timeout` for the transaction, in ms. Default 5,000. */
  timeoutMs?: number;
  /** The most rows returned; more are reported as `truncated`. Default 1,000. */
  maxRows?: number;
}

export interface ExecuteOptions extends ReadOnlyOptions {
  /** `PUBLIC_BASE_URL`, to match learners' xAPI accounts; without it accounts match only through `user_id`. */
  publicBaseUrl?: string;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_ROWS = 1_000;

/** 400 `unknown_query`: the name is not one of the prebuilt queries. */
export class UnknownQuery extends AppError {
  constructor(readonly queryName: string) {
    const known = getPrebuiltQueries()
      .map((query) => query.name)
      .join(", ");
    super(
      400,
      "unknown_query",
      `there is no prebuilt query named "${queryName.slice(0, 100)}"; known: ${known}`,
      [{ field: "name", message: "is not a prebuilt query" }],
    );
  }
}

/**
 * 422 `query_timeout`: PostgreSQL cancelled the query at `statement_timeout`. The request was
 * valid and the database is fine, so neither 400 nor 503; retrying as is will time out again,
 * narrower parameters may not. (408 is about the client being slow to send, so not that either.)
 */
export class QueryTimeout extends AppError {
  constructor(readonly timeoutMs: number) {
    super(
      422,
      "query_timeout",
      `the query did not finish within ${timeoutMs} ms and was cancelled; narrow its parameters`,
    );
  }
}

const PG_QUERY_CANCELED = "57014";
const TYPE_INT8 = 20;
const TYPE_TIMESTAMPTZ = 1184;

/**
 * Looks up the prebuilt query `name`, validates `params` against it and runs it read-only.
 * Throws `UnknownQuery`, `ValidationFailed` (400, details name `params.<name>`) or `QueryTimeout`.
 */
export async function executeSafeQuery(
  db: Db,
  name: string,
  params: unknown = {},
  options: ExecuteOptions = {},
): Promise<QueryResult> {
  const query = findPrebuiltQuery(name);
  if (!query) throw new UnknownQuery(name);
  const resolved = resolveParams(query, params);
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const statement = query.sql(resolved, { publicBaseUrl: options.publicBaseUrl ?? null });
  // Fetch one row past the cap to know whether there were more. PostgreSQL keeps the inner
  // query's order under a bare outer LIMIT.
  return runReadOnly(db, sql`select * from (${statement}) as capped limit ${maxRows + 1}`, {
    ...options,
    maxRows,
  });
}

/**
 * Runs `query` in a transaction that is READ ONLY from its first statement (a write fails with
 * SQLSTATE 25006) and has a transaction-local `statement_timeout` (a slow query fails with
 * `QueryTimeout`). Keeps the first `maxRows` rows and says whether there were more; it does not
 * limit what PostgreSQL produces, so callers bound the query (as `executeSafeQuery` does).
 *
 * Only ever given SQL built in this module from a prebuilt query, or by tests.
 * The embedded PGlite does not enforce `statement_timeout` (it has no timer signal): there the
 * timeout is accepted and ignored.
 */
export async function runReadOnly(db: Db, query: SQL, options: ReadOnlyOptions = {}): Promise<QueryResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
    throw new RangeError("timeoutMs must be a positive integer");
  if (!Number.isSafeInteger(maxRows) || maxRows < 1)
    throw new RangeError("maxRows must be a positive integer");
  const started = performance.now();
  let result: DriverResult;
  try {
    result = await db.transaction(async (tx) => {
      await tx.execute(sql`set transaction read only`);
      // set_config(…, true) is SET LOCAL with a bindable value: it ends with the transaction.
      await tx.execute(sql`select set_config('statement_timeout', ${String(timeoutMs)}, true)`);
      return (await tx.execute(query)) as unknown as DriverResult;
    });
  } catch (error) {
    if (driverError(error)?.code === PG_QUERY_CANCELED) throw new QueryTimeout(timeoutMs);
    throw error;
  }
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const fields = result.fields ?? Object.keys(result.rows[0] ?? {}).map((name) => ({ name, dataTypeID: 0 }));
  const columns = fields.map((field) => field.name);
  const duplicate = columns.find((column, index) => columns.indexOf(column) !== index);
  // Rows arrive as objects keyed by name, so a repeated name would lose a column.
  if (duplicate) throw new Error(`the query returns the column "${duplicate}" twice; name columns uniquely`);
  const rows = result.rows
    .slice(0, maxRows)
    .map((row) => fields.map((field) => presentValue(row[field.name], field.dataTypeID)));
  return { columns, rows, truncated: result.rows.length > maxRows, ms };
}

/** What both drivers answer `execute` with. */
interface DriverResult {
  rows: Record<string, unknown>[];
  fields?: { name: string; dataTypeID: number }[];
}

/** One value as JSON, the same from `pg` and PGlite (they differ on int8, bytea and timestamp text). */
function presentValue(value: unknown, dataTypeID: number): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (dataTypeID === TYPE_INT8 && typeof value === "string") {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : value;
  }
  if (dataTypeID === TYPE_TIMESTAMPTZ && typeof value === "string") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  return value;
}

const paramsAjv = makeDeclaredAjv(true);
addParamFormats(paramsAjv);
const PARAMS_VALIDATORS = new WeakMap<PrebuiltQuery, ValidateFunction>();

/** The compiled `paramsSchema` of `query`, compiled on first use. */
function paramsValidator(query: PrebuiltQuery): ValidateFunction {
  let validate = PARAMS_VALIDATORS.get(query);
  if (!validate) {
    validate = paramsAjv.compile(paramsSchema(query));
    PARAMS_VALIDATORS.set(query, validate);
  }
  return validate;
}

/**
 * Checks `input` against the query's parameters (`paramsSchema`), strictly: a JSON object with
 * only declared parameters, each of its declared type (no coercion: `"5"` is not an integer), in
 * range and at most 200 characters; a null counts as not given. Returns every declared parameter,
 * defaulted or null when absent, UUIDs and emails lower-cased. Throws `ValidationFailed` listing
 * every problem, each naming `params.<name>`: unknown parameters first, then the first problem of
 * each parameter in declared order.
 */
export function resolveParams(query: PrebuiltQuery, input: unknown): QueryParams {
  const given = input ?? {};
  if (typeof given !== "object" || Array.isArray(given)) {
    throw new ValidationFailed([{ field: "params", message: "must be an object of parameter values" }]);
  }
  const values: Record<string, unknown> = { ...(given as Record<string, unknown>) };
  for (const param of query.params) if (values[param.name] === null) delete values[param.name];
  const validate = paramsValidator(query);
  if (!validate(values)) {
    const order = query.params.map((param) => param.name);
    const rank = (key: string) => order.indexOf(key);
    const firstPerField = new Map<string, string>();
    for (const problem of schemaProblems(validate.errors ?? [], values, Number.POSITIVE_INFINITY)) {
      const key = String(problem.segments[0] ?? "");
      if (!firstPerField.has(key)) firstPerField.set(key, problem.message);
    }
    const keys = [...firstPerField.keys()];
    const unknown = keys.filter((key) => rank(key) < 0);
    const declared = keys.filter((key) => rank(key) >= 0).sort((a, b) => rank(a) - rank(b));
    throw new ValidationFailed(
      [...unknown, ...declared].map((key) => ({
        field: `params.${key.slice(0, 100)}`,
        message: firstPerField.get(key)!,
      })),
    );
  }
  const resolved: Record<string, ParamValue | null> = {};
  for (const param of query.params) {
    const value = Object.hasOwn(values, param.name)
      ? (values[param.name] as ParamValue | undefined)
      : undefined;
    if (value === undefined) resolved[param.name] = param.default ?? null;
    else if (param.type === "uuid" || param.type === "email")
      resolved[param.name] = String(value).toLowerCase();
    else resolved[param.name] = value;
  }
  if (query.requireOneOf) {
    const present = query.requireOneOf.filter((name) => resolved[name] !== null);
    if (present.length !== 1) {
      throw new ValidationFailed([
        { field: "params", message: `give exactly one of ${query.requireOneOf.join(", ")}` },
      ]);
    }
  }
  return resolved;
}

/**
 * Turns an HTML form's fields (all strings) into `executeSafeQuery` params for `name`: blank
 * fields are left out and integer fields are parsed when they are plain decimal integers
 * (anything else is passed on as the string, for `executeSafeQuery` to refuse). Fields that are
 * not parameters are passed on too, to be refused by name.
 */
export function paramsFromForm(
  name: string,
  form: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const query = findPrebuiltQuery(name);
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(form)) {
    if (value.trim() === "") continue;
    const param = query?.params.find((candidate) => candidate.name === key);
    params[key] = param?.type === "integer" && /^-?\d{1,15}$/.test(value.trim()) ? Number(value) : value;
  }
  return params;
}
