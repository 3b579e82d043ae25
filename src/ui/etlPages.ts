/**
 * `/ui/test-etl-streaming` and `/ui/test-etl-incremental`: try each ETL path end to end and see
 * what it did, step by step.
 */
import { randomUUID } from "node:crypto";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { csrfToken } from "../auth/session.ts";
import { pipelineTestCredential } from "../data/apiCredentials.ts";
import { flatRowWritten, rawStatementStored } from "../data/debug.ts";
import { countUnflattened, getLastProcessed } from "../data/getLastProcessed.ts";
import { findStreamEntry } from "../data/statementStream.ts";
import { recentTaskRuns } from "../data/taskStatus.ts";
import { flattenContext } from "../etl/flattenContext.ts";
import { sweepOnce } from "../etl/sweeper.ts";
import { STATEMENT_STREAM } from "../names.ts";
import { type Html, html } from "./html.ts";
import { csrfField, page, table } from "./layout.ts";

interface Step {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

function stateTable(state: Awaited<ReturnType<typeof getLastProcessed>>): Html {
  return table(
    ["newest flattened (stored)", "flat rows", "waiting to be flattened", "stream pending", "stream length"],
    [
      [
        state.lastFlattenedStored,
        state.flatCount,
        state.unflattenedCount,
        state.streamPending,
        state.streamLength,
      ],
    ],
  );
}

function stepList(steps: Step[]): Html {
  return html`<ol class="steps">${steps.map(
    (
      step,
    ) => html`<li><span class="${step.ok ? "ok" : "bad"}">${step.ok ? "✓" : "✗"}</span> <strong>${step.name}</strong>
      <span class="muted">${step.ms.toFixed(0)} ms</span><br><span>${step.detail}</span></li>`,
  )}</ol>`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const etlPages: FastifyPluginAsyncTypebox = async (app) => {
  const render = async (holder: string, result?: Html) => {
    const { database, redis, config, signingSecret } = app.deps;
    const state = await getLastProcessed(database.db, redis);
    return page(
      "Streaming ETL",
      html`<p>Sends a sample statement through the real pipeline: HTTP → <code>statements_raw</code> →
${config.etlMode === "streaming" ? html`the <code>${STATEMENT_STREAM}</code> stream → the worker` : html`the incremental sweep (ETL_MODE=incremental)`}
→ <code>statements_flat</code>, and times each step. The statement's actor and activity are not a learner or a lesson, so reports are not affected.</p>
<form method="post" action="/ui/test-etl-streaming">${csrfField(csrfToken(signingSecret, holder))}<button type="submit">Send a test statement</button></form>
${result ?? ""}
<h2>Where the ETL stands</h2>${stateTable(state)}`,
      { csrf: csrfToken(signingSecret, holder), active: "/ui/test-etl-streaming" },
    );
  };

  app.get(
    "/ui/test-etl-streaming",
    { config: { auth: "admin" }, schema: { hide: true } },
    async (request, reply) => reply.type("text/html; charset=utf-8").send(await render(request.adminHolder!)),
  );

  app.post(
    "/ui/test-etl-streaming",
    { config: { auth: "admin" }, schema: { hide: true } },
    async (request, reply) => {
      const { database, redis, config, signingSecret } = app.deps;
      const steps: Step[] = [];
      const credential = await pipelineTestCredential(database.db, signingSecret);
      const id = randomUUID();
      const statement = {
        id,
        actor: {
          objectType: "Agent",
          name: "Pipeline test",
          account: { homePage: `${config.publicBaseUrl}/pipeline-test`, name: "admin" },
        },
        verb: { id: "http://adlnet.gov/expapi/verbs/experienced", display: { "en-US": "experienced" } },
        object: {
          id: "https://cohort-lrs.invalid/pipeline-test",
          definition: { name: { "en-US": "Pipeline test" } },
        },
      };
      let started = performance.now();
      const response = await app.inject({
        method: "POST",
        url: "/xapi/statements",
        headers: {
          authorization: `Basic ${Buffer.from(`${credential.key}:${credential.secret}`).toString("base64")}`,
          "x-experience-api-version": "1.0.3",
          "content-type": "application/json",
        },
        payload: JSON.stringify(statement),
      });
      steps.push({
        name: "POST /xapi/statements",
        ok: response.statusCode === 200,
        ms: performance.now() - started,
        detail: `${response.statusCode} ${response.body.slice(0, 200)}${credential.revoked ? " (the pipeline-test credential is revoked: restore it on the keys page)" : ""}`,
      });
      if (response.statusCode === 200) {
        started = performance.now();
        const stored = await rawStatementStored(database.db, id);
        steps.push({
          name: "in statements_raw",
          ok: Boolean(stored),
          ms: performance.now() - started,
          detail: stored ? `stored ${stored}` : "not found",
        });
        if (config.etlMode === "streaming" && redis) {
          started = performance.now();
          const entry = await findStreamEntry(redis, STATEMENT_STREAM, id, 200);
          steps.push({
            name: `in the ${STATEMENT_STREAM} stream`,
            ok: Boolean(entry),
            ms: performance.now() - started,
            detail: entry
              ? `entry ${entry}`
              : "not found among the newest 200 entries (publishing failed? the sweep will flatten it)",
          });
        }
        started = performance.now();
        let flat: string | undefined;
        for (let i = 0; i < 100 && !flat; i++) {
          flat = await flatRowWritten(database.db, id);
          if (!flat) await sleep(50);
        }
        steps.push({
          name: "in statements_flat",
          ok: Boolean(flat),
          ms: performance.now() - started,
          detail: flat
            ? `flattened ${flat}`
            : config.etlMode === "streaming"
              ? "not within 5 s: is a worker running (cohort-lrs worker)?"
              : "not within 5 s: the sweep runs every INCREMENTAL_ETL_INTERVAL in the scheduler",
        });
      }
      const result = html`<h2>Test statement ${id}</h2>${stepList(steps)}`;
      return reply.type("text/html; charset=utf-8").send(await render(request.adminHolder!, result));
    },
  );

  const renderIncremental = async (holder: string, result?: Html) => {
    const { database, signingSecret } = app.deps;
    const [backlog, runs] = await Promise.all([
      countUnflattened(database.db),
      recentTaskRuns(database.db, "incremental-etl", 10),
    ]);
    return page(
      "Incremental ETL",
      html`<div class="cards"><div class="card"><div class="value">${backlog.toLocaleString("en-US")}</div><div class="label">stored statements waiting to be flattened</div></div></div>
<p>The sweep flattens every stored statement that has no flat row yet. It is the whole ETL in incremental mode and the safety net in streaming mode.</p>
<form method="post" action="/ui/test-etl-incremental">${csrfField(csrfToken(signingSecret, holder))}<button type="submit">Run a sweep now</button></form>
${result ?? ""}
<h2>Recent sweeps</h2>
${table(
  ["status", "started", "finished", "flattened", "failed", "error"],
  runs.map((run) => [
    run.status,
    run.started_at,
    run.finished_at,
    run.detail?.flattened ?? null,
    run.detail?.failed ?? null,
    run.error,
  ]),
)}`,
      { csrf: csrfToken(signingSecret, holder), active: "/ui/test-etl-incremental" },
    );
  };

  app.get(
    "/ui/test-etl-incremental",
    { config: { auth: "admin" }, schema: { hide: true } },
    async (request, reply) =>
      reply.type("text/html; charset=utf-8").send(await renderIncremental(request.adminHolder!)),
  );

  app.post(
    "/ui/test-etl-incremental",
    { config: { auth: "admin" }, schema: { hide: true } },
    async (request, reply) => {
      const { database, config } = app.deps;
      const sweep = await sweepOnce(
        { db: database.db, log: app.log as never, context: flattenContext(config) },
        "admin",
      );
      const result = html`<p class="notice ${sweep.failed ? "bad" : ""}">Sweep done in ${sweep.elapsedMs} ms: flattened ${sweep.flattened} of ${sweep.backlog} waiting statement(s)${
        sweep.failed
          ? html`; ${sweep.failed} could not be flattened (${sweep.failures.map((f) => f.statementId).join(", ")})`
          : ""
      }${sweep.voidsReconciled ? html`; ${sweep.voidsReconciled} void(s) reconciled` : ""}.</p>`;
      return reply
        .type("text/html; charset=utf-8")
        .send(await renderIncremental(request.adminHolder!, result));
    },
  );
};
