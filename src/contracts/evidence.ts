/**
 * What each plan module is, in an operator's words, and whether it works, judged from evidence
 * the running service can check rather than from the status a contract declares:
 *
 * - **routes**: the contract's required endpoints are registered in this app;
 * - **files**: the contract's files are there (compiled ones in a build);
 * - **tables**: the tables the module stores its data in exist in the database this app uses;
 * - **tests**: the latest test report (`reports/test-report.json`) ran the module's test files
 *   (the `*.test.ts` among its contract's files) and they passed;
 * - **conformance** (the LRS only): the latest recorded run of the ADL conformance suite
 *   (`reports/conformance.json`, see `conformance.ts`) failed nothing.
 *
 * A module is **working** when no check fails and its tests (and, for the LRS, a recorded
 * conformance run) passed; **needs attention** when a check fails; **not verified** when nothing
 * fails but there is no test evidence yet. The contracts in `orchestrator_contracts/` stay the
 * source of what each module owns; the words are here.
 */
import type { ConformanceReport } from "./conformance.ts";
import type { ModuleProgress } from "./contracts.ts";
import type { FileResult } from "./testReport.ts";

export interface PlainWords {
  name: string;
  description: string;
  /** The tables the module keeps its data in. */
  tables: string[];
  /** Whether the ADL LRS conformance suite measures this module. */
  conformance?: boolean;
}

/** Every plan module in an operator's words. A module missing here is shown by its contract title. */
export const PLAIN_WORDS: Record<string, PlainWords> = {
  "a.01": {
    name: "The service itself",
    description:
      "The web service, its configuration, health checks, the command line and the embedded database that lets it run with nothing else installed.",
    tables: ["cohort_lrs_migrations", "settings"],
  },
  "a.02": {
    name: "Database tables",
    description: "Where everything is stored, created and upgraded by numbered migrations.",
    tables: [
      "users",
      "lessons",
      "api_credentials",
      "statements_raw",
      "statement_index",
      "statements_flat",
      "notifications",
      "task_status",
      "settings",
      "admin_sessions",
      "xapi_documents",
      "xapi_attachments",
      "xapi_failed_requests",
    ],
  },
  "a.03": {
    name: "Sign-up",
    description:
      "Learners sign up with their name, email, avatar, cohort and time zone; operators list them and add lessons.",
    tables: ["users", "lessons"],
  },
  "a.04": {
    name: "Statement storage (xAPI LRS)",
    description:
      "Lesson content sends and reads xAPI statements and saves its place (State, profiles, attachments); keys control who may.",
    tables: ["statements_raw", "statement_index", "xapi_documents", "xapi_attachments", "api_credentials"],
    conformance: true,
  },
  "a.05": {
    name: "Flattening statements as they arrive",
    description:
      "With Redis, each stored statement is passed to workers that turn it into a row reports and reminders can query.",
    tables: ["statements_flat"],
  },
  "a.05b": {
    name: "Catching up on statements not yet flattened",
    description:
      "A regular sweep flattens every statement that has no row yet: the only path without Redis, the safety net with it.",
    tables: ["statements_flat", "task_status"],
  },
  "a.06": {
    name: "Reminders",
    description:
      "Each evening (learner's local time) an email to every learner who has not completed the day's lesson, once and only once.",
    tables: ["notifications", "task_status"],
  },
  "a.07": {
    name: "Completion reports",
    description:
      "Who completed which lesson, with scores, and who has not, per cohort and lesson, as JSON or CSV.",
    tables: ["statements_flat", "lessons", "users"],
  },
  "a.07b": {
    name: "Admin area",
    description:
      "These pages: the dashboard, the DB terminal, pipeline tests, reminders, xAPI keys and the log of refused xAPI requests.",
    tables: ["admin_sessions", "api_credentials", "xapi_failed_requests"],
  },
  "a.07c": {
    name: "Progress and test results",
    description: "This page: what each part is, and the evidence that it works.",
    tables: [],
  },
  "a.08": {
    name: "Deployment",
    description: "The Docker image, docker compose with one service per role, and metrics for Prometheus.",
    tables: [],
  },
};

export type CheckStatus = "pass" | "fail" | "unknown";
export type EvidenceState = "working" | "needs_attention" | "not_verified";

export interface Check {
  kind: "routes" | "files" | "tables" | "tests" | "conformance";
  status: CheckStatus;
  /** One line in plain words. */
  summary: string;
}

export interface Evidence {
  tables: { table: string; exists: boolean }[];
  testFiles: { file: string; result: "passed" | "failed" | "not run" }[];
  checks: Check[];
  state: EvidenceState;
}

