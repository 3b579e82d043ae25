/**
 * The orchestrator contracts: the real ones are valid and true (every `done` module's endpoints
 * are registered in the app createApp() builds, its files exist), readContracts reports a bad file
 * instead of crashing, updateContractStatus round-trips, and the progress API says all of it.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { readConformanceReport } from "../src/contracts/conformance.ts";
import {
  CONTRACTS_DIR,
  ContractError,
  checkProgress,
  ROOT,
  readContracts,
  updateContractStatus,
} from "../src/contracts/contracts.ts";
import { type EvidenceSources, judgeModule, PLAIN_WORDS } from "../src/contracts/evidence.ts";
import { readTestReport } from "../src/contracts/testReport.ts";
import { escapeHtml } from "../src/ui/html.ts";
import { adminHeaders, buildApp } from "./helpers/app.ts";
import { runCli } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const MODULES = ["a.01", "a.02", "a.03", "a.04", "a.05", "a.05b", "a.06", "a.07", "a.07b", "a.07c", "a.08"];

let database: TestDatabase;
let app: App;
const reportFile = path.join(mkdtempSync(path.join(tmpdir(), "cohort-lrs-report-")), "test-report.json");

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database);
  app.deps.testReportFile = reportFile;
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

/** A copy of the real contracts to change freely. */
function contractsCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-contracts-"));
  cpSync(CONTRACTS_DIR, dir, { recursive: true });
  return dir;
}

describe("the real contracts", () => {
  it("are one valid contract per plan module", () => {
    const { contracts, problems } = readContracts();
    expect(problems).toEqual([]);
    expect(contracts.map(({ contract }) => contract.module).sort()).toEqual([...MODULES].sort());
  });

  it("are true: every done module's endpoints are registered and its files exist", () => {
    const { contracts } = readContracts();
    const registered = new Set(app.routeTable.map((route) => `${route.method} ${route.url}`));
    const progress = checkProgress(contracts, registered);
    for (const module of progress.filter((m) => m.status === "done")) {
      expect(module.problems, module.module).toEqual([]);
    }
    for (const module of progress.filter((m) => m.status !== "planned")) {
      expect(
        module.files.filter((f) => !f.exists),
        module.module,
      ).toEqual([]);
    }
  });
});

describe("readContracts", () => {
  it("reports an invalid file with its path and the rule it breaks, and reads the rest", () => {
    const dir = contractsCopy();
    const broken = JSON.parse(readFileSync(path.join(dir, "a.04.json"), "utf8"));
    writeFileSync(path.join(dir, "a.04.json"), JSON.stringify({ ...broken, status: "finished", agent: "" }));
    writeFileSync(path.join(dir, "a.99.json"), "{ not json");
    const { contracts, problems } = readContracts(dir);
    expect(contracts).toHaveLength(MODULES.length - 1);
    expect(problems).toContainEqual({
      file: expect.stringContaining("a.04.json"),
      problem: "/status must be equal to one of the allowed values (planned, in_progress, done)",
    });
    expect(problems).toContainEqual({
      file: expect.stringContaining("a.04.json"),
      problem: "/agent must NOT have fewer than 1 characters",
    });
    expect(problems).toContainEqual({
      file: expect.stringContaining("a.99.json"),
      problem: expect.stringMatching(/^not valid JSON/),
    });
  });
});

describe("updateContractStatus", () => {
  it("changes the status and keeps the rest of the file", () => {
    const dir = contractsCopy();
    const before = JSON.parse(readFileSync(path.join(dir, "a.05.json"), "utf8"));
    const updated = updateContractStatus("a.05", "in_progress", dir);
    expect(updated.status).toBe("in_progress");
    const after = JSON.parse(readFileSync(path.join(dir, "a.05.json"), "utf8"));
    expect(after).toEqual({ ...before, status: "in_progress" });
    updateContractStatus("a.05", before.status, dir);
    expect(JSON.parse(readFileSync(path.join(dir, "a.05.json"), "utf8"))).toEqual(before);
  });

  it("refuses an unknown module or status, changing nothing", () => {
    const dir = contractsCopy();
    const before = readFileSync(path.join(dir, "a.05.json"), "utf8");
    expect(() => updateContractStatus("a.05", "finished", dir)).toThrow(ContractError);
    expect(() => updateContractStatus("a.42", "done", dir)).toThrow(/no contract for module "a.42"/);
    expect(() => updateContractStatus("../package", "done", dir)).toThrow(ContractError);
    expect(readFileSync(path.join(dir, "a.05.json"), "utf8")).toBe(before);
  });

  it("is what `cohort-lrs contract set-status` calls", async () => {
    const usage = await runCli(["contract", "set-status", "a.05", "finished"], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("status must be one of planned, in_progress, done");
    const list = await runCli(["contract", "list"], {});
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^a\.01 +done +Project scaffold$/m);
  });
});

