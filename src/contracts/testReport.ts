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