export interface EvidenceSources {
  /** Tables that exist in the database (`data/existingTables.ts`). */
  tables: ReadonlySet<string>;
  /** The latest test run, by file; undefined when there is none. */
  tests: { when: string; byFile: Map<string, FileResult> } | undefined;
  /** The latest conformance run, if recorded, or why the recorded one cannot be read. */
  conformance: { report?: ConformanceReport; problem?: string };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The checks of one module, and the state they add up to. Pure. */
export function judgeModule(
  module: Pick<ModuleProgress, "module" | "endpoints" | "files">,
  sources: EvidenceSources,
): Evidence {
  const words = PLAIN_WORDS[module.module];
  const checks: Check[] = [];

  if (module.endpoints.length) {
    const missing = module.endpoints.filter((e) => !e.registered);
    checks.push(
      missing.length
        ? {
            kind: "routes",
            status: "fail",
            summary: `${plural(missing.length, "route")} of ${module.endpoints.length} not served: ${missing.map((e) => e.endpoint).join(", ")}`,
          }
        : {
            kind: "routes",
            status: "pass",
            summary: `all ${plural(module.endpoints.length, "route")} served`,
          },
    );
  }

  const missingFiles = module.files.filter((f) => f.exists === false);
  const counted = module.files.filter((f) => f.exists !== null).length;
  if (counted) {
    checks.push(
      missingFiles.length
        ? {
            kind: "files",
            status: "fail",
            summary: `${plural(missingFiles.length, "file")} missing: ${missingFiles.map((f) => f.file).join(", ")}`,
          }
        : { kind: "files", status: "pass", summary: `all ${plural(counted, "file")} present` },
    );
  }

  const tables = (words?.tables ?? []).map((table) => ({ table, exists: sources.tables.has(table) }));
  if (tables.length) {
    const missing = tables.filter((t) => !t.exists);
    checks.push(
      missing.length
        ? {
            kind: "tables",
            status: "fail",
            summary: `${plural(missing.length, "table")} missing from the database: ${missing.map((t) => t.table).join(", ")}`,
          }
        : {
            kind: "tables",
            status: "pass",
            summary: `all ${plural(tables.length, "table")} in the database`,
          },
    );
  }

  const testFiles = module.files
    .filter((f) => f.file.endsWith(".test.ts"))
    .map(({ file }) => {
      const result = sources.tests?.byFile.get(file);
      return {
        file,
        result: !result
          ? ("not run" as const)
          : result.status === "failed" || result.failed > 0
            ? ("failed" as const)
            : ("passed" as const),
      };
    });
  if (testFiles.length) {
    const failed = testFiles.filter((t) => t.result === "failed");
    const ran = testFiles.filter((t) => t.result !== "not run");
    checks.push(
      !sources.tests
        ? { kind: "tests", status: "unknown", summary: "no test report yet (npm test writes one)" }
        : failed.length
          ? {
              kind: "tests",
              status: "fail",
              summary: `${plural(failed.length, "test file")} failing: ${failed.map((t) => t.file).join(", ")}`,
            }
          : ran.length === 0
            ? { kind: "tests", status: "unknown", summary: "its tests were not part of the latest run" }
            : {
                kind: "tests",
                status: "pass",
                summary: `${ran.length} of ${plural(testFiles.length, "test file")} ran in the latest run and passed`,
              },
    );
  }

  if (words?.conformance) {
    const { report, problem } = sources.conformance;
    if (problem) {
      checks.push({
        kind: "conformance",
        status: "unknown",
        summary: `reports/conformance.json is unreadable: ${problem}`,
      });
    } else if (!report) {
      checks.push({ kind: "conformance", status: "unknown", summary: "no conformance run recorded" });
    } else {
      const failed = report.runs.filter((run) => run.failed > 0);
      const runs = report.runs
        .map((run) => `${run.xapiVersion} on ${run.database}: ${run.passed} passed, ${run.failed} failed`)
        .join("; ");
      checks.push({
        kind: "conformance",
        status: failed.length ? "fail" : "pass",
        summary: `${report.when.slice(0, 10)}: ${runs}`,
      });
    }
  }

  const fails = checks.some((c) => c.status === "fail");
  const verifiedBy = (kind: Check["kind"]) => checks.find((c) => c.kind === kind)?.status === "pass";
  const needsTests = testFiles.length > 0;
  const verified = (!needsTests || verifiedBy("tests")) && (!words?.conformance || verifiedBy("conformance"));
  const state: EvidenceState = fails
    ? "needs_attention"
    : verified && checks.length
      ? "working"
      : "not_verified";
  return { tables, testFiles, checks, state };
}
