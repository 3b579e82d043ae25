/**
 * `npm run bench`: every benchmark, each printing a table with its same-run baselines and
 * writing JSON under bench-results/. `npm run bench -- ingest` runs one.
 */
import { benchIngest } from "./ingest.ts";
import { printTable, writeResults } from "./lib.ts";
import { benchReminders } from "./reminders.ts";
import { benchReports } from "./reports.ts";
import { benchSoak } from "./soak.ts";

const BENCHES = {
  ingest: { title: "Ingestion (api + worker + PostgreSQL + Redis on one machine)", run: benchIngest },
  reports: {
    title: "Report queries (100,000 learners, 100 cohorts, 1,000,000 flat statements)",
    run: benchReports,
  },
  reminders: {
    title: "Reminder planning (100,000 learners, 100 cohorts, 1,000,000 flat statements)",
    run: benchReminders,
  },
  soak: {
    title: "Soak: mixed load on api + worker + scheduler (PostgreSQL, Redis, SMTP), SOAK_SECONDS long",
    run: benchSoak,
  },
} as const;

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
for (const name of wanted) {
  if (!(name in BENCHES)) {
    process.stderr.write(`unknown benchmark "${name}"; one of: ${Object.keys(BENCHES).join(", ")}\n`);
    process.exit(2);
  }
}
const selected = wanted.length ? wanted : Object.keys(BENCHES);
for (const name of selected as (keyof typeof BENCHES)[]) {
  const { title, run } = BENCHES[name];
  const { rows, results } = await run();
  printTable(title, rows);
  process.stdout.write(`written ${writeResults(name, { rows, ...results })}\n`);
}
