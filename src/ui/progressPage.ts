/** `/ui/progress`: the plan modules, their status and the live checks behind it. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { csrfToken } from "../auth/session.ts";
import { readTestReport } from "../contracts/testReport.ts";
import { progressOf } from "../routes/debug/progress.ts";
import { html } from "./html.ts";
import { page, table } from "./layout.ts";

export const progressPage: FastifyPluginAsyncTypebox = async (app) => {
  app.get("/ui/progress", { config: { auth: "admin" }, schema: { hide: true } }, async (request, reply) => {
    const progress = progressOf(app.routeTable);
    const report = readTestReport(app.deps.testReportFile);
    const body = html`<div class="cards">
${(
  [
    ["done", progress.summary.done],
    ["in progress", progress.summary.inProgress],
    ["planned", progress.summary.planned],
    ["flagged", progress.summary.flagged],
  ] as const
).map(
  ([label, value]) =>
    html`<div class="card"><div class="value ${label === "flagged" && value ? "bad" : ""}">${value}</div><div class="label">${label}</div></div>`,
)}
</div>
${progress.invalid.length ? html`<div class="notice bad"><strong>Invalid contract files</strong><ul>${progress.invalid.map((p) => html`<li>${p.file}: ${p.problem}</li>`)}</ul></div>` : ""}
<h2>Modules</h2>
${table(
  ["module", "title", "agent", "status", "endpoints registered", "files present", "check"],
  progress.modules.map((m) => [
    m.module,
    m.title ?? "",
    m.agent,
    m.status,
    `${m.endpoints.filter((e) => e.registered).length}/${m.endpoints.length}`,
    `${m.files.filter((f) => f.exists).length}/${m.files.filter((f) => f.exists !== null).length}`,
    m.flagged
      ? html`<span class="bad">flagged: ${m.problems.join("; ")}</span>`
      : m.problems.length
        ? html`<span class="muted">${m.problems.length} to come</span>`
        : html`<span class="ok">ok</span>`,
  ]),
)}
<h2>Latest test run</h2>
${
  report
    ? html`<p class="${report.success ? "ok" : "bad"}">${report.success ? "passed" : "failed"}: ${report.totals.passed} passed, ${report.totals.failed} failed, ${report.totals.skipped} skipped in ${report.totals.files} files; ${(report.durationMs / 1000).toFixed(1)} s, ${report.when}.</p>
${
  report.failuresByFile.length
    ? table(
        ["file", "failed", "tests"],
        report.failuresByFile.map((f) => [f.file, f.failed, f.tests.join("; ")]),
      )
    : ""
}`
    : html`<p class="muted">No test report yet: <code>npm test</code> writes reports/test-report.json.</p>`
}
<p class="muted">JSON: <a href="/api/debug/progress">/api/debug/progress</a>, <a href="/api/debug/active-agents">/api/debug/active-agents</a>, <a href="/api/debug/test-report">/api/debug/test-report</a>.</p>`;
    return reply.type("text/html; charset=utf-8").send(
      page("Progress", body, {
        csrf: csrfToken(app.deps.signingSecret, request.adminHolder!),
        active: "/ui/progress",
      }),
    );
  });
};
