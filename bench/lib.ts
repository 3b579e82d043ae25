/** Shared pieces of the benchmarks: child processes, load, memory sampling, the report. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import pg from "pg";
import { type Database, type Db, openPostgres } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { deleteServiceKeys } from "../test/helpers/serviceKeys.ts";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/**
 * The service the benchmarks start: the compiled dist/, as the container image runs it, not the
 * TypeScript sources through tsx (an idle api: 128 MiB compiled, 202 MiB through tsx).
 * `buildService()` compiles it first.
 */
export const BIN = `${ROOT}dist/cli.js`;

/** `npm run build`: compiles src/ to dist/ for BIN. */
export function buildService(): void {
  process.stdout.write("bench: compiling the service (npm run build), as the container image runs it…\n");
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
}

/** A positive number from the environment variable `name`, or `fallback`; a bad value stops the run. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`bench: ${name} must be a positive number, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

export const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * The benchmarks' Redis: BENCH_REDIS_URL (default: TEST_REDIS_URL, else redis://127.0.0.1:6379)
 * on database BENCH_REDIS_DB (default 14; a number in the URL's path is replaced). The
 * benchmarks that start roles delete the service's keys there before and after
 * (`deleteServiceKeys`); the others keep to a key prefix of their own.
 */
export const BENCH_REDIS_URL = benchRedisUrl();

function benchRedisUrl(): string {
  const url = new URL(process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379");
  const db = process.env.BENCH_REDIS_DB || "14";
  if (!/^\d+$/.test(db) || Number(db) > 15) {
    process.stderr.write(`bench: BENCH_REDIS_DB must be a Redis database number from 0 to 15, got "${db}"\n`);
    process.exit(2);
  }
  url.pathname = `/${db}`;
  return url.toString();
}

/** Runs one statement on the server's maintenance database (create and drop the bench's own). */
export async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(query);
  await client.end();
}

/** The URL of database `name` on the bench server. */
export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A completed-lesson statement as content sends it, with a fresh actor and registration. */
export function benchStatement() {
  return {
    actor: {
      objectType: "Agent",
      name: "Learner",
      mbox: `mailto:learner-${randomUUID().slice(0, 8)}@example.com`,
    },
    verb: { id: "http://adlnet.gov/expapi/verbs/completed", display: { "en-US": "completed" } },
    object: {
      objectType: "Activity",
      id: "https://lessons.example.com/course/day-1",
      definition: { name: { "en-US": "Day 1" }, type: "http://adlnet.gov/expapi/activities/lesson" },
    },
    result: {
      completion: true,
      success: true,
      score: { scaled: 0.9, raw: 9, min: 0, max: 10 },
      duration: "PT12M30S",
    },
    context: { registration: randomUUID(), platform: "bench" },
  };
}

/** Request headers of an xAPI client with credential `key`:`secret`. */
export function xapiHeaders(key: string, secret: string): Record<string, string> {
  return {
    "content-type": "application/json",
    authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`,
    "x-experience-api-version": "1.0.3",
  };
}

export interface Child {
  process: ChildProcess;
  url: string;
  /** Error and fatal log lines (pino levels 50, 60) the child printed after it was ready. */
  errorLines: string[];
  stop(): Promise<void>;
}

/** Spawns `command args` and resolves once its output matches `ready`. */
export function startChild(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready = /listening on (http:\/\/\S+)/,
  timeoutMs = 60_000,
): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start:\n${output}`));
    }, timeoutMs);
    const exited = new Promise<void>((done) => child.on("exit", () => done()));
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.length > 100_000) output = output.slice(-50_000);
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        // Keep draining so a chatty child never blocks on a full pipe, and keep its errors.
        const errorLines: string[] = [];
        let partial = "";
        const onLogs = (logs: Buffer) => {
          const lines = (partial + logs.toString("utf8")).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            if (/"level":(50|60)\b/.test(line) && errorLines.length < 1_000) errorLines.push(line);
          }
        };
        child.stdout.on("data", onLogs);
        child.stderr.on("data", onLogs);
        resolve({
          process: child,
          url: match[1] ?? "",
          errorLines,
          stop: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** Resident memory of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples. */
export function sampleRss(pid: number, everyMs = 500): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    try {
      samples.push(rssMiB(pid));
    } catch {
      // process gone
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  requests: number;
  durationS: number;
}

export async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ ...options });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
    durationS: result.duration,
  };
}

export interface Row {
  metric: string;
  value: number;
  unit: string;
  baseline?: number | undefined;
  target?: string | undefined;
  /** True, false, or undefined when there is no target. */
  met?: boolean | undefined;
}

export function printTable(title: string, rows: Row[]): void {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));
  const cells = rows.map((row) => [
    row.metric,
    `${fmt(row.value)} ${row.unit}`,
    row.baseline === undefined ? "" : `${fmt(row.baseline)} ${row.unit}`,
    row.baseline === undefined || row.baseline === 0 ? "" : `${(row.value / row.baseline).toFixed(2)}×`,
    row.target ?? "",
    row.met === undefined ? "" : row.met ? "met" : "MISSED",
  ]);
  const header = ["metric", "value", "baseline", "ratio", "target", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const c of cells) process.stdout.write(`${line(c)}\n`);
}

