/**
 * `cohort-lrs cmi5-launch`: launches a cmi5 AU for a learner (writes LMS.LaunchData, records
 * `launched`) and prints the launch URL. On PostgreSQL it writes the launch itself; against a
 * running embedded server (which holds the database) the server creates it.
 */
import { type Cmi5LaunchOption, cmi5LaunchRequest } from "../cmi5/launchOptions.ts";
import { type Cmi5Launch, createCmi5Launch } from "../commands/createCmi5Launch.ts";
import { loadConfig } from "../config.ts";
import { AppError } from "../errors.ts";
import { commandRuntime } from "../process/runtime.ts";
import { adminRequestToServer } from "../process/serverFile.ts";
import { CommandFailed, UsageError } from "../process/usageError.ts";

export async function cmi5Launch(options: Partial<Record<Cmi5LaunchOption, string>>): Promise<void> {
  const request = cmi5LaunchRequest(options);
  if ("problems" in request) throw new UsageError(`cmi5-launch: ${request.problems.join("; ")}`);
  const config = loadConfig();
  const runtime = await commandRuntime(config);
  if (!runtime) {
    // The embedded database is held by a running server: ask it to create the launch.
    const answer = await adminRequestToServer(config, "/api/cmi5/launches", request.body, "launch");
    const body = answer.body as Cmi5Launch & { message?: string };
    if (answer.status !== 201)
      throw new CommandFailed(`cmi5-launch: ${body.message ?? `the server answered ${answer.status}`}`);
    printLaunch(body);
    return;
  }
  let launch: Cmi5Launch;
  try {
    launch = await createCmi5Launch(runtime.database.db, request.body, {
      publicBaseUrl: config.publicBaseUrl,
      signingSecret: runtime.signingSecret,
    });
  } catch (error) {
    if (error instanceof AppError) throw new CommandFailed(`cmi5-launch: ${error.message}`);
    throw error;
  } finally {
    await runtime.close();
  }
  printLaunch(launch);
}

/** The launch URL alone on the first line (for scripts), then what the operator may want to keep. */
function printLaunch(
  launch: Pick<Cmi5Launch, "url" | "registration" | "sessionId"> & { expiresAt: Date | string },
): void {
  const expires = typeof launch.expiresAt === "string" ? launch.expiresAt : launch.expiresAt.toISOString();
  process.stdout.write(
    `${launch.url}\nregistration: ${launch.registration}\nsession: ${launch.sessionId}\ncredential expires: ${expires}\n`,
  );
}
