/**
 * The `cohort-lrs` command: one binary, one role per process (DESIGN §2).
 *
 *   cohort-lrs all        every role in one process; migrates first
 *   cohort-lrs api        the HTTP service only; refuses a database with pending migrations
 *   cohort-lrs worker     the Redis stream consumer that flattens statements
 *   cohort-lrs scheduler  the scheduled tasks (the incremental sweep)
 *   cohort-lrs migrate    applies pending migrations and exits
 *   cohort-lrs run-task   runs one scheduled task now
 *   cohort-lrs cmi5-launch  launches a cmi5 AU for a learner and prints the launch URL
 */
import { parseArgs } from "node:util";
import { CMI5_LAUNCH_OPTIONS, type Cmi5LaunchOption, cmi5LaunchRequest } from "./cmi5/launchOptions.ts";
import { type Cmi5Launch, createCmi5Launch } from "./commands/createCmi5Launch.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { ContractError, readContracts, updateContractStatus } from "./contracts/contracts.ts";
import { DirLockedError } from "./db/dirLock.ts";
import { SchemaError } from "./db/migrate.ts";
import { AppError } from "./errors.ts";
import { CONSUMER_GROUP, STATEMENT_STREAM } from "./etl/stream.ts";
import { checkReadiness } from "./health/readiness.ts";
import { isSaneInstant, SANE_DATES } from "./http/validation.ts";
import { type Runtime, startRuntime } from "./runtime.ts";
import { startApi } from "./services/api.ts";
import { startBanner } from "./services/banner.ts";
import { startSweeper, startWorker } from "./services/etl.ts";
import { createRunner, runTaskNow, TASKS, type TaskName } from "./services/jobs.ts";
import { startMetricsServer } from "./services/metricsServer.ts";
import { sweepProgress } from "./services/runTask.ts";
import { adminRequestToServer, runTaskOnServer, writeServerFile } from "./services/serverFile.ts";

const USAGE = `Usage: cohort-lrs <command> [options]

Commands:
  all            run every role in one process (the default for local use); migrates the database first
  api            run the HTTP service (xAPI, REST API, admin pages, /docs)
  worker         consume the Redis stream and flatten statements (ETL_MODE=streaming; needs REDIS_URL)
  scheduler      run the scheduled tasks: the sweep every INCREMENTAL_ETL_INTERVAL, reminders hourly
  migrate        apply pending database migrations and exit
  contract set-status MODULE STATUS
                 set a plan module's contract status (planned, in_progress, done)
  contract list  the plan modules and their status
  run-task NAME  run one task now and print what it did; NAME is one of:
                   incremental-etl   flatten every stored statement that has no flat row yet
                   daily-reminders   plan (and send) the reminders due at --at (default: now)
                 against a running embedded server, the server runs it
  cmi5-launch    launch a cmi5 AU for a learner: writes LMS.LaunchData, records "launched",
                 prints the launch URL (open it within 30 minutes; it works for one session)
                   --learner AVATAR        the learner (required)
                   --activity-id IRI       the AU's activity id (required)
                   --au-url URL            where the AU is served (required)
                   --launch-mode MODE      Normal (default), Browse or Review
                   --move-on CRITERION     CompletedOrPassed (default), Completed, Passed,
                                           CompletedAndPassed or NotApplicable
                   --mastery-score 0..1, --return-url URL, --launch-parameters TEXT,
                   --publisher-id IRI (default: the activity id),
                   --registration UUID (launch again in an earlier registration)

Options:
  --at ISO       daily-reminders: the instant to plan, e.g. 2026-03-02T18:00:00+01:00
  --dry-run      daily-reminders: list who would be reminded; change and send nothing
  -h, --help     show this help

Configuration comes from environment variables (see README.md, "Configuration").
With no DATABASE_URL the embedded PGlite database in DATA_DIR (default ./data) is used.
`;

/** Exit codes: 0 ok, 1 failure at run time, 2 bad usage or configuration. */
const EXIT_USAGE = 2;

