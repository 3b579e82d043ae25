/**
 * `npm run bench`: every benchmark, each printing a table with its same-run baselines and
 * writing JSON under bench-results/. `npm run bench -- ingest` runs one. Those that start the
 * roles as processes run the compiled service (dist/), built first.
 */

import { benchBadInput } from "./badInput.ts";
import { benchDocuments } from "./documents.ts";
import { benchFloods } from "./floods.ts";
import { benchIngest } from "./ingest.ts";
import { buildService, printTable, writeResults } from "./lib.ts";
import { benchQueries } from "./queries.ts";
import { benchReminders } from "./reminders.ts";
import { benchReports } from "./reports.ts";
import { benchSoak } from "./soak.ts";

/** `service`: the benchmark starts the roles as processes, from the compiled build. */
const BENCHES = {
  ingest: {
    title: "Ingestion (api + worker + PostgreSQL + Redis on one machine)",
    run: benchIngest,
    service: true,
  },
  reports: {
    title: "Report queries (100,000 learners, 100 cohorts, 1,000,000 flat statements)",
    run: benchReports,
    service: false,
  },
  reminders: {
    title: "Reminder planning (100,000 learners, 100 cohorts, 1,000,000 flat statements)",
    run: benchReminders,
    service: false,
  },
  floods: {
    title:
      "Floods: wrong credentials and 2 MB bodies against the api (PostgreSQL), /health probed every 20 ms",
    run: benchFloods,
    service: true,
  },
  queries: {
    title:
      "Statement queries (GET /xapi/statements: BENCH_STATEMENTS statements, default 1,000,000; pages of 100)",
    run: benchQueries,
    service: false,
  },
  documents: {
    title: "Documents: 4 KiB State PUT/GET beside single-statement POST (api + worker, PostgreSQL, Redis)",
    run: benchDocuments,
    service: true,
  },
  "bad-input": {
    title: "Memory under bad input: 10,000 generated invalid xAPI requests in-process, live heap every 2,000",
    run: benchBadInput,
    service: false,
  },
  soak: {
    title: "Soak: mixed load on api + worker + scheduler (PostgreSQL, Redis, SMTP), SOAK_SECONDS long",
    run: benchSoak,
    service: true,
  },
} as const;

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
for (const name of wanted) {
  if (!(name in BENCHES)) {
    process.stderr.write(`unknown benchmark "${name}"; one of: ${Object.keys(BENCHES).join(", ")}\n`);
    process.exit(2);
  }
}
const selected = (wanted.length ? wanted : Object.keys(BENCHES)) as (keyof typeof BENCHES)[];
if (selected.some((name) => BENCHES[name].service)) buildService();
for (const name of selected) {
  const { title, run } = BENCHES[name];
  const { rows, results } = await run();
  printTable(title, rows);
  process.stdout.write(`written ${writeResults(name, { rows, ...results })}\n`);
}
