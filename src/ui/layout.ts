/** The admin area's page frame: navigation, a small stylesheet, readable on a phone. */
import { Html, html, raw } from "./html.ts";

export interface PageOptions {
  /** The CSRF token for this page's forms (absent on the login page). */
  csrf?: string;
  /** The nav entry to highlight. */
  active?: string;
}

export const NAV = [
  ["/ui", "Dashboard"],
  ["/ui/learners", "Learners"],
  ["/ui/lessons", "Lessons"],
  ["/ui/db-terminal", "DB terminal"],
  ["/ui/test-etl-streaming", "Streaming ETL"],
  ["/ui/test-etl-incremental", "Incremental ETL"],
  ["/ui/test-reminders", "Reminders"],
  ["/ui/admin/keys", "xAPI keys"],
  ["/ui/xapi-log", "xAPI log"],
  ["/ui/progress", "Progress"],
] as const;

const STYLE = raw(`
:root { color-scheme: light; --ink: #1d2330; --muted: #5c6577; --line: #dfe3ea; --accent: #2f5bd3; --ok: #1d7a46; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7fa; }
header { background: #1d2330; color: #fff; padding: .5rem 1rem; display: flex; gap: .3rem 1rem; align-items: center; }
header strong { margin-right: .5rem; white-space: nowrap; }
header nav { display: flex; flex-wrap: wrap; gap: .25rem .35rem; align-items: center; flex: 1; }
header a { color: #cdd6f4; text-decoration: none; padding: .15rem .35rem; border-radius: 4px; white-space: nowrap; }
header a.active, header a:hover { background: #34405a; color: #fff; }
header .session { margin-left: auto; display: flex; gap: .3rem; }
header .session button { padding: .2rem .45rem; font-size: .85rem; }
header > nav a { font-size: .95rem; padding: .15rem .3rem; }
header details { display: none; }
header summary { cursor: pointer; list-style: none; padding: .3rem .6rem; border: 1px solid #4a5670; border-radius: 6px; white-space: nowrap; }
header summary::-webkit-details-marker { display: none; }
header details[open] summary { background: #34405a; }
header details nav { position: absolute; left: 0; right: 0; top: 100%; z-index: 10; background: #1d2330; padding: .5rem 1rem .8rem; display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .3rem; box-shadow: 0 6px 12px rgb(0 0 0 / .25); }
header details nav a { padding: .45rem .5rem; }
header .menu-session { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .3rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .75rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.card .value { font-size: 1.5rem; font-weight: 600; }
.card .label { color: var(--muted); font-size: .85rem; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f2f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
form.inline { display: inline; }
label { display: block; margin: .5rem 0 .2rem; font-weight: 600; font-size: .9rem; }
input, select, button, textarea { font: inherit; padding: .4rem .55rem; border: 1px solid #b9c0cc; border-radius: 6px; max-width: 100%; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.ok { color: var(--ok); } .bad { color: var(--bad); } .muted { color: var(--muted); }
.notice { padding: .6rem .8rem; border-radius: 6px; background: #eef3ff; border: 1px solid #c9d6fb; margin-bottom: 1rem; }
.notice.bad { background: #fdecea; border-color: #f5c2bc; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
pre { background: #f0f2f6; padding: .6rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.steps li { margin: .3rem 0; }
.bars { display: grid; gap: .45rem; margin-top: .8rem; }
.bar-row { display: grid; grid-template-columns: minmax(8rem, 16rem) 1fr 8.5rem; gap: .6rem; align-items: center; font-size: .9rem; }
.bar-label { overflow-wrap: anywhere; }
.bar-track { display: block; height: 1.1rem; background: #eef1f6; border-radius: 3px; overflow: hidden; }
.bar-fill { display: block; height: 100%; background: var(--accent); }
.bar-value { font-variant-numeric: tabular-nums; white-space: nowrap; }
.records { display: grid; gap: .6rem; }
.record { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem; }
.record dl { margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: .15rem 1rem; }
.record dl div { display: grid; grid-template-columns: 8.5rem 1fr; gap: .5rem; border-bottom: 1px dotted var(--line); padding: .15rem 0; font-size: .9rem; }
.record dt { color: var(--muted); } .record dd { margin: 0; overflow-wrap: anywhere; }
.field-error { display: block; color: var(--bad); font-size: .85rem; margin: .15rem 0 0; }
input[aria-invalid="true"], select[aria-invalid="true"] { border-color: var(--bad); }
.form-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0 1rem; }
.form-grid input, .form-grid select { width: 100%; }
.actions { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
td.completion { min-width: 10rem; } td.completion .rate { display: block; } td.completion .bar-track { margin: .3rem 0 .1rem; }
label.check { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
.pager { display: flex; gap: 1rem; align-items: center; margin: .6rem 0; }
@media (max-width: 48rem) {
  header { position: relative; padding: .45rem .75rem; }
  header > nav, header > .session { display: none; }
  header details { display: block; margin-left: auto; }
  main { padding: .6rem; }
  .card .value { font-size: 1.25rem; }
  .bar-row { grid-template-columns: 1fr 6.5rem; gap: .15rem .6rem; }
  .bar-label { grid-column: 1 / -1; }
  table.stack thead { display: none; }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .35rem 0; }
  table.stack td { display: grid; grid-template-columns: 6.5rem 1fr; gap: .5rem; border: 0; padding: .15rem .5rem; }
  table.stack td::before { content: attr(data-label); color: var(--muted); }
  table.stack td.actions { display: flex; gap: 1.5rem; padding-top: .3rem; }
  table.stack td.actions::before { content: none; }
}
fieldset { border: 1px solid var(--line); border-radius: 6px; } fieldset label { font-weight: normal; }
.card a.value { color: inherit; text-decoration: none; display: block; }
.card a.value.bad { color: var(--bad); }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .25rem 1rem; align-items: start; }
.filters input, .filters select { width: 100%; }
.filter-actions { align-self: end; padding: .4rem 0; }
ol.entries { list-style: none; padding: 0; margin: 0; }
.entry { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .75rem; margin-bottom: .75rem; overflow-wrap: anywhere; }
.entry-head { display: flex; flex-wrap: wrap; gap: .25rem .6rem; align-items: baseline; }
.entry-head time { color: var(--muted); font-size: .85rem; margin-left: auto; }
.status { font-weight: 700; padding: 0 .4rem; border-radius: 4px; color: #fff; background: var(--bad); }
.status.s4 { background: #b54708; }
.entry-request { margin: .35rem 0; }
.entry-message { margin: .35rem 0; }
.entry-facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: .35rem 0; font-size: .9rem; }
.entry-facts dt { color: var(--muted); }
.entry-facts dd { margin: 0; min-width: 0; }
details summary { cursor: pointer; color: var(--accent); }
ul.checks { list-style: none; padding: 0; margin: .35rem 0; font-size: .9rem; }
ul.checks .mark { display: inline-block; width: 1.1rem; font-weight: 700; }
.check.pass .mark { color: var(--ok); } .check.fail .mark, .check.fail { color: var(--bad); } .check.unknown .mark { color: var(--muted); }
.state { font-weight: 600; font-size: .9rem; }
`);

