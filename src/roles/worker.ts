/** Role `worker`: consumes the Redis stream and flattens statements (ETL_MODE=streaming). */
import { ConfigError, loadConfig } from "../config.ts";
import { startWorker } from "../etl/startWorker.ts";
import { CONSUMER_GROUP, STATEMENT_STREAM } from "../names.ts";
import { startRoleMetrics } from "../process/metricsServer.ts";
import { startRuntime } from "../process/runtime.ts";
import { stopOnSignal } from "../process/shutdown.ts";

export async function worker(): Promise<void> {
  const config = loadConfig();
  if (!config.redisUrl)
    throw new ConfigError("REDIS_URL", "the worker consumes the Redis stream; set REDIS_URL");
  const runtime = await startRuntime(config, { migrate: false, secrets: false });
  const running = await startWorker(runtime);
  stopOnSignal(runtime, [running.stop, ...(await startRoleMetrics(runtime, true))]);
  process.stdout.write(
    `cohort-lrs: role worker consuming ${STATEMENT_STREAM} as ${running.consumerName} (group ${CONSUMER_GROUP})\n`,
  );
}
