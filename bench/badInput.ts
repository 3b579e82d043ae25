/**
 * Memory under bad input (moved here from the bad-input test, whose heap check depended on the
 * machine's load): the 10,000 generated invalid xAPI requests of `test/bad-input.test.ts`, sent
 * in-process (`app.inject`) to the real app on a PostgreSQL database of its own, with the live
 * heap (after a full collection) measured every 2,000 requests.
 *
 * Target: what is live at the last two checkpoints is at most 16 MiB above the first (no
 * per-request leak). Baseline: the first checkpoint.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { brokenRequest, invalidStatement } from "../test/helpers/badRequests.ts";
import { createCredential } from "../test/helpers/xapi.ts";
import type { Row } from "./lib.ts";
import { withBenchDatabase } from "./lib.ts";

const TARGET_GROWTH_MIB = 16;
const MIB = 1024 * 1024;

/**
 * The heap after a full garbage collection: what is still referenced. Without the collection,
 * heapUsed also counts garbage not yet collected, which depends on the machine's load, not on
 * what the code keeps.
 */
function liveHeap(): number {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

export async function benchBadInput(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  return withBenchDatabase("bad", async (db, database) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-bench-bad-"));
    const app = await createApp({
      config: loadConfig({
        DATA_DIR: dataDir,
        ADMIN_PASSWORD: "bench-admin-password-0123",
        LOG_LEVEL: "silent",
        BODY_LIMIT: "256kb",
      }),
      database,
      adminPassword: "bench-admin-password-0123",
      signingSecret: "bench-signing-secret-0123456789-abcdefghij",
    });
    try {
      await app.ready();
      const content = await createCredential(db, { name: "bench content" });
      const heap: number[] = [];
      const statuses: Record<number, number> = {};
      let cases = 0;
      const send = async (payload: string | Buffer, contentType: string) => {
        const response = await app.inject({
          method: "POST",
          url: "/xapi/statements",
          headers: { ...content.headers, "content-type": contentType },
          payload,
        });
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        if (++cases % 2_000 === 0) heap.push(liveHeap());
      };
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(invalidStatement, ({ body }) => send(JSON.stringify(body), "application/json")),
        { numRuns: 8_000, seed: 20261127 },
      );
      await fc.assert(
        fc.asyncProperty(brokenRequest, ({ payload, contentType }) => send(payload, contentType)),
        { numRuns: 2_000, seed: 20261127 },
      );
      const elapsedMs = Date.now() - started;
      const growth = (Math.max(...heap.slice(-2)) - heap[0]!) / MIB;
      const rows: Row[] = [
        { metric: "requests refused", value: cases - (statuses[200] ?? 0), unit: "" },
        { metric: "live heap at the first checkpoint", value: heap[0]! / MIB, unit: "MiB" },
        {
          metric: "live heap growth by the last checkpoints",
          value: growth,
          unit: "MiB",
          target: `≤ ${TARGET_GROWTH_MIB} MiB`,
          met: growth <= TARGET_GROWTH_MIB,
        },
        { metric: "requests per second", value: (cases / elapsedMs) * 1000, unit: "req/s" },
      ];
      return { rows, results: { heapMiB: heap.map((bytes) => bytes / MIB), statuses, elapsedMs } };
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
