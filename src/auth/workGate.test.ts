import { describe, expect, it } from "vitest";
import { ServerBusy } from "../errors.ts";
import { WorkGate } from "./workGate.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe("WorkGate", () => {
  it("runs at most `concurrency` tasks at once, queues up to `queueLimit`, and refuses the rest at once", async () => {
    const gate = new WorkGate({ concurrency: 2, queueLimit: 3 });
    const release = deferred();
    let running = 0;
    let most = 0;
    const task = async () => {
      running += 1;
      most = Math.max(most, running);
      await release.promise;
      running -= 1;
      return "done";
    };
    const outcomes = Array.from({ length: 8 }, () => gate.run(task).catch((error: unknown) => error));
    expect(gate.load).toEqual({ running: 2, waiting: 3 });
    release.resolve();
    const results = await Promise.all(outcomes);
    expect(results.filter((result) => result === "done")).toHaveLength(5);
    const refused = results.filter((result) => result instanceof ServerBusy) as ServerBusy[];
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ status: 503, code: "server_busy", retryAfterS: 1 });
    expect(most).toBe(2);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it("frees the turn of a task that fails", async () => {
    const gate = new WorkGate({ concurrency: 1, queueLimit: 0 });
    await expect(gate.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(gate.run(async () => 42)).resolves.toBe(42);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});
