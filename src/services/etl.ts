/**
 * The ETL parts of a process: the stream consumer (role `worker`, streaming mode) and the
 * in-process sweeper (role `all`; and every mode's safety net until the scheduler role takes
 * the schedule over). Both flatten with the same context, built from the configuration.
 */
import type { Config } from "../config.ts";
import type { FlattenContext } from "../etl/flattenStatement.ts";
import { type ConsumerOptions, StreamConsumer } from "../etl/streamConsumer.ts";
import { Sweeper } from "../etl/sweeper.ts";
import type { Runtime } from "../runtime.ts";

export function flattenContext(config: Pick<Config, "completionVerbs" | "publicBaseUrl">): FlattenContext {
  return { completionVerbs: new Set(config.completionVerbs), publicBaseUrl: config.publicBaseUrl };
}

/** Starts the stream consumer; resolves once its consumer group exists. */
export async function startWorker(runtime: Runtime, options: ConsumerOptions = {}): Promise<StreamConsumer> {
  if (!runtime.redis) throw new Error("the worker needs REDIS_URL (it consumes the Redis stream)");
  // Blocking reads hold their connection: the consumer gets its own.
  const redis = runtime.redis.duplicate();
  // While Redis is away every reconnect attempt fails with an error event: the runtime's own
  // connection logs the outage once, and the consumer each failed read with its back-off.
  redis.on("error", () => {});
  const consumer = new StreamConsumer(
    {
      db: runtime.database.db,
      redis,
      log: runtime.log.child({ role: "worker" }),
      context: flattenContext(runtime.config),
    },
    { claimIdleMs: runtime.config.workerClaimIdleMs, ...options },
  );
  await consumer.start();
  const stop = consumer.stop.bind(consumer);
  consumer.stop = async () => {
    await stop();
    redis.disconnect();
  };
  return consumer;
}

export function startSweeper(runtime: Runtime): Sweeper {
  const sweeper = new Sweeper(
    {
      db: runtime.database.db,
      log: runtime.log.child({ task: "incremental-etl" }),
      context: flattenContext(runtime.config),
    },
    runtime.config.incrementalEtlIntervalMs,
  );
  sweeper.start();
  return sweeper;
}
