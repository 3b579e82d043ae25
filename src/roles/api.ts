/**
 * Role `api`: the HTTP service (xAPI, REST API, admin pages, /docs). It refuses a database with
 * pending migrations, and runs no schedules: a task asked of it is queued on BullMQ (a scheduler
 * runs it) or, without Redis, run in this process.
 */
import { loadConfig } from "../config.ts";
import { createRunner } from "../jobs/createRunner.ts";
import { runTaskNow } from "../jobs/runTaskNow.ts";
import { startBanner } from "../process/banner.ts";
import { startRoleMetrics } from "../process/metricsServer.ts";
import { startRuntime } from "../process/runtime.ts";
import { recordServer } from "../process/serverFile.ts";
import { stopOnSignal } from "../process/shutdown.ts";
import { startApi } from "../process/startApi.ts";

export async function api(): Promise<void> {
  const runtime = await startRuntime(loadConfig(), { migrate: false });
  const runner = createRunner(runtime, { scheduled: [], work: !runtime.redis });
  await runner.start();
  // Without Redis the api is ready while its database is; with Redis it works on without it.
  const http = await startApi(runtime, {
    redisRequired: false,
    runTask: (name, request) => runTaskNow(runtime, runner, name, request),
  });
  const serverFile = recordServer(runtime, http.url);
  stopOnSignal(runtime, [
    http.stop,
    () => runner.stop(),
    async () => serverFile.remove(),
    ...(await startRoleMetrics(runtime, false)),
  ]);
  process.stdout.write(startBanner("api", http.url, runtime));
}
