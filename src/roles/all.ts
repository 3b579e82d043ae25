/**
 * Role `all`: every role in one process, the default for local use. It migrates first, serves
 * HTTP, runs the reminder schedule and works the job queue, sweeps in-process (every
 * INCREMENTAL_ETL_INTERVAL and right after ingestion), and consumes the stream when
 * ETL_MODE=streaming and Redis is configured.
 */
import { loadConfig } from "../config.ts";
import { startWorker } from "../etl/startWorker.ts";
import { startSweeper } from "../etl/sweeper.ts";
import { createRunner } from "../jobs/createRunner.ts";
import { DAILY_REMINDERS } from "../jobs/definitions.ts";
import { runTaskNow } from "../jobs/runTaskNow.ts";
import { startBanner } from "../process/banner.ts";
import { startRoleMetrics } from "../process/metricsServer.ts";
import { startRuntime } from "../process/runtime.ts";
import { recordServer } from "../process/serverFile.ts";
import { stopOnSignal } from "../process/shutdown.ts";
import { startApi } from "../process/startApi.ts";

export async function all(): Promise<void> {
  const runtime = await startRuntime(loadConfig(), { migrate: true });
  const runner = createRunner(runtime, { scheduled: [DAILY_REMINDERS], work: true });
  await runner.start();
  const sweeper = startSweeper(runtime);
  const worker =
    runtime.config.etlMode === "streaming" && runtime.redis ? await startWorker(runtime) : undefined;
  const http = await startApi(runtime, {
    onStatementsStored: () => sweeper.nudge(),
    // The stream worker and the scheduler need Redis: without it this process is not ready.
    redisRequired: runtime.redis !== undefined,
    runTask: (name, request) => runTaskNow(runtime, runner, name, request),
  });
  const serverFile = recordServer(runtime, http.url);
  stopOnSignal(runtime, [
    http.stop,
    ...(worker ? [worker.stop] : []),
    () => sweeper.stop(),
    () => runner.stop(),
    async () => serverFile.remove(),
    ...(await startRoleMetrics(runtime, true)),
  ]);
  process.stdout.write(startBanner("all", http.url, runtime));
}
