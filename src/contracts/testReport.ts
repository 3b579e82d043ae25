/**
 * The latest test run's summary, from the JSON report `npm test` writes (vitest's JSON reporter,
 * `reports/test-report.json`).
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./contracts.ts";

export const TEST_REPORT = path.join(ROOT, "reports", "test-report.json");

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  startTime: number;
  success: boolean;
  testResults: {
    name: string;
    status: string;
    startTime?: number;
    endTime?: number;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

export interface TestReport {
  when: string;
  success: boolean;
  durationMs: number;
  totals: { tests: number; passed: number; failed: number; skipped: number; files: number };
  failuresByFile: { file: string; failed: number; tests: string[]; message?: string }[];
}

/** The summary of the report at `file`, or undefined when there is none. */
export function readTestReport(file: string = TEST_REPORT): TestReport | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const report = JSON.parse(text) as VitestJson;
  const ends = report.testResults.map((result) => result.endTime ?? 0);
  const finished = Math.max(report.startTime, ...ends, 0) || statSync(file).mtimeMs;
  return {
    when: new Date(finished).toISOString(),
    success: report.success,
    durationMs: Math.max(0, finished - report.startTime),
    totals: {
      tests: report.numTotalTests,
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      skipped: report.numPendingTests + (report.numTodoTests ?? 0),
      files: report.testResults.length,
    },
    failuresByFile: report.testResults
      .filter((result) => result.status === "failed")
      .map((result) => {
        const tests = result.assertionResults.filter((a) => a.status === "failed").map((a) => a.fullName);
        return {
          file: path.relative(ROOT, result.name),
          failed: tests.length,
          tests,
          ...(tests.length === 0 && result.message ? { message: result.message.slice(0, 500) } : {}),
        };
      }),
  };
}

export interface FileResult {
  /** vitest's status of the file: `passed`, `failed`, … */
  status: string;
  passed: number;
  failed: number;
}

/**
 * Each test file's result in the report at `file`, by its path relative to the package root, and
 * when the run finished; undefined when there is no report or it cannot be read.
 */
export function readTestResultsByFile(
  file: string = TEST_REPORT,
): { when: string; success: boolean; byFile: Map<string, FileResult> } | undefined {
  let summary: TestReport | undefined;
  let report: VitestJson;
  try {
    summary = readTestReport(file);
    report = JSON.parse(readFileSync(file, "utf8")) as VitestJson;
  } catch {
    return undefined;
  }
  if (!summary || !Array.isArray(report.testResults)) return undefined;
  const byFile = new Map<string, FileResult>();
  for (const result of report.testResults) {
    const assertions = result.assertionResults ?? [];
    byFile.set(path.relative(ROOT, result.name), {
      status: result.status,
      passed: assertions.filter((a) => a.status === "passed").length,
      failed: assertions.filter((a) => a.status === "failed").length,
    });
  }
  return { when: summary.when, success: summary.success, byFile };
}
