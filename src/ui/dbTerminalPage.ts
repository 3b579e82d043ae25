/**
 * `/ui/db-terminal`: pick a prebuilt read-only query, fill its parameters, see a table, download
 * it as CSV. Running a query changes nothing, so it is a GET (shareable links, no CSRF needed);
 * there is no way to send SQL. With SQLPAD_URL set, the page also embeds that SQLPad/Superset.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import { type QueryDefaults, queryDefaults } from "../data/queryDefaults.ts";
import { executeSafeQuery, paramsFromForm, type QueryResult } from "../dbTerminal/executeSafeQuery.ts";
import { getQueryDescriptors, type QueryDescriptor } from "../dbTerminal/vettedQueries.ts";
import { AppError } from "../errors.ts";
import { withoutCredentials } from "../maskUrl.ts";
import { csvLine } from "../reports/csv.ts";
import { type Html, html } from "./html.ts";
import { describedBy, fieldError, page, records, table } from "./layout.ts";

const Query = Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }));
const PARAM_PREFIX = "p.";

/** The `p.<name>` fields of the query string, as the form sent them. */
function formParams(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([key]) => key.startsWith(PARAM_PREFIX))
      .map(([key, value]) => [key.slice(PARAM_PREFIX.length), value]),
  );
}

/** Column names read aloud: `is_completion` → "Completion?", `user_id` → "Learner id". */
const HEADERS: Record<string, string> = {
  id: "Id",
  statement_id: "Statement id",
  user_id: "Learner id",
  lesson_id: "Lesson id",
  run_id: "Run id",
  verb_id: "Verb",
  object_id: "Object (activity id)",
  object_name: "Object name",
  is_completion: "Completion?",
  voided: "Voided?",
  flattened: "Flattened?",
  result_completion: "Result: completion",
  result_success: "Result: success",
  result_score_scaled: "Score (scaled)",
  actor_mbox: "Actor mailbox",
  actor_account_homepage: "Actor account home page",
  actor_account_name: "Actor account name",
  flattened_at: "Flattened at",
  created_at: "Created at",
  attempted_at: "Attempt started at",
  data_sent_at: "Message handed over at",
  sent_at: "Sent at",
  started_at: "Started at",
  finished_at: "Finished at",
  duration_ms: "Took (ms)",
  reminders_enabled: "Reminders on?",
  lesson_title: "Lesson",
  lesson_date: "Due on",
  cohort_id: "Cohort",
  task_name: "Task",
  raw_count: "Raw statements",
  flat_count: "Flat rows",
  unflattened_count: "Not yet flattened",
  oldest_unflattened_stored: "Oldest unflattened, stored at",
  newest_raw_stored: "Newest raw, stored at",
  newest_flat_stored: "Newest flat row, stored at",
  newest_flattened_at: "Newest flattened at",
};

/** A column's header: a known name's words, else the name with its underscores as spaces, capitalised. */
export function friendlyHeader(column: string): string {
  const known = HEADERS[column];
  if (known) return known;
  const words = column.replace(/_/g, " ").trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : column;
}

/** Results with more columns than this are shown one card per row rather than as a table. */
export const MAX_TABLE_COLUMNS = 7;

/**
 * What a parameter's field starts with on a fresh form: its default, else a value that makes the
 * query run at once (today for a required date, a cohort and a learner that exist).
 */
function startValue(
  query: QueryDescriptor,
  param: QueryDescriptor["params"][number],
  defaults: QueryDefaults,
): string | undefined {
  if (param.default !== undefined) return String(param.default);
  if (param.required && param.type === "date") return defaults.today;
  if (param.required && param.name === "cohortId") return defaults.cohortId;
  if (param.name === "email" && query.requireOneOf?.includes("email")) return defaults.email;
  return undefined;
}

/** A parameter's field, with the message about its value (if any) right below it. */
function paramInput(
  param: QueryDescriptor["params"][number],
  value: string | undefined,
  problem?: string,
): Html {
  const id = `${PARAM_PREFIX}${param.name}`;
  const label = html`<label for="${id}">${param.name}${param.required ? " *" : ""} <span class="muted">${param.description}</span></label>`;
  const invalid = describedBy(id, problem);
  const message = fieldError(id, problem);
  if (param.type === "enum") {
    return html`${label}<select id="${id}" name="${id}"${invalid}><option value="">${param.required ? "choose" : "any"}</option>${(
      param.values ?? []
    ).map(
      (option) =>
        html`<option value="${option}" ${option === value ? html`selected` : ""}>${option}</option>`,
    )}</select>${message}`;
  }
  const type =
    param.type === "integer"
      ? "number"
      : param.type === "date"
        ? "date"
        : param.type === "email"
          ? "email"
          : "text";
  return html`${label}<input id="${id}" name="${id}" type="${type}" value="${value ?? ""}"
    ${param.min !== undefined ? html`min="${param.min}"` : ""} ${param.max !== undefined ? html`max="${param.max}"` : ""} maxlength="${param.maxLength ?? 200}" size="36"${invalid}>${message}`;
}