describe("the progress API", () => {
  it("lists every module with its status and live checks", async () => {
    const response = await app.inject({ method: "GET", url: "/api/debug/progress", headers: adminHeaders });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.modules.map((m: { module: string }) => m.module).sort()).toEqual([...MODULES].sort());
    const a03 = body.modules.find((m: { module: string }) => m.module === "a.03");
    expect(a03).toMatchObject({ status: "done", flagged: false });
    expect(a03.endpoints).toContainEqual({ endpoint: "POST /api/signup", registered: true });
    expect(body.summary.flagged).toBe(0);
    expect(body.invalid).toEqual([]);
  });

  it("flags a done module whose endpoint is not registered", () => {
    const { contracts } = readContracts();
    const registered = new Set(
      app.routeTable.filter((route) => route.url !== "/api/signup").map((r) => `${r.method} ${r.url}`),
    );
    const a03 = checkProgress(contracts, registered).find((m) => m.module === "a.03")!;
    expect(a03.flagged).toBe(true);
    expect(a03.problems).toContain("endpoint not registered: POST /api/signup");
  });

  it("in a build (compiled dist/, no src/), checks compiled files and does not count development ones", () => {
    const build = mkdtempSync(path.join(tmpdir(), "cohort-lrs-build-"));
    mkdirSync(path.join(build, "dist", "routes", "signup"), { recursive: true });
    writeFileSync(path.join(build, "dist", "routes", "signup", "routes.js"), "");
    const contract = {
      module: "a.03",
      agent: "x",
      allowed_files: [
        "src/routes/signup/routes.ts",
        "src/commands/signUp.ts",
        "src/routes/signup/signup.test.ts",
        "test/cli.test.ts",
      ],
      required_endpoints: [],
      status: "done" as const,
    };
    const [checked] = checkProgress([{ file: "a.03.json", contract }], new Set(), build);
    expect(checked!.files).toEqual([
      { file: "src/routes/signup/routes.ts", exists: true },
      { file: "src/commands/signUp.ts", exists: false },
      { file: "src/routes/signup/signup.test.ts", exists: null },
      { file: "test/cli.test.ts", exists: null },
    ]);
    expect(checked!.problems).toEqual(["file missing: src/commands/signUp.ts"]);
  });

  it("groups in-progress modules by agent", async () => {
    const response = await app.inject({
      method: "GET",
      url: "/api/debug/active-agents",
      headers: adminHeaders,
    });
    expect(response.statusCode).toBe(200);
    const { contracts } = readContracts();
    const inProgress = contracts
      .filter(({ contract }) => contract.status === "in_progress")
      .map(({ contract }) => contract.module);
    const listed = response
      .json()
      .agents.flatMap((agent: { modules: { module: string }[] }) => agent.modules.map((m) => m.module));
    expect(listed.sort()).toEqual(inProgress.sort());
  });

  it("serves the latest test report's summary, and 404 before there is one", async () => {
    const missing = await app.inject({ method: "GET", url: "/api/debug/test-report", headers: adminHeaders });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toContain("npm test");
    const start = Date.parse("2026-03-02T10:00:00Z");
    writeFileSync(
      reportFile,
      JSON.stringify({
        numTotalTests: 3,
        numPassedTests: 2,
        numFailedTests: 1,
        numPendingTests: 0,
        startTime: start,
        success: false,
        testResults: [
          {
            name: "/repo/src/a.test.ts",
            status: "passed",
            endTime: start + 1_000,
            assertionResults: [{ fullName: "a works", status: "passed" }],
          },
          {
            name: "/repo/src/b.test.ts",
            status: "failed",
            endTime: start + 2_500,
            assertionResults: [
              { fullName: "b works", status: "passed" },
              { fullName: "b breaks", status: "failed", failureMessages: ["boom"] },
            ],
          },
        ],
      }),
    );
    const response = await app.inject({
      method: "GET",
      url: "/api/debug/test-report",
      headers: adminHeaders,
    });
    expect(response.json()).toEqual({
      when: "2026-03-02T10:00:02.500Z",
      success: false,
      durationMs: 2_500,
      totals: { tests: 3, passed: 2, failed: 1, skipped: 0, files: 2 },
      failuresByFile: [{ file: expect.stringMatching(/b\.test\.ts$/), failed: 1, tests: ["b breaks"] }],
    });
    expect(readTestReport(reportFile)?.success).toBe(false);
  });

  it("renders every module on the progress page in plain words, linked from every admin page", async () => {
    const page = await app.inject({ method: "GET", url: "/ui/progress", headers: adminHeaders });
    expect(page.statusCode).toBe(200);
    for (const module of MODULES) {
      expect(page.body).toContain(`id="module-${module}"`);
      expect(page.body).toContain(`<strong>${escapeHtml(PLAIN_WORDS[module]!.name)}</strong>`);
    }
    expect(page.body).toContain("Statement storage (xAPI LRS)");
    expect(page.body).toContain("<strong>Sign-up</strong>");
    expect(page.body).not.toMatch(/agent|foundation/i);
    const dashboard = await app.inject({ method: "GET", url: "/ui", headers: adminHeaders });
    expect(dashboard.body).toContain('href="/ui/progress"');
  });
});

