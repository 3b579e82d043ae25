/**
 * Document benchmark (issue #13): State PUT and GET of a 4 KiB document at 50 connections
 * against the real service (`api` and `worker` on PostgreSQL and Redis), beside the
 * single-statement POST rate of the same run. Each request addresses one of 1,000 learners'
 * documents (a PUT over an existing 1.0.3 State document replaces it, as content does).
 * Targets: each ≥ 0.5× the statement POST rate, p99 ≤ 50 ms.
 */
import { randomBytes } from "node:crypto";
import { benchStatement, envNumber, load, type Row, withService } from "./lib.ts";

const SECONDS = envNumber("BENCH_SECONDS", 10);
const LEARNERS = 1_000;
const DOCUMENT = randomBytes(3072).toString("base64"); // 4 KiB of text suspend data

function statePath(index: number): string {
  const agent = JSON.stringify({ mbox: `mailto:learner-${index % LEARNERS}@example.com` });
  const query = new URLSearchParams({
    activityId: "https://lessons.example.com/course/day-1",
    agent,
    stateId: "suspend_data",
  });
  return `/xapi/activities/state?${query.toString()}`;
}

export async function benchDocuments(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  return withService("docs", {}, async (service) => {
    const api = await service.start("api");
    await service.start("worker", /role worker consuming/);
    const headers = service.headers;

    process.stdout.write("documents: single statements at 50 connections…\n");
    const statements = await load({
      url: `${api.url}/xapi/statements`,
      method: "POST",
      headers,
      body: JSON.stringify(benchStatement()),
      connections: 50,
      duration: SECONDS,
    });

    let n = 0;
    const textHeaders = { ...headers, "content-type": "text/plain" };
    // Every learner's document exists before the timed runs, so GETs find one.
    for (let i = 0; i < LEARNERS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          fetch(`${api.url}${statePath(i + j)}`, { method: "PUT", headers: textHeaders, body: DOCUMENT }),
        ),
      );
    }
    process.stdout.write("documents: 4 KiB State PUT at 50 connections…\n");
    const puts = await load({
      url: api.url,
      connections: 50,
      duration: SECONDS,
      requests: [
        {
          method: "PUT",
          headers: textHeaders,
          body: DOCUMENT,
          setupRequest: (request) => ({ ...request, path: statePath(n++) }),
        },
      ],
    });
    process.stdout.write("documents: 4 KiB State GET at 50 connections…\n");
    const gets = await load({
      url: api.url,
      connections: 50,
      duration: SECONDS,
      requests: [
        { method: "GET", headers, setupRequest: (request) => ({ ...request, path: statePath(n++) }) },
      ],
    });

    const rows: Row[] = [
      { metric: "statement POST (single, 50 conns)", value: statements.requestsPerSec, unit: "req/s" },
      {
        metric: "State PUT 4 KiB (50 conns)",
        value: puts.requestsPerSec,
        unit: "req/s",
        baseline: statements.requestsPerSec,
        target: "≥ 0.5× POST",
        met: puts.requestsPerSec >= 0.5 * statements.requestsPerSec && puts.non2xx + puts.errors === 0,
      },
      { metric: "State PUT p99", value: puts.p99Ms, unit: "ms", target: "≤ 50", met: puts.p99Ms <= 50 },
      {
        metric: "State GET 4 KiB (50 conns)",
        value: gets.requestsPerSec,
        unit: "req/s",
        baseline: statements.requestsPerSec,
        target: "≥ 0.5× POST",
        met: gets.requestsPerSec >= 0.5 * statements.requestsPerSec && gets.non2xx + gets.errors === 0,
      },
      { metric: "State GET p99", value: gets.p99Ms, unit: "ms", target: "≤ 50", met: gets.p99Ms <= 50 },
      {
        metric: "non-2xx or errors (PUT + GET)",
        value: puts.non2xx + puts.errors + gets.non2xx + gets.errors,
        unit: "",
        target: "0",
      },
    ];
    return { rows, results: { statements, puts, gets, seconds: SECONDS, learners: LEARNERS } };
  });
}