/** A result as a table, or one card per row when it has too many columns to fit a screen. */
function resultView(output: QueryResult): Html {
  const headers = output.columns.map(friendlyHeader);
  return output.columns.length > MAX_TABLE_COLUMNS
    ? records(output.columns, output.rows, headers)
    : table(output.columns, output.rows, { headers });
}

export const dbTerminalPage: FastifyPluginAsyncTypebox = async (app) => {
  const run = (name: string, form: Record<string, string>) =>
    executeSafeQuery(app.deps.database.db, name, paramsFromForm(name, form), {
      publicBaseUrl: app.deps.config.publicBaseUrl,
    });

  app.get(
    "/ui/db-terminal",
    { config: { auth: "admin" }, schema: { hide: true, querystring: Query } },
    async (request, reply) => {
      const { config, signingSecret } = app.deps;
      const queries = getQueryDescriptors();
      const chosen = queries.find((query) => query.name === request.query.name) ?? queries[0]!;
      const values = formParams(request.query);
      // A fresh form (not one sent back) starts with values that let every query run at once.
      const fresh = !request.query.run && Object.keys(values).length === 0;
      const defaults = fresh ? await queryDefaults(app.deps.database.db) : undefined;
      let result: Html = html``;
      /** Messages about one parameter (`params.<name>`), shown next to its field. */
      const problems = new Map<string, string>();
      if (request.query.run) {
        try {
          const output: QueryResult = await run(chosen.name, values);
          const csvLink = new URLSearchParams({
            name: chosen.name,
            ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`${PARAM_PREFIX}${k}`, v])),
          });
          result = html`<p class="muted">${output.rows.length} row(s) in ${output.ms.toFixed(0)} ms${output.truncated ? html` <strong>(truncated: refine the parameters)</strong>` : ""}.
          <a href="/ui/db-terminal.csv?${csvLink.toString()}">Download CSV</a></p>${resultView(output)}`;
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          for (const detail of error.details ?? []) {
            const name = detail.field.startsWith("params.")
              ? detail.field.slice("params.".length)
              : undefined;
            if (name) problems.set(name, [problems.get(name), detail.message].filter(Boolean).join("; "));
          }
          result = html`<div class="notice bad"><strong>${error.message}</strong>${
            error.details?.length
              ? html`<ul>${error.details.map((detail) => html`<li>${detail.field}: ${detail.message}</li>`)}</ul>`
              : ""
          }</div>`;
        }
      }
      const body = html`<div class="panel">
<form method="get" action="/ui/db-terminal">
  <label for="name">Query</label>
  <select id="name" name="name">${queries.map((query) => html`<option value="${query.name}" ${query.name === chosen.name ? html`selected` : ""}>${query.title}</option>`)}</select>
  <button type="submit" class="secondary">Choose</button>
</form>
<form method="get" action="/ui/db-terminal">
  <input type="hidden" name="name" value="${chosen.name}"><input type="hidden" name="run" value="1">
  <p>${chosen.description}</p>
  ${chosen.params.map((param) =>
    paramInput(
      param,
      defaults
        ? startValue(chosen, param, defaults)
        : (values[param.name] ?? (param.default === undefined ? undefined : String(param.default))),
      problems.get(param.name),
    ),
  )}
  <p><button type="submit">Run</button></p>
</form></div>
<p class="muted">Only these named, read-only queries run here: each in a read-only transaction with a 5 s statement timeout and at most 1,000 rows. There is no free-form SQL.</p>
${result}
${
  config.sqlpadUrl
    ? html`<h2>SQLPad</h2><p class="notice">This SQLPad/Superset must connect with a <strong>read-only</strong> database role (the compose file creates one): anything it can run, its users can run.</p>
<iframe src="${withoutCredentials(config.sqlpadUrl)}" title="SQLPad" style="width: 100%; height: 36rem; border: 1px solid #dfe3ea; border-radius: 8px"></iframe>`
    : ""
}`;
      return reply.type("text/html; charset=utf-8").send(
        page("DB terminal", body, {
          csrf: csrfToken(signingSecret, request.adminHolder!),
          active: "/ui/db-terminal",
        }),
      );
    },
  );

  app.get(
    "/ui/db-terminal.csv",
    { config: { auth: "admin" }, schema: { hide: true, querystring: Query } },
    async (request, reply) => {
      const name = request.query.name ?? "";
      const output = await run(name, formParams(request.query));
      const lines = [
        csvLine(output.columns),
        ...output.rows.map((row) =>
          csvLine(
            row.map((cell) =>
              cell === null || typeof cell !== "object"
                ? (cell as string | number | boolean | null)
                : JSON.stringify(cell),
            ),
          ),
        ),
      ];
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${name.replace(/[^\w-]/g, "_")}.csv"`)
        .send(lines.join(""));
    },
  );
};
