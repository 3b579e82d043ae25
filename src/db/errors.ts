/**
 * Database errors carry no query parameters, wherever they go (logs, task_status, pages).
 *
 * Drizzle wraps every failed query in a `DrizzleQueryError` whose message lists the parameters
 * (`params: <name>,<key>,<scrypt hash>…`) and which keeps them in `params`; the driver's error
 * under it has a `detail` with the row or key values (`Failing row contains (…)`, `Key (key)=(…)`)
 * and, for bad input, ends its message with the value (`invalid input syntax for type uuid: "…"`).
 * A failed insert of a new credential logged its key and secret hash that way.
 *
 * The parameters are dropped where the error is made, once for the process: assigning `params`
 * and `cause` (which Drizzle's constructor does after setting `query`, before capturing the stack)
 * goes through the setters below, which keep the SQL text (placeholders only), SQLSTATE code,
 * constraint, table and column, and throw the values away. Nothing downstream can leak what no
 * error holds.
 */
import { DrizzleQueryError } from "drizzle-orm/errors";

/** A message's trailing quoted value (`…: "the value"`) replaced by `"…"`. */
export function withoutTrailingValue(message: string): string {
  return message.replace(/: ".*"$/s, ': "…"');
}

const VALUE_FIELDS = ["detail", "where", "internalQuery", "params", "queryOptions"] as const;

/** Removes the values a driver error (pg or PGlite) carries; leaves code, constraint, table and column. */
export function scrubDriverError(error: unknown): void {
  if (!(error instanceof Error)) return;
  // `detail`/`where`/`internalQuery` from PostgreSQL; PGlite also hangs the query's `params` on its errors.
  const fields = error as Error & Partial<Record<(typeof VALUE_FIELDS)[number], unknown>>;
  for (const name of VALUE_FIELDS) {
    if (name in fields) fields[name] = undefined;
  }
  error.message = withoutTrailingValue(error.message);
  if (error.stack) error.stack = error.stack.replace(/^.*$/m, (line) => withoutTrailingValue(line));
}

let installed = false;

/** Makes every `DrizzleQueryError` from now on parameter-free (idempotent). */
export function installParameterFreeQueryErrors(): void {
  if (installed) return;
  installed = true;
  const proto = DrizzleQueryError.prototype as DrizzleQueryError & object;
  Object.defineProperty(proto, "params", {
    configurable: true,
    get: () => [],
    set(this: DrizzleQueryError) {
      Object.defineProperty(this, "message", {
        value: `Failed query: ${this.query}`,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    },
  });
  Object.defineProperty(proto, "cause", {
    configurable: true,
    set(this: DrizzleQueryError, cause: unknown) {
      scrubDriverError(cause);
      Object.defineProperty(this, "cause", {
        value: cause,
        writable: true,
        configurable: true,
        enumerable: true,
      });
    },
  });
}
