/**
 * The `cohort-lrs` command: one binary, one role per process (DESIGN §2). This file parses the
 * command line and dispatches; each role is a file of its own in src/roles/.
 *
 *   cohort-lrs all        every role in one process; migrates first
 *   cohort-lrs api        the HTTP service only; refuses a database with pending migrations
 *   cohort-lrs worker     the Redis stream consumer that flattens statements
 *   cohort-lrs scheduler  the scheduled tasks (the incremental sweep, the reminders)
 *   cohort-lrs migrate    applies pending migrations and exits
 *   cohort-lrs run-task   runs one scheduled task now
 *   cohort-lrs cmi5-launch  launches a cmi5 AU for a learner and prints the launch URL
 */
import { parseArgs } from "node:util";
import { CMI5_LAUNCH_OPTIONS, type Cmi5LaunchOption } from "./cmi5/launchOptions.ts";
import { ConfigError } from "./config.ts";
import { contractCommand } from "./contracts/contractCommand.ts";
import { DirLockedError } from "./db/dirLock.ts";
import { SchemaError } from "./db/migrate.ts";
import { JOBS, TASK_NAMES } from "./jobs/definitions.ts";
import { CommandFailed, UsageError } from "./process/usageError.ts";
import { all } from "./roles/all.ts";
import { api } from "./roles/api.ts";
import { cmi5Launch } from "./roles/cmi5Launch.ts";
import { migrate } from "./roles/migrate.ts";
import { runTask } from "./roles/runTask.ts";
import { scheduler } from "./roles/scheduler.ts";
import { worker } from "./roles/worker.ts";

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
${TASK_NAMES.map((name) => `                   ${name.padEnd(17)} ${JOBS[name].summary}\n`).join("")}                 against a running embedded server, the server runs it
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
        return await all();
      case "api":
        return await api();
      case "worker":
        return await worker();
      case "scheduler":
        return await scheduler();
      case "migrate":
        return await migrate();
      case "contract":
        return contractCommand(rest);
      case "cmi5-launch":
        return await cmi5Launch(launchOptions);
      case "run-task":
        return await runTask(rest[0], {
          ...(typeof parsed.values.at === "string" ? { at: parsed.values.at } : {}),
          ...(parsed.values["dry-run"] ? { dryRun: true } : {}),
        });
      default:
        fail(`unknown command "${command}"\n\n${USAGE}`, EXIT_USAGE);
    }
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, EXIT_USAGE);
    if (error instanceof CommandFailed) fail(error.message);
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