export function page(title: string, body: Html, options: PageOptions = {}): string {
  const links = () =>
    html`${NAV.map(
      ([href, label]) =>
        html`<a href="${href}" class="${options.active === href ? "active" : ""}"${options.active === href ? html` aria-current="page"` : ""}>${label}</a>`,
    )}<a href="/docs">API docs</a>`;
  const session = (csrf: string) =>
    html`<form method="post" action="/ui/logout" class="inline">
          <input type="hidden" name="_csrf" value="${csrf}"><button class="secondary" type="submit">Log out</button>
        </form>
        <form method="post" action="/ui/logout-everywhere" class="inline">
          <input type="hidden" name="_csrf" value="${csrf}"><button class="secondary" type="submit" title="End every admin session, in every browser">Log out everywhere</button>
        </form>`;
  const current = NAV.find(([href]) => href === options.active)?.[1];
  // Wide screens show the links in one row; narrow ones fold them (and the session buttons) into
  // a <details> menu, which opens without script and has room for any number of links.
  const nav = options.csrf
    ? html`<nav aria-label="admin area">${links()}</nav>
<div class="session">${session(options.csrf)}</div>
<details><summary>☰ Menu${current ? html` · ${current}` : ""}</summary><nav aria-label="admin area (menu)">${links()}<div class="menu-session">${session(options.csrf)}</div></nav></details>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>${title} · cohort-lrs</title><style>${STYLE}</style></head>
<body><header><strong>cohort-lrs</strong>${nav}</header>
<main><h1>${title}</h1>${body}</main></body></html>`.value;
}

/** One cell's content: a dash for null, ISO instants, JSON for objects; markup passes through. */
function cell(value: unknown): Html | string {
  return value === null || value === undefined
    ? html`<span class="muted">—</span>`
    : value instanceof Html
      ? value
      : value instanceof Date
        ? value.toISOString()
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
}

/**
 * A table from column names and rows of cells. `headers`, when given, are what the header row
 * shows for each column (the column name stays in its `title`).
 */
export function table(
  columns: string[],
  rows: unknown[][],
  options: { numeric?: string[]; headers?: string[] } = {},
): Html {
  const numeric = new Set(options.numeric ?? []);
  return html`<div class="scroll"><table><thead><tr>${columns.map((c, i) =>
    options.headers ? html`<th title="${c}">${options.headers[i] ?? c}</th>` : html`<th>${c}</th>`,
  )}</tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="${columns.length}" class="muted">nothing yet</td></tr>` : ""}${rows.map(
    (row) =>
      html`<tr>${row.map((value, i) => html`<td class="${numeric.has(columns[i]!) ? "num" : ""}">${cell(value)}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

/**
 * Rows too wide for a table, one card per row: each column as a label and its value, laid out in
 * as many columns as the screen holds, so nothing is hidden past the right edge.
 */
export function records(columns: string[], rows: unknown[][], headers: string[] = columns): Html {
  if (rows.length === 0) return html`<p class="muted">nothing yet</p>`;
  return html`<div class="records">${rows.map(
    (row) =>
      html`<div class="record"><dl>${columns.map(
        (column, i) =>
          html`<div><dt title="${column}">${headers[i] ?? column}</dt><dd>${cell(row[i])}</dd></div>`,
      )}</dl></div>`,
  )}</div>`;
}

export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

/**
 * A form field's problem, shown right under it and tied to it for screen readers (`describedBy`):
 * every form of the admin area shows a refused value's message this way.
 */
export function fieldError(id: string, message: string | undefined): Html {
  return message ? html`<p class="field-error" id="${id}-error">${message}</p>` : html``;
}

/** The attributes that mark field `id` invalid and point at its `fieldError`, when there is a message. */
export function describedBy(id: string, message: string | undefined): Html {
  return message ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}
