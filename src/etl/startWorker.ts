/** The stream worker of roles `worker` and `all`: a StreamConsumer on a Redis connection of its own. */
import type { Runtime } from "../process/runtime.ts";
import { flattenContext } from "./flattenContext.ts";
import { type ConsumerOptions, StreamConsumer } from "./streamConsumer.ts";

export interface RunningWorker {
  /** The consumer's name in the group (host and process id). */
  consumerName: string;
  /** Stops consuming (finishing the batch in hand), then closes the worker's connection. */
  stop(): Promise<void>;
}

/** Starts the stream consumer; resolves once its consumer group exists. */
export async function startWorker(runtime: Runtime, options: ConsumerOptions = {}): Promise<RunningWorker> {
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
  return {
    consumerName: consumer.consumerName,
    async stop() {
      await consumer.stop();
      redis.disconnect();
    },
  };
}