/** A vitest JSON report whose files (relative to the package root) passed or failed. */
function writeReport(file: string, results: Record<string, "passed" | "failed">): void {
  const start = Date.parse("2026-12-01T10:00:00Z");
  writeFileSync(
    file,
    JSON.stringify({
      numTotalTests: Object.keys(results).length,
      numPassedTests: Object.values(results).filter((r) => r === "passed").length,
      numFailedTests: Object.values(results).filter((r) => r === "failed").length,
      numPendingTests: 0,
      startTime: start,
      success: Object.values(results).every((r) => r === "passed"),
      testResults: Object.entries(results).map(([name, status]) => ({
        name: path.join(ROOT, name),
        status,
        endTime: start + 1_000,
        assertionResults: [{ fullName: `${name} works`, status }],
      })),
    }),
  );
}

describe("the progress in plain words, from evidence", () => {
  const sources = (overrides: Partial<EvidenceSources> = {}): EvidenceSources => ({
    tables: new Set(["users", "lessons"]),
    tests: { when: "2026-12-01T10:00:01.000Z", byFile: new Map() },
    conformance: {},
    ...overrides,
  });
  const signup = {
    module: "a.03",
    endpoints: [{ endpoint: "POST /api/signup", registered: true }],
    files: [
      { file: "src/routes/signup/routes.ts", exists: true },
      { file: "src/routes/signup/signup.test.ts", exists: true },
    ],
  };
  const passed = new Map([["src/routes/signup/signup.test.ts", { status: "passed", passed: 3, failed: 0 }]]);

  it("is working when routes, files and tables are there and its tests passed", () => {
    const evidence = judgeModule(signup, sources({ tests: { when: "x", byFile: passed } }));
    expect(evidence.state).toBe("working");
    expect(evidence.checks.map((c) => [c.kind, c.status])).toEqual([
      ["routes", "pass"],
      ["files", "pass"],
      ["tables", "pass"],
      ["tests", "pass"],
    ]);
    expect(evidence.testFiles).toEqual([{ file: "src/routes/signup/signup.test.ts", result: "passed" }]);
  });

  it("is not verified without test evidence, and needs attention when any check fails", () => {
    expect(judgeModule(signup, sources({ tests: undefined })).state).toBe("not_verified");
    expect(judgeModule(signup, sources()).checks.at(-1)).toMatchObject({ kind: "tests", status: "unknown" });
    const failing = new Map([
      ["src/routes/signup/signup.test.ts", { status: "failed", passed: 2, failed: 1 }],
    ]);
    expect(judgeModule(signup, sources({ tests: { when: "x", byFile: failing } })).state).toBe(
      "needs_attention",
    );
    const noTable = judgeModule(
      signup,
      sources({ tables: new Set(["users"]), tests: { when: "x", byFile: passed } }),
    );
    expect(noTable.state).toBe("needs_attention");
    expect(noTable.checks.find((c) => c.kind === "tables")).toEqual({
      kind: "tables",
      status: "fail",
      summary: "1 table missing from the database: lessons",
    });
    const noRoute = judgeModule(
      { ...signup, endpoints: [{ endpoint: "POST /api/signup", registered: false }] },
      sources({ tests: { when: "x", byFile: passed } }),
    );
    expect(noRoute.checks[0]).toMatchObject({
      kind: "routes",
      status: "fail",
      summary: expect.stringContaining("POST /api/signup"),
    });
  });

  it("judges the LRS by its recorded conformance run as well", () => {
    const lrs = { module: "a.04", endpoints: [], files: [] };
    const tables = new Set(PLAIN_WORDS["a.04"]!.tables);
    expect(judgeModule(lrs, sources({ tables })).state).toBe("not_verified");
    const run = (failed: number) => ({
      report: {
        when: "2026-12-02T00:00:00.000Z",
        runs: [{ xapiVersion: "1.0.3", database: "postgres", passed: 1365, failed }],
      },
    });
    expect(judgeModule(lrs, sources({ tables, conformance: run(0) })).state).toBe("working");
    const failing = judgeModule(lrs, sources({ tables, conformance: run(3) }));
    expect(failing.state).toBe("needs_attention");
    expect(failing.checks.at(-1)!.summary).toBe("2026-12-02: 1.0.3 on postgres: 1365 passed, 3 failed");
  });

  it("reads reports/conformance.json in its documented form, and says what is wrong with a bad one", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-conformance-"));
    const file = path.join(dir, "conformance.json");
    expect(readConformanceReport(file)).toEqual({});
    writeFileSync(
      file,
      JSON.stringify({
        when: "2026-12-02T03:00:00Z",
        suite: "adlnet/lrs-conformance-test-suite",
        runs: [{ xapiVersion: "2.0.0", database: "pglite", passed: 1442, failed: 0 }],
      }),
    );
    expect(readConformanceReport(file).report).toEqual({
      when: "2026-12-02T03:00:00.000Z",
      suite: "adlnet/lrs-conformance-test-suite",
      runs: [{ xapiVersion: "2.0.0", database: "pglite", passed: 1442, failed: 0 }],
    });
    for (const [content, problem] of [
      ["{", /^not valid JSON/],
      [JSON.stringify({ runs: [] }), /^when /],
      [JSON.stringify({ when: "2026-12-02", runs: [] }), /^runs must list/],
      [
        JSON.stringify({
          when: "2026-12-02",
          runs: [{ xapiVersion: "1.0.3", database: "postgres", passed: -1, failed: 0 }],
        }),
        /passed/,
      ],
    ] as const) {
      writeFileSync(file, content);
      expect(readConformanceReport(file).problem, content).toMatch(problem);
    }
  });

  it("serves each module's name, state and checks from the running app, keeping the contract's fields", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-evidence-"));
    app.deps.conformanceFile = path.join(dir, "conformance.json");
    writeReport(reportFile, {
      "src/routes/signup/signup.test.ts": "passed",
      "src/routes/xapi/xapi.test.ts": "failed",
    });
    try {
      const body = (
        await app.inject({ method: "GET", url: "/api/debug/progress", headers: adminHeaders })
      ).json();
      const byId = Object.fromEntries(body.modules.map((m: { module: string }) => [m.module, m]));
      expect(byId["a.03"]).toMatchObject({
        module: "a.03",
        agent: expect.any(String),
        status: "done",
        endpoints: expect.any(Array),
        files: expect.any(Array),
        flagged: false,
        problems: [],
        name: "Sign-up",
        state: "working",
        tables: [
          { table: "users", exists: true },
          { table: "lessons", exists: true },
        ],
      });
      expect(byId["a.03"].testFiles).toContainEqual({
        file: "src/routes/signup/signup.test.ts",
        result: "passed",
      });
      expect(byId["a.04"]).toMatchObject({ name: "Statement storage (xAPI LRS)", state: "needs_attention" });
      expect(byId["a.04"].checks).toContainEqual({
        kind: "conformance",
        status: "unknown",
        summary: "no conformance run recorded",
      });
      expect(body.testRun).toEqual({ when: "2026-12-01T10:00:01.000Z", success: false });
      expect(body.conformance).toBeNull();
      expect(body.summary).toMatchObject({ working: expect.any(Number), needsAttention: expect.any(Number) });
      expect(body.summary.working + body.summary.needsAttention + body.summary.notVerified).toBe(
        MODULES.length,
      );

      writeFileSync(
        app.deps.conformanceFile,
        JSON.stringify({
          when: "2026-12-02T03:00:00Z",
          runs: [{ xapiVersion: "1.0.3", database: "postgres", passed: 10, failed: 2 }],
        }),
      );
      const page = await app.inject({ method: "GET", url: "/ui/progress", headers: adminHeaders });
      expect(page.body).toMatch(
        /id="module-a\.04"[\s\S]*?Needs attention[\s\S]*?1\.0\.3 on postgres: 10 passed, 2 failed/,
      );
      expect(page.body).toMatch(/id="module-a\.03"[\s\S]*?Working/);
      expect(page.body).toContain("src/routes/xapi/xapi.test.ts");
    } finally {
      rmSync(reportFile, { force: true });
    }
  });
});

describe("metrics", () => {
  it("serves Prometheus text to the admin: requests by route and status, and the pipeline's counters", async () => {
    await app.inject({ method: "GET", url: "/health" });
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    const response = await app.inject({ method: "GET", url: "/metrics", headers: adminHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    expect(response.body).toMatch(
      /cohort_lrs_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/,
    );
    expect(response.body).toContain("cohort_lrs_http_request_duration_seconds_bucket");
    for (const name of [
      "cohort_lrs_statements_ingested_total",
      "cohort_lrs_stream_publish_failures_total",
      "cohort_lrs_rows_flattened_total",
      "cohort_lrs_sweep_runs_total",
      "cohort_lrs_job_attempts_total",
      "cohort_lrs_process_resident_memory_bytes",
    ]) {
      expect(response.body).toContain(`# TYPE ${name}`);
    }
  });
});
