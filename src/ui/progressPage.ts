/**
 * `/ui/progress`: what each part of cohort-lrs does, in plain words, and whether this running
 * service shows that it works: its routes, its files, its tables, the latest test run and the
 * latest recorded conformance run (contracts/evidence.ts). No status here is asserted by hand.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { csrfToken } from "../auth/session.ts";
import type { EvidenceState } from "../contracts/evidence.ts";
import { progressOf } from "../contracts/progress.ts";
import { readTestReport } from "../contracts/testReport.ts";
import { html } from "./html.ts";
import { page, table } from "./layout.ts";

const STATE_WORDS: Record<EvidenceState, { label: string; className: string }> = {
  working: { label: "Working", className: "ok" },
  needs_attention: { label: "Needs attention", className: "bad" },
  not_verified: { label: "Not verified yet", className: "muted" },
};

const CHECK_MARK = { pass: "✓", fail: "✗", unknown: "?" } as const;
const CHECK_WORDS = {
  routes: "Routes",
  files: "Files",
  tables: "Tables",
  tests: "Tests",
  conformance: "Conformance suite",
} as const;
const DECLARED = { planned: "planned", in_progress: "in progress", done: "done" } as const;

export const progressPage: FastifyPluginAsyncTypebox = async (app) => {
  app.get("/ui/progress", { config: { auth: "admin" }, schema: { hide: true } }, async (request, reply) => {
    const progress = await progressOf(app.routeTable, app.deps.database.db, {
      testReportFile: app.deps.testReportFile,
      conformanceFile: app.deps.conformanceFile,
    });
    let report: ReturnType<typeof readTestReport>;
    try {
      report = readTestReport(app.deps.testReportFile);
    } catch {
      report = undefined;
    }
    const { summary, conformance } = progress;
    const body = html`<p>What each part of cohort-lrs does, and whether this running service shows that it works.
Every status comes from checks made as this page loads: the part's routes are served, its files and database tables exist,
its tests passed in the latest test run, and, for statement storage, the latest recorded run of the ADL conformance suite.</p>
<div class="cards">
${(
  [
    ["working", summary.working, "working"],
    ["needs_attention", summary.needsAttention, "needs attention"],
    ["not_verified", summary.notVerified, "not verified yet"],
  ] as const
).map(
  ([state, value, label]) =>
    html`<div class="card"><div class="value ${value && state !== "working" ? STATE_WORDS[state].className : value ? "ok" : ""}">${value}</div><div class="label">${label}</div></div>`,
)}
</div>
<p class="muted">Latest test run: ${
      progress.testRun
        ? html`<span class="${progress.testRun.success ? "ok" : "bad"}">${progress.testRun.success ? "passed" : "failed"}</span>, ${progress.testRun.when}`
        : "none yet (npm test writes reports/test-report.json)"
    }. Conformance suite: ${
      conformance
        ? `run ${conformance.when}`
        : progress.conformanceProblem
          ? html`<span class="bad">reports/conformance.json cannot be read: ${progress.conformanceProblem}</span>`
          : "no run recorded (see the README, “Conformance”, to record one in reports/conformance.json)"
    }.</p>
${progress.invalid.length ? html`<div class="notice bad"><strong>Contract files that cannot be read</strong><ul>${progress.invalid.map((p) => html`<li>${p.file}: ${p.problem}</li>`)}</ul></div>` : ""}
<ol class="entries modules">${progress.modules.map(
      (m) => html`<li class="entry module" id="module-${m.module}">
<div class="entry-head"><strong>${m.name}</strong> <span class="state ${STATE_WORDS[m.state].className}">${STATE_WORDS[m.state].label}</span></div>
<p class="entry-message">${m.description}</p>
<ul class="checks">${m.checks.map(
        (c) =>
          html`<li class="check ${c.status}"><span class="mark">${CHECK_MARK[c.status]}</span> <strong>${CHECK_WORDS[c.kind]}</strong>: ${c.summary}</li>`,
      )}</ul>
<p class="muted">Plan module ${m.module}; its contract says ${DECLARED[m.status]}.${m.flagged ? html` <span class="bad">Declared done, but a check fails.</span>` : ""}</p>
</li>`,
    )}</ol>
${
  report?.failuresByFile.length
    ? html`<h2>Failing tests in the latest run</h2>${table(
        ["file", "failed", "tests"],
        report.failuresByFile.map((f) => [f.file, f.failed, f.tests.join("; ")]),
      )}`
    : ""
}
<p class="muted">JSON: <a href="/api/debug/progress">/api/debug/progress</a>, <a href="/api/debug/test-report">/api/debug/test-report</a>.</p>`;
    return reply.type("text/html; charset=utf-8").send(
      page("Progress", body, {
        csrf: csrfToken(app.deps.signingSecret, request.adminHolder!),
        active: "/ui/progress",
      }),
    );
  });
};
