/**
 * Fault-test harness: private services that tests may kill (never the machine's shared ones),
 * the roles as real child processes, and statements posted with known ids.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLesson } from "../../src/commands/createLesson.ts";
import { signUp } from "../../src/commands/signUp.ts";
import type { Db } from "../../src/db/client.ts";
import { freePort } from "../helpers/cli.ts";
import { statement } from "../helpers/xapi.ts";

export { freePort };

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PrivateRedis {
  url: string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port and directory, with what its append-only file kept, or
   * `empty` (as a Redis without persistence comes back).
   */
  start(options?: { empty?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of the test's own, on a free port, with AOF on as in production. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-redis-"));
  let child: ChildProcess | undefined;
  const start = async (options: { empty?: boolean } = {}) => {
    if (options.empty) rmSync(path.join(dir, "appendonlydir"), { recursive: true, force: true });
    child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
      ],
      {
        stdio: "ignore",
      },
    );
    await waitForPort(port);
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
    current.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    kill: () => stopWith("SIGKILL"),
    start,
    stop: () => stopWith("SIGTERM"),
  };
}

/** A statement with a known id. */
export function knownStatement(id = randomUUID()): Record<string, unknown> {
  return { ...(statement() as unknown as Record<string, unknown>), id };
}

export interface PostOutcome {
  acknowledged: string[];
  failed: number;
  /** Ids of statements whose request failed, by how (status code or error code). */
  failedIds: Map<string, string[]>;
  statuses: Map<string, number>;
}

/**
 * Posts `batches` of statements (known ids) with `concurrency` requests in flight, calling
 * `during(batchNumber)` after each batch is answered. Returns the ids whose request got a 2xx.
 */
export async function postStatements(
  url: string,
  headers: Record<string, string>,
  options: {
    batches: number;
    perBatch: number;
    concurrency: number;
    during?: (batch: number) => Promise<void> | void;
  },
): Promise<PostOutcome> {
  const outcome: PostOutcome = { acknowledged: [], failed: 0, statuses: new Map(), failedIds: new Map() };
  const failedWith = (key: string, ids: string[]) =>
    outcome.failedIds.set(key, [...(outcome.failedIds.get(key) ?? []), ...ids]);
  let next = 0;
  const count = (key: string) => outcome.statuses.set(key, (outcome.statuses.get(key) ?? 0) + 1);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let batch = next++; batch < options.batches; batch = next++) {
        const statements = Array.from({ length: options.perBatch }, () => knownStatement());
        try {
          const response = await fetch(`${url}/xapi/statements`, {
            method: "POST",
            headers: { ...headers, "content-type": "application/json" },
            body: JSON.stringify(statements),
            signal: AbortSignal.timeout(30_000),
          });
          count(String(response.status));
          if (response.ok) outcome.acknowledged.push(...statements.map((s) => s.id as string));
          else {
            outcome.failed += 1;
            failedWith(
              String(response.status),
              statements.map((s) => s.id as string),
            );
          }
          await response.arrayBuffer();
        } catch (error) {
          const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
          count(code);
          outcome.failed += 1;
          failedWith(
            code,
            statements.map((s) => s.id as string),
          );
        }
        await options.during?.(batch);
      }
    }),
  );
  return outcome;
}

export function dataDir(): string {
  return mkdtempSync(path.join(tmpdir(), "cohort-lrs-faults-"));
}

export interface PrivatePostgres {
  url: string;
  /** Fast shutdown, as an operator stopping the server: sessions are cut, the port closes. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (Debian's binaries, a fresh cluster in a temporary
 * directory, a free port, trust auth), never the machine's shared one. As root it runs as the
 * `postgres` user, since PostgreSQL refuses to run as root.
 */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const { readdirSync, chownSync, mkdirSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  const bin = `/usr/lib/postgresql/${versions[0]}/bin`;
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-pg-"));
  const data = path.join(dir, "data");
  mkdirSync(data);
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) =>
    asRoot ? (["runuser", ["-u", "postgres", "--", command, ...args]] as const) : ([command, args] as const);
  if (asRoot) {
    const pgUser = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const pgGroup = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, pgUser, pgGroup);
    chownSync(data, pgUser, pgGroup);
  }
  const [initCommand, initArgs] = run(`${bin}/initdb`, [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
  ]);
  execFileSync(initCommand, initArgs, { stdio: "ignore" });
  const pgCtl = (action: string[]) => {
    const [command, args] = run(`${bin}/pg_ctl`, ["-D", data, "-w", "-t", "30", ...action]);
    execFileSync(command, args, { stdio: "ignore" });
  };
  const start = async () => {
    pgCtl([
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "-l",
      path.join(dir, "log"),
      "start",
    ]);
    await waitForPort(port);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => pgCtl(["-m", "fast", "stop"]),
    start,
  };
}

/** Day 1 of cohort c1, due 2026-03-02, and `learners` learners of c1 (learner0@example.com …). */
export async function seedCohort(db: Db, learners: number): Promise<void> {
  await createLesson(db, {
    cohortId: "c1",
    activityId: "https://lessons.example.com/day-1",
    title: "Day 1",
    lessonDate: "2026-03-02",
  });
  for (let i = 0; i < learners; i++) {
    await signUp(db, {
      name: `L${i}`,
      email: `learner${i}@example.com`,
      avatar: `learner${i}`,
      cohortId: "c1",
    });
  }
}

/** The environment of a `scheduler` (or `run-task`) on private services, reminding at 18:00. */
export function schedulerEnv(urls: {
  database: string;
  redis: string;
  smtp: string;
}): Record<string, string> {
  return {
    DATABASE_URL: urls.database,
    REDIS_URL: urls.redis,
    SMTP_URL: urls.smtp,
    DATA_DIR: dataDir(),
    LOG_LEVEL: "warn",
    APP_SECRET: "faults-app-secret-0123456789-abcdefghijklmn",
    REMINDER_HOUR: "18",
  };
}