export function writeResults(name: string, data: unknown): string {
  mkdirSync(`${ROOT}bench-results`, { recursive: true });
  const file = `${ROOT}bench-results/${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(`${ROOT}bench-results/${name}-latest.json`, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

const interruptCleanups = new Set<() => Promise<void>>();

/**
 * Runs `cleanup` (drop the bench's database, delete its Redis keys) if the run is interrupted
 * with Ctrl-C or SIGTERM before the bench's own `finally` does; returns the function that takes
 * it back. The role processes get the terminal's Ctrl-C themselves.
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  if (interruptCleanups.size === 0 && process.listenerCount("SIGINT") === 0) {
    const interrupted = async (signal: NodeJS.Signals) => {
      process.stdout.write(`\n${signal}: cleaning up the benchmark's database and Redis keys…\n`);
      for (const pending of [...interruptCleanups].reverse()) await pending().catch(() => {});
      process.exit(130);
    };
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
  }
  interruptCleanups.add(cleanup);
  return () => interruptCleanups.delete(cleanup);
}

/**
 * Runs `work` on a migrated database of its own (`cohort_lrs_bench_<tag>_…`), dropped afterwards,
 * also when the run is interrupted (`onInterrupt`).
 */
export async function withBenchDatabase<T>(
  tag: string,
  work: (db: Db, database: Database) => Promise<T>,
): Promise<T> {
  const name = `cohort_lrs_bench_${tag}_${Date.now().toString(36)}`;
  await admin(`create database ${name}`);
  const database = openPostgres(databaseUrl(name));
  // BENCH_KEEP_DATABASE=1 keeps the seeded database for EXPLAIN afterwards (drop it by hand).
  const keep = process.env.BENCH_KEEP_DATABASE === "1";
  const cleanup = async () => {
    if (keep) {
      await database.close();
      console.log(`kept database ${name} (BENCH_KEEP_DATABASE=1): drop it when done`);
      return;
    }
    // First: it ends the pool's connections, so closing the pool cannot wait on a query.
    await admin(`drop database if exists ${name} with (force)`);
    await database.close();
  };
  const forget = onInterrupt(cleanup);
  try {
    await migrate(database.db);
    return await work(database.db, database);
  } finally {
    forget();
    await cleanup();
  }
}

/** The xAPI credential every service benchmark starts its api with (PUBLIC_PEM/SECRET_PEM). */
export const BENCH_KEY = "bench-content";
export const BENCH_SECRET = "bench-content-secret-0123456789";

/** A cohort-lrs started for one benchmark: its database, Redis, environment and processes. */
export interface BenchService {
  /** The environment its processes run with. */
  env: NodeJS.ProcessEnv;
  /** A pool on its database, for seeding and counting. */
  database: Database;
  /** Its Redis (BENCH_REDIS_DB), or undefined when it runs without one. */
  redis: Redis | undefined;
  /** Headers of an xAPI client with the service's credential. */
  headers: Record<string, string>;
  /** Starts `cohort-lrs <role>` (the compiled service); stopped when the benchmark ends. */
  start(role: string, ready?: RegExp): Promise<Child>;
}

/**
 * Runs `work` against a migrated cohort-lrs of its own: a database `cohort_lrs_bench_<tag>_…`,
 * Redis database BENCH_REDIS_DB (its service keys deleted before and after; `redis: false` runs
 * without Redis), a data directory under /tmp, and the BENCH_KEY credential. Everything is stopped,
 * dropped and deleted afterwards, also when the run is interrupted (`onInterrupt`). `env` adds or
 * overrides variables.
 */
export async function withService<T>(
  tag: string,
  options: { env?: Record<string, string>; redis?: boolean },
  work: (service: BenchService) => Promise<T>,
): Promise<T> {
  const name = `cohort_lrs_bench_${tag}_${Date.now().toString(36)}`;
  await admin(`create database ${name}`);
  const url = databaseUrl(name);
  const redis = options.redis === false ? undefined : new Redis(BENCH_REDIS_URL);
  if (redis) await deleteServiceKeys(redis);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: url,
    REDIS_URL: redis ? BENCH_REDIS_URL : "",
    PORT: "0",
    LOG_LEVEL: "warn",
    PUBLIC_PEM: BENCH_KEY,
    SECRET_PEM: BENCH_SECRET,
    DATA_DIR: `/tmp/${name}`,
    ...options.env,
  };
  const children: Child[] = [];
  const database = openPostgres(url);
  const cleanup = async () => {
    for (const child of children.reverse()) await child.stop().catch(() => {});
    // First: it ends the pool's connections, so closing the pool cannot wait on a query.
    await admin(`drop database if exists ${name} with (force)`);
    await database.close();
    if (redis) {
      await deleteServiceKeys(redis);
      redis.disconnect();
    }
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  };
  const forget = onInterrupt(cleanup);
  try {
    await startChild(process.execPath, [BIN, "migrate"], env, /applied|up to date/);
    return await work({
      env,
      database,
      redis,
      headers: xapiHeaders(BENCH_KEY, BENCH_SECRET),
      start: async (role, ready) => {
        const child = await startChild(process.execPath, [BIN, role], env, ready);
        children.push(child);
        return child;
      },
    });
  } finally {
    forget();
    await cleanup();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return 0;
  }
}

/** CPU seconds used by every process whose command name is `name` (e.g. all postgres backends). */
export function cpuSecondsOf(name: string): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) total += cpuSeconds(Number(entry));
    } catch {
      // gone
    }
  }
  return total;
}
