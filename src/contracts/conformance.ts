/**
 * The latest run of the ADL LRS conformance suite, when one is recorded: `reports/conformance.json`,
 * written by whoever ran the suite (README, "Conformance"). Its form:
 *
 *     {
 *       "when": "2026-12-02T03:00:00Z",
 *       "suite": "adlnet/lrs-conformance-test-suite",
 *       "runs": [
 *         { "xapiVersion": "1.0.3", "database": "postgres", "passed": 1365, "failed": 0 },
 *         { "xapiVersion": "2.0.0", "database": "pglite", "passed": 1442, "failed": 0 }
 *       ]
 *     }
 *
 * `when` is when the suite ran; each run is one version against one database (`postgres` or
 * `pglite`), with the suite's own counts of passed and failed tests. `suite`, `commit` and a
 * run's `notes` are optional text.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./contracts.ts";

export const CONFORMANCE_REPORT = path.join(ROOT, "reports", "conformance.json");

export interface ConformanceRun {
  xapiVersion: string;
  database: string;
  passed: number;
  failed: number;
  notes?: string;
}

export interface ConformanceReport {
  when: string;
  suite?: string;
  commit?: string;
  runs: ConformanceRun[];
}

const count = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;
const text = (value: unknown, max = 200) =>
  typeof value === "string" && value.length > 0 && value.length <= max;

/**
 * The report at `file`: `{ report }`, `{ problem }` naming what is wrong with it, or `{}` when
 * there is none.
 */
export function readConformanceReport(file: string = CONFORMANCE_REPORT): {
  report?: ConformanceReport;
  problem?: string;
} {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(raw);
  } catch (error) {
    return { problem: `not valid JSON: ${(error as Error).message}` };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    return { problem: "must be a JSON object" };
  if (!text(data.when) || Number.isNaN(Date.parse(data.when as string)))
    return { problem: "when must be the date-time the suite ran (ISO 8601)" };
  for (const field of ["suite", "commit"] as const) {
    if (data[field] !== undefined && !text(data[field])) return { problem: `${field} must be text` };
  }
  if (!Array.isArray(data.runs) || data.runs.length === 0 || data.runs.length > 20)
    return { problem: "runs must list 1 to 20 runs" };
  const runs: ConformanceRun[] = [];
  for (const [i, run] of (data.runs as Record<string, unknown>[]).entries()) {
    if (typeof run !== "object" || run === null) return { problem: `runs[${i}] must be an object` };
    if (!text(run.xapiVersion, 16))
      return { problem: `runs[${i}].xapiVersion must be a version such as 1.0.3` };
    if (!text(run.database, 32)) return { problem: `runs[${i}].database must be postgres or pglite` };
    if (!count(run.passed) || !count(run.failed))
      return { problem: `runs[${i}].passed and runs[${i}].failed must be whole numbers` };
    if (run.notes !== undefined && !text(run.notes, 500)) return { problem: `runs[${i}].notes must be text` };
    runs.push({
      xapiVersion: run.xapiVersion as string,
      database: run.database as string,
      passed: run.passed as number,
      failed: run.failed as number,
      ...(run.notes ? { notes: run.notes as string } : {}),
    });
  }
  return {
    report: {
      when: new Date(data.when as string).toISOString(),
      ...(data.suite ? { suite: data.suite as string } : {}),
      ...(data.commit ? { commit: data.commit as string } : {}),
      runs,
    },
  };
}
