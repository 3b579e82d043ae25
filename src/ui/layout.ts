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
header { background: #1d2330; color: #fff; padding: .6rem 1rem; display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: center; }
header strong { margin-right: .5rem; }
header a { color: #cdd6f4; text-decoration: none; padding: .15rem .35rem; border-radius: 4px; }
header a.active, header a:hover { background: #34405a; color: #fff; }
header form { margin-left: auto; }
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
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
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
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.card a.value { color: inherit; text-decoration: none; display: block; }
.card a.value.bad { color: var(--bad); }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .25rem 1rem; align-items: start; }
.filters input, .filters select { width: 100%; }
.filter-actions { align-self: end; padding: .4rem 0; }
.field-error { display: block; color: var(--bad); font-size: .85rem; margin-top: .2rem; }
[aria-invalid="true"] { border-color: var(--bad); }
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
.pager { display: flex; gap: 1rem; align-items: center; justify-content: center; margin: 1rem 0; }
@media (max-width: 40rem) { main { padding: .6rem; } .card .value { font-size: 1.25rem; } }
`);

export function page(title: string, body: Html, options: PageOptions = {}): string {
  const nav = options.csrf
    ? html`${NAV.map(([href, label]) => html`<a href="${href}" class="${options.active === href ? "active" : ""}">${label}</a>`)}
        <a href="/docs">API docs</a>
        <form method="post" action="/ui/logout" class="inline">
          <input type="hidden" name="_csrf" value="${options.csrf}"><button class="secondary" type="submit">Log out</button>
        </form>
        <form method="post" action="/ui/logout-everywhere" class="inline">
          <input type="hidden" name="_csrf" value="${options.csrf}"><button class="secondary" type="submit" title="End every admin session, in every browser">Log out everywhere</button>
        </form>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · cohort-lrs</title><style>${STYLE}</style></head>
<body><header><strong>cohort-lrs</strong>${nav}</header>
<main><h1>${title}</h1>${body}</main></body></html>`.value;
}

/** A table from column names and rows of cells. */
export function table(columns: string[], rows: unknown[][], options: { numeric?: string[] } = {}): Html {
  const numeric = new Set(options.numeric ?? []);
  const cell = (value: unknown) =>
    value === null || value === undefined
      ? html`<span class="muted">—</span>`
      : value instanceof Html
        ? value
        : value instanceof Date
          ? value.toISOString()
          : typeof value === "object"
            ? JSON.stringify(value)
            : String(value);
  return html`<div class="scroll"><table><thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="${columns.length}" class="muted">nothing yet</td></tr>` : ""}${rows.map(
    (row) =>
      html`<tr>${row.map((value, i) => html`<td class="${numeric.has(columns[i]!) ? "num" : ""}">${cell(value)}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}
