/** `/ui`: the operator's morning view. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import { completionRates, dashboard } from "../data/dashboard.ts";
import { countXapiFailuresSince } from "../data/xapiFailedRequests.ts";
import { barChart } from "./chart.ts";
import { html } from "./html.ts";
import { page, table } from "./layout.ts";

const fmt = (n: number | null | undefined) =>
  n === null || n === undefined ? "—" : n.toLocaleString("en-US");

export const dashboardPage: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/ui",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        querystring: Type.Object({ cohortId: Type.Optional(Type.String({ maxLength: 64 })) }),
      },
    },
    async (request, reply) => {
      const { database, redis, config, signingSecret } = app.deps;
      await app.xapiFailureLog.flush();
      const [data, refused] = await Promise.all([
        dashboard(database.db, redis),
        countXapiFailuresSince(database.db, new Date(Date.now() - 86_400_000)),
      ]);
      const cohortId =
        request.query.cohortId && data.cohorts.includes(request.query.cohortId)
          ? request.query.cohortId
          : data.cohorts[0];
      const rates = cohortId ? await completionRates(database.db, cohortId, config.publicBaseUrl) : [];
      const { etl } = data;
      const cards: [string, string][] = [
        ["learners", fmt(data.counts.learners)],
        ["lessons", fmt(data.counts.lessons)],
        ["statements stored", fmt(data.counts.statementsRaw)],
        ["statements flattened", fmt(data.counts.statementsFlat)],
        ["waiting to be flattened", fmt(etl.unflattenedCount)],
        ["ingest /s (5 min)", data.ingest.perSecondLast5m.toFixed(2)],
        ["stored in the last hour", fmt(data.ingest.lastHour)],
        ["stream pending", redis ? fmt(etl.streamPending) : "no Redis"],
        ["stream lag", redis ? fmt(etl.streamLag) : "no Redis"],
      ];
      const body = html`
<div class="cards">${cards.map(([label, value]) => html`<div class="card"><div class="value">${value}</div><div class="label">${label}</div></div>`)}
<div class="card" id="xapi-refused"><a class="value ${refused ? "bad" : ""}" href="/ui/xapi-log?from=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 19)}">${fmt(refused)}</a><div class="label"><a href="/ui/xapi-log">xAPI requests refused (24 h)</a></div></div></div>
<p class="muted">ETL mode ${config.etlMode}; newest flattened statement stored ${etl.lastFlattenedStored?.toISOString() ?? "—"}.</p>

<h2>Completion rate per lesson</h2>
<div class="panel">
  <form method="get" action="/ui">
    <label for="cohortId">Cohort</label>
    <select id="cohortId" name="cohortId">${data.cohorts.map((c) => html`<option value="${c}" ${c === cohortId ? html`selected` : ""}>${c}</option>`)}</select>
    <button type="submit" class="secondary">Show</button>
    ${cohortId ? html`<a href="/api/reports/cohorts/${encodeURIComponent(cohortId)}/completions?format=csv">Download the cohort's completions (CSV)</a>` : ""}
  </form>
  ${
    rates.length
      ? barChart(
          rates.map((r) => ({
            label: `${r.lessonDate} ${r.title}`,
            value: r.learners ? r.completed / r.learners : 0,
            note: `(${r.completed}/${r.learners})`,
            href: `/ui/lessons/${r.lessonId}/edit`,
          })),
        )
      : html`<p class="muted">No lessons${cohortId ? html` in ${cohortId}` : ""} yet.</p>`
  }
</div>

<h2>Recent task runs</h2>
${table(
  ["task", "status", "attempt", "started", "finished", "error"],
  data.taskRuns.map((run) => [
    run.task_name,
    run.status,
    run.attempt,
    run.started_at,
    run.finished_at,
    run.error,
  ]),
)}`;
      return reply
        .type("text/html; charset=utf-8")
        .send(
          page("Dashboard", body, { csrf: csrfToken(signingSecret, request.adminHolder!), active: "/ui" }),
        );
    },
  );
};