function fail(message: string, code = 1): never {
  process.stderr.write(`cohort-lrs: ${message}\n`);
  process.exit(code);
}

/** Stops `stopFns` in order on SIGTERM/SIGINT, then exits 0; a second signal or a hang exits 1. */
function onShutdown(runtime: Runtime, stopFns: (() => Promise<void>)[]): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      runtime.log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    runtime.log.info({ signal }, "shutting down: finishing in-flight work");
    const timer = setTimeout(() => {
      runtime.log.error("shutdown took longer than 20 s: exiting");
      process.exit(1);
    }, 20_000);
    timer.unref();
    try {
      for (const stop of stopFns) await stop();
      await runtime.close();
      runtime.log.info("stopped");
      process.exit(0);
    } catch (error) {
      runtime.log.error({ err: error }, "error while shutting down");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/**
 * With METRICS_PORT set, this role also serves GET /metrics there (no auth: a private network),
 * and GET /health/ready for what the role needs (`redisRequired`: it cannot work without Redis).
 */
async function metricsListener(runtime: Runtime, redisRequired: boolean): Promise<(() => Promise<void>)[]> {
  const { config } = runtime;
  if (!config.metricsPort) return [];
  const server = await startMetricsServer(config.metricsPort, config.host, () =>
    checkReadiness({ database: runtime.database, redis: runtime.redis, redisRequired }),
  );
  process.stdout.write(`cohort-lrs: metrics at ${server.url}\n`);
  return [server.stop];
}

async function runServer(role: "all" | "api"): Promise<void> {
  const config = loadConfig();
  const runtime = await startRuntime(config, { migrate: role === "all" });
  const stops: (() => Promise<void>)[] = [];
  let onStatementsStored: (() => void) | undefined;
  // `all` runs the schedules too; `api` only queues (Redis) or runs (embedded) what it is asked to.
  const runner = createRunner(runtime, {
    scheduled: role === "all" ? ["daily-reminders"] : [],
    work: role === "all" || !runtime.redis,
  });
  await runner.start();
  if (role === "all") {
    const sweeper = startSweeper(runtime);
    onStatementsStored = () => sweeper.nudge();
    if (config.etlMode === "streaming" && runtime.redis) {
      const worker = await startWorker(runtime);
      stops.push(() => worker.stop());
    }
    stops.push(() => sweeper.stop());
  }
  stops.push(() => runner.stop());
  const api = await startApi(runtime, {
    onStatementsStored,
    // `all` runs the stream worker and the scheduler, which need Redis; `api` works on without it.
    redisRequired: role === "all" && runtime.redis !== undefined,
    runTask: (name, request) => runTaskNow(runtime, runner, name, request),
  });
  const serverFile =
    runtime.database.kind === "pglite" ? writeServerFile(config.dataDir, api.url) : undefined;
  onShutdown(runtime, [
    api.stop,
    ...stops,
    async () => serverFile?.remove(),
    ...(await metricsListener(runtime, role === "all")),
  ]);
  process.stdout.write(startBanner(role, api.url, runtime));
}

async function runWorker(): Promise<void> {
  const config = loadConfig();
  if (!config.redisUrl)
    throw new ConfigError("REDIS_URL", "the worker consumes the Redis stream; set REDIS_URL");
  const runtime = await startRuntime(config, { migrate: false, secrets: false });
  const worker = await startWorker(runtime);
  onShutdown(runtime, [() => worker.stop(), ...(await metricsListener(runtime, true))]);
  process.stdout.write(
    `cohort-lrs: role worker consuming ${STATEMENT_STREAM} as ${worker.consumerName} (group ${CONSUMER_GROUP})\n`,
  );
}

async function runScheduler(): Promise<void> {
  const config = loadConfig();
  const runtime = await startRuntime(config, { migrate: false, secrets: false });
  const runner = createRunner(runtime, { scheduled: ["incremental-etl", "daily-reminders"] });
  await runner.start();
  onShutdown(runtime, [() => runner.stop(), ...(await metricsListener(runtime, true))]);
  process.stdout.write(
    `cohort-lrs: role scheduler on ${runner.description}: incremental-etl every ${config.incrementalEtlIntervalMs / 1000} s, ` +
      `daily-reminders hourly (REMINDER_HOUR ${config.reminderHour}, mail: ${runtime.email.description})\n`,
  );
}

async function runOneTask(
  name: string | undefined,
  options: { at?: string; dryRun?: boolean },
): Promise<void> {
  if (!name || !(TASKS as readonly string[]).includes(name)) {
    fail(`run-task needs a task name: one of ${TASKS.join(", ")}`, EXIT_USAGE);
  }
  const task = name as TaskName;
  const at = options.at === undefined ? undefined : new Date(options.at);
  if (at && (Number.isNaN(at.getTime()) || !isSaneInstant(at)))
    fail(
      `--at must be an ISO 8601 instant from ${SANE_DATES.from} to ${SANE_DATES.to} such as 2026-03-02T18:00:00Z, got "${options.at}"`,
      EXIT_USAGE,
    );
  if ((at || options.dryRun) && task !== "daily-reminders")
    fail("--at and --dry-run apply to daily-reminders only", EXIT_USAGE);
  const request = { ...(at ? { at } : {}), ...(options.dryRun ? { dryRun: true } : {}) };
  const config = loadConfig();
  let runtime: Runtime;
  try {
    runtime = await startRuntime(config, { migrate: false, secrets: false });
  } catch (error) {
    if (!(error instanceof DirLockedError)) throw error;
    // The embedded database is held by a running server: ask it to run the task.
    const report = await runTaskOnServer(config, task, request);
    for (const line of report.lines) process.stdout.write(`${line}\n`);
    if (!report.ok) process.exitCode = 1;
    return;
  }
  // Sends go to the scheduler's queue when there is Redis; otherwise this process sends them.
  const runner = createRunner(runtime, { scheduled: [], work: !runtime.redis });
  await runner.start();
  try {
    const progress = sweepProgress(process.stdout, () => 0);
    const report = await runTaskNow(runtime, runner, task, request, progress.onProgress);
    progress.finish();
    for (const line of report.lines) process.stdout.write(`${line}\n`);
    if (!report.ok) process.exitCode = 1;
  } finally {
    await runner.stop();
    await runtime.close();
  }
}

async function runCmi5Launch(options: Partial<Record<Cmi5LaunchOption, string>>): Promise<void> {
  const request = cmi5LaunchRequest(options);
  if ("problems" in request) fail(`cmi5-launch: ${request.problems.join("; ")}`, EXIT_USAGE);
  const config = loadConfig();
  let launch: Omit<Cmi5Launch, "expiresAt"> & { expiresAt: Date | string };
  let runtime: Runtime;
  try {
    runtime = await startRuntime(config, { migrate: false, secrets: false });
  } catch (error) {
    if (!(error instanceof DirLockedError)) throw error;
    // The embedded database is held by a running server: ask it to create the launch.
    const answer = await adminRequestToServer(config, "/api/cmi5/launches", request.body, "launch");
    const body = answer.body as Cmi5Launch & { message?: string };
    if (answer.status !== 201) fail(`cmi5-launch: ${body.message ?? `the server answered ${answer.status}`}`);
    printLaunch(body);
    return;
  }
  try {
    launch = await createCmi5Launch(runtime.database.db, request.body, {
      publicBaseUrl: config.publicBaseUrl,
      signingSecret: runtime.signingSecret,
    });
  } catch (error) {
    if (error instanceof AppError) fail(`cmi5-launch: ${error.message}`);
    throw error;
  } finally {
    await runtime.close();
  }
  printLaunch(launch);
}

/** The launch URL alone on the first line (for scripts), then what the operator may want to keep. */
function printLaunch(
  launch: Pick<Cmi5Launch, "url" | "registration" | "sessionId"> & { expiresAt: Date | string },
) {
  const expires = typeof launch.expiresAt === "string" ? launch.expiresAt : launch.expiresAt.toISOString();
  process.stdout.write(
    `${launch.url}\nregistration: ${launch.registration}\nsession: ${launch.sessionId}\ncredential expires: ${expires}\n`,
  );
}

function runContract(args: string[]): void {
  const [action, module, status] = args;
  if (action === "list") {
    const { contracts, problems } = readContracts();
    for (const { contract } of contracts)
      process.stdout.write(
        `${contract.module.padEnd(6)} ${contract.status.padEnd(11)} ${contract.title ?? ""}\n`,
      );
    for (const problem of problems) process.stdout.write(`invalid: ${problem.file}: ${problem.problem}\n`);
    if (problems.length) process.exitCode = 1;
    return;
  }
  if (action !== "set-status" || !module || !status) {
    fail(
      "usage: cohort-lrs contract set-status MODULE STATUS (e.g. a.04 done), or cohort-lrs contract list",
      EXIT_USAGE,
    );
  }
  try {
    const updated = updateContractStatus(module, status);
    process.stdout.write(`${updated.module}: ${updated.status}\n`);
  } catch (error) {
    if (error instanceof ContractError) fail(error.message, EXIT_USAGE);
    throw error;
  }
}

async function runMigrate(): Promise<void> {
  const config = loadConfig();
  const runtime = await startRuntime(config, { migrate: true, secrets: false, migrateOnly: true });
  const applied = runtime.migrationsApplied;
  process.stdout.write(
    applied.length
      ? `applied ${applied.length} migration(s): ${applied.join(", ")}\n`
      : "database schema is up to date; nothing to apply\n",
  );
  await runtime.close();
}

export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        at: { type: "string" },
        "dry-run": { type: "boolean" },
        ...Object.fromEntries(
          Object.keys(CMI5_LAUNCH_OPTIONS).map((name) => [name, { type: "string" as const }]),
        ),
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`, EXIT_USAGE);
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || command === "help" || command === undefined) {
    process.stdout.write(USAGE);
    if (command === undefined && !parsed.values.help) process.exitCode = EXIT_USAGE;
    return;
  }
  const maxArgs = command === "run-task" ? 1 : command === "contract" ? 3 : 0;
  const launchOptions = Object.fromEntries(
    Object.keys(CMI5_LAUNCH_OPTIONS)
      .filter((name) => typeof parsed.values[name] === "string")
      .map((name) => [name, parsed.values[name] as string]),
  ) as Partial<Record<Cmi5LaunchOption, string>>;
  if (command !== "cmi5-launch" && Object.keys(launchOptions).length > 0)
    fail(`--${Object.keys(launchOptions)[0]} applies to cmi5-launch only`, EXIT_USAGE);
  if (rest.length > maxArgs) fail(`unexpected argument "${rest[maxArgs]}"\n\n${USAGE}`, EXIT_USAGE);
  try {
    switch (command) {
      case "all":
      case "api":
        return await runServer(command);
      case "worker":
        return await runWorker();
      case "scheduler":
        return await runScheduler();
      case "migrate":
        return await runMigrate();
      case "contract":
        return runContract(rest);
      case "cmi5-launch":
        return await runCmi5Launch(launchOptions);
      case "run-task":
        return await runOneTask(rest[0], {
          ...(typeof parsed.values.at === "string" ? { at: parsed.values.at } : {}),
          ...(parsed.values["dry-run"] ? { dryRun: true } : {}),
        });
      default:
        fail(`unknown command "${command}"\n\n${USAGE}`, EXIT_USAGE);
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`, EXIT_USAGE);
    if (error instanceof SchemaError || error instanceof DirLockedError) fail(error.message);
    const message = (error as Error).message ?? String(error);
    if (/ECONNREFUSED|ENOTFOUND|timeout exceeded when trying to connect/.test(message)) {
      fail(`cannot reach the database: ${message}`);
    }
    throw error;
  }
}

await main(process.argv.slice(2));
