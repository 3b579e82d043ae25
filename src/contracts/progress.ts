/**
 * The build's progress as the running service sees it: each plan module's contract checked
 * against this app's routes and files (contracts.ts), and the evidence that it works
 * (evidence.ts). What `GET /api/debug/progress` and `/ui/progress` show.
 */
import { existingTables } from "../data/existingTables.ts";
import type { Db } from "../db/client.ts";
import { readConformanceReport } from "./conformance.ts";
import { checkProgress, readContracts } from "./contracts.ts";
import { judgeModule, PLAIN_WORDS } from "./evidence.ts";
import { readTestResultsByFile } from "./testReport.ts";

export interface EvidenceFiles {
  /** The test report; default reports/test-report.json. */
  testReportFile?: string | undefined;
  /** The conformance run; default reports/conformance.json. */
  conformanceFile?: string | undefined;
}

/** The progress of every module: its contract against this app, and the evidence that it works. */
export async function progressOf(
  routeTable: { method: string; url: string }[],
  db: Db,
  files: EvidenceFiles = {},
) {
  const { contracts, problems } = readContracts();
  const registered = new Set(routeTable.map((route) => `${route.method} ${route.url}`));
  const checked = checkProgress(contracts, registered);
  const tests = readTestResultsByFile(files.testReportFile);
  const conformance = readConformanceReport(files.conformanceFile);
  const sources = { tables: await existingTables(db), tests, conformance };
  const modules = checked.map((module) => ({
    ...module,
    name: PLAIN_WORDS[module.module]?.name ?? module.title ?? module.module,
    description: PLAIN_WORDS[module.module]?.description ?? module.notes ?? "",
    ...judgeModule(module, sources),
  }));
  return {
    modules,
    invalid: problems,
    summary: {
      planned: modules.filter((m) => m.status === "planned").length,
      inProgress: modules.filter((m) => m.status === "in_progress").length,
      done: modules.filter((m) => m.status === "done").length,
      flagged: modules.filter((m) => m.flagged).length,
      working: modules.filter((m) => m.state === "working").length,
      needsAttention: modules.filter((m) => m.state === "needs_attention").length,
      notVerified: modules.filter((m) => m.state === "not_verified").length,
    },
    testRun: tests ? { when: tests.when, success: tests.success } : null,
    conformance: conformance.report ?? null,
    conformanceProblem: conformance.problem ?? null,
  };
}
