/**
 * `/ui/xapi-log`: the xAPI requests the LRS refused, newest first, with filters (status,
 * credential, route, error code, time range) and pages. What a content author's
 * misconfiguration looks like from the server: a wrong key, a missing version header, an invalid
 * statement. Each entry is a card, so the page reads on a phone; the body is behind a
 * `<details>` (no script).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import {
  listXapiFailures,
  type XapiFailureFilters,
  type XapiFailureRow,
  xapiFailureChoices,
} from "../data/xapiFailedRequests.ts";
import { ValidationFailed } from "../errors.ts";
import { xapiFailureFilters } from "../routes/debug/xapiFailures.ts";
import { type Html, html } from "./html.ts";
import { describedBy, fieldError, page } from "./layout.ts";

const PAGE_SIZE = 25;
const FIELDS = ["status", "errorCode", "credential", "route", "from", "to"] as const;
type Field = (typeof FIELDS)[number];
const LIMITS: Record<Field, number> = {
  status: 3,
  errorCode: 100,
  credential: 200,
  route: 512,
  from: 32,
  to: 32,
};
const STATUS = /^([45]xx|[1-5][0-9][0-9])$/;
const TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const PageQuery = Type.Object({
  ...Object.fromEntries(FIELDS.map((field) => [field, Type.Optional(Type.String({ maxLength: 1000 }))])),
  page: Type.Optional(Type.String({ maxLength: 12 })),
});

/** The filters of a page request, or the message for each field that is wrong. */
function readFilters(values: Partial<Record<Field, string>>): {
  filters: XapiFailureFilters;
  problems: Partial<Record<Field, string>>;
} {
  const problems: Partial<Record<Field, string>> = {};
  for (const field of FIELDS) {
    const value = values[field];
    if (value !== undefined && value.length > LIMITS[field]) {
      problems[field] = `at most ${LIMITS[field]} characters`;
    }
  }
  if (values.status && !problems.status && !STATUS.test(values.status)) {
    problems.status = "a status such as 401, or 4xx or 5xx";
  }
  for (const field of ["from", "to"] as const) {
    if (values[field] && !problems[field] && !TIME.test(values[field]!)) {
      problems[field] = "a date (2026-03-02) or date-time (2026-03-02T18:00), UTC";
    }
  }
  // The calendar check of the dates, on the fields whose form is right.
  const wellFormed = Object.fromEntries(
    Object.entries(values).filter(([field]) => !problems[field as Field]),
  );
  try {
    const filters = xapiFailureFilters(wellFormed);
    return { filters: Object.keys(problems).length ? {} : filters, problems };
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    for (const detail of error.details ?? []) problems[detail.field as Field] = detail.message;
    return { filters: {}, problems };
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

function credentialOf(row: XapiFailureRow): Html {
  if (!row.credentialKey) return html`<span class="muted">no credential</span>`;
  const name = row.credentialName ? html` (${row.credentialName})` : "";
  const state =
    row.credentialStatus === "verified"
      ? html`<span class="ok">verified</span>`
      : row.credentialName
        ? html`<span class="bad">not accepted</span>`
        : html`<span class="bad">unknown key</span>`;
  return html`<code>${row.credentialKey}</code>${name} · ${state}`;
}

function entry(row: XapiFailureRow): Html {
  const bytes = row.bodyBytes === null ? "" : ` of ${row.bodyBytes.toLocaleString("en-US")} bytes`;
  return html`<li class="entry">
<div class="entry-head"><span class="status s${String(row.status)[0]}">${row.status}</span>
<strong>${row.errorCode ?? STATUS_TEXT[row.status] ?? ""}</strong>
<time datetime="${row.at.toISOString()}">${row.at.toISOString().replace("T", " ").slice(0, 19)} UTC</time></div>
<div class="entry-request"><code>${row.method} ${row.path}${row.query ? `?${row.query}` : ""}</code></div>
${row.message ? html`<p class="entry-message">${row.message}</p>` : ""}
<dl class="entry-facts">
<dt>Credential</dt><dd>${credentialOf(row)}</dd>
<dt>Version header</dt><dd>${row.xapiVersion ? html`<code>${row.xapiVersion}</code>` : html`<span class="muted">none</span>`}</dd>
${row.contentType ? html`<dt>Content-Type</dt><dd><code>${row.contentType}</code></dd>` : ""}
<dt>From</dt><dd>${row.clientAddress ?? "—"} <span class="muted">request ${row.requestId ?? "—"}</span></dd>
</dl>
${
  row.body === null
    ? html`<p class="muted">Body not read (refused before it was${row.bodyBytes ? html`; ${row.bodyBytes.toLocaleString("en-US")} bytes sent` : ""}).</p>`
    : row.body === ""
      ? html`<p class="muted">Empty body.</p>`
      : html`<details><summary>Body (${row.bodyBytes !== null && row.bodyBytes <= 1024 ? `${row.bodyBytes} bytes` : `first 1,024 bytes${bytes}`})</summary><pre>${row.body}</pre></details>`
}
</li>`;
}

export const xapiLogPage: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/ui/xapi-log",
    { config: { auth: "admin" }, schema: { hide: true, querystring: PageQuery } },
    async (request, reply) => {
      const { database, signingSecret, config } = app.deps;
      const query = request.query as Partial<Record<Field | "page", string>>;
      const values: Partial<Record<Field, string>> = {};
      for (const field of FIELDS) {
        const value = query[field]?.trim();
        if (value) values[field] = value;
      }
      const pageNumber = /^[1-9][0-9]{0,5}$/.test(query.page ?? "") ? Number(query.page) : 1;
      const { filters, problems } = readFilters(values);
      const invalid = Object.keys(problems).length > 0;
      // Written entries only: what is still queued in this process is flushed first.
      await app.xapiFailureLog.flush();
      const [result, choices] = await Promise.all([
        invalid
          ? Promise.resolve({ total: 0, items: [] })
          : listXapiFailures(database.db, filters, {
              limit: PAGE_SIZE,
              offset: (pageNumber - 1) * PAGE_SIZE,
            }),
        xapiFailureChoices(database.db),
      ]);
      const link = (target: number) => {
        const params = new URLSearchParams(values as Record<string, string>);
        if (target > 1) params.set("page", String(target));
        const search = params.toString();
        return `/ui/xapi-log${search ? `?${search}` : ""}`;
      };
      const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
      const problem = (field: Field) => fieldError(field, problems[field]);
      const aria = (field: Field) => describedBy(field, problems[field]);
      const option = (value: string, label: string, selected: string | undefined) =>
        html`<option value="${value}" ${value === (selected ?? "") ? html`selected` : ""}>${label}</option>`;
      const statusChoices = [
        ["", "any"],
        ["4xx", "any 4xx"],
        ["5xx", "any 5xx"],
        ...choices.statuses.map((s) => [String(s), `${s} ${STATUS_TEXT[s] ?? ""}`.trim()]),
      ];
      if (values.status && !statusChoices.some(([v]) => v === values.status))
        statusChoices.push([values.status, values.status]);
      const codeChoices = [["", "any"], ...choices.errorCodes.map((c) => [c, c])];
      if (values.errorCode && !codeChoices.some(([v]) => v === values.errorCode))
        codeChoices.push([values.errorCode, values.errorCode]);
      const days = Math.round(config.xapiLogMaxAgeMs / 86_400_000);
      const kept =
        days >= 1
          ? `${days} day${days === 1 ? "" : "s"}`
          : `${Math.round(config.xapiLogMaxAgeMs / 60_000)} minutes`;

      const body = html`
<p>Every xAPI request the LRS refused (a 4xx or 5xx answer under <code>/xapi</code>), newest first: a wrong key,
a missing or wrong <code>X-Experience-API-Version</code>, an invalid statement. Kept ${kept}, at most
${config.xapiLogMaxRows.toLocaleString("en-US")} entries. Times are UTC. Secrets are never stored.</p>
<form method="get" action="/ui/xapi-log" class="panel filters">
  <div class="filter"><label for="status">Status</label>
    <select id="status" name="status"${aria("status")}>${statusChoices.map(([v, l]) => option(v!, l!, values.status))}</select>${problem("status")}</div>
  <div class="filter"><label for="errorCode">Error code</label>
    <select id="errorCode" name="errorCode"${aria("errorCode")}>${codeChoices.map(([v, l]) => option(v!, l!, values.errorCode))}</select>${problem("errorCode")}</div>
  <div class="filter"><label for="credential">Credential key</label>
    <input id="credential" name="credential" value="${values.credential ?? ""}" maxlength="200" autocomplete="off"${aria("credential")}>${problem("credential")}</div>
  <div class="filter"><label for="route">Route starts with</label>
    <input id="route" name="route" value="${values.route ?? ""}" placeholder="/xapi/statements" maxlength="512"${aria("route")}>${problem("route")}</div>
  <div class="filter"><label for="from">From (UTC)</label>
    <input id="from" name="from" type="datetime-local" step="1" value="${values.from ?? ""}"${aria("from")}>${problem("from")}</div>
  <div class="filter"><label for="to">Until (UTC)</label>
    <input id="to" name="to" type="datetime-local" step="1" value="${values.to ?? ""}"${aria("to")}>${problem("to")}</div>
  <div class="filter-actions"><button type="submit">Filter</button> <a href="/ui/xapi-log">Clear</a></div>
</form>
${
  invalid
    ? html`<p class="notice bad">Fix the filters marked above; nothing was searched.</p>`
    : html`<p class="result-count"><strong>${result.total.toLocaleString("en-US")}</strong> ${result.total === 1 ? "refused request" : "refused requests"}${Object.keys(values).length ? (result.total === 1 ? " matches" : " match") : " in the log"}.</p>
${
  result.items.length
    ? html`<ol class="entries">${result.items.map(entry)}</ol>`
    : html`<p class="muted">${Object.keys(values).length ? "Nothing matches these filters." : "No xAPI request has been refused."}</p>`
}
${
  pages > 1
    ? html`<nav class="pager">${pageNumber > 1 ? html`<a href="${link(pageNumber - 1)}" rel="prev">← Newer</a>` : ""}
<span>page ${pageNumber} of ${pages}</span>
${pageNumber < pages ? html`<a href="${link(pageNumber + 1)}" rel="next">Older →</a>` : ""}</nav>`
    : ""
}`
}
<p class="muted">JSON for scripts: <a href="/api/debug/xapi-failures">/api/debug/xapi-failures</a> (same filters). Prometheus: <code>cohort_lrs_xapi_failed_requests_total</code>.</p>`;
      return reply
        .code(invalid ? 400 : 200)
        .type("text/html; charset=utf-8")
        .send(
          page("Refused xAPI requests", body, {
            csrf: csrfToken(signingSecret, request.adminHolder!),
            active: "/ui/xapi-log",
          }),
        );
    },
  );
};
