/** How every long-running role stops: in order, on SIGTERM or SIGINT, within 20 s. */
import type { Runtime } from "./runtime.ts";

/** Stops `stopFns` in order on SIGTERM/SIGINT, then exits 0; a second signal or a hang exits 1. */
export function stopOnSignal(runtime: Runtime, stopFns: (() => Promise<void>)[]): void {
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
