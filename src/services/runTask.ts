/**
 * `cohort-lrs run-task NAME`: runs one scheduled task now, shows its progress, prints what it did.
 */
import { countUnflattened } from "../etl/runIncrementalEtl.ts";
import { sweepOnce } from "../etl/sweeper.ts";
import type { Runtime } from "../runtime.ts";
import { flattenContext } from "./etl.ts";

export const TASKS = ["incremental-etl"] as const;
export type TaskName = (typeof TASKS)[number];

/** `[#####-----]  45%  12,345/27,000 rows  8,100 rows/s` on a terminal; a plain line otherwise. */
export function progressLine(done: number, total: number, elapsedMs: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000) : 0;
  const fmt = (n: number) => n.toLocaleString("en-US");
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${fmt(done)}/${fmt(total)} rows  ${fmt(rate)} rows/s`;
}

export async function runTask(
  runtime: Runtime,
  name: TaskName,
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  switch (name) {
    case "incremental-etl": {
      const backlog = await countUnflattened(runtime.database.db);
      out.write(`incremental-etl: ${backlog.toLocaleString("en-US")} statement(s) to flatten\n`);
      let lastPlain = 0;
      const result = await sweepOnce(
        { db: runtime.database.db, log: runtime.log, context: flattenContext(runtime.config) },
        "cli",
        (progress) => {
          const line = progressLine(
            progress.flattened + progress.failed,
            Math.max(backlog, progress.flattened),
            progress.elapsedMs,
          );
          if (out.isTTY) out.write(`\r${line}`);
          else if (Date.now() - lastPlain >= 2_000) {
            lastPlain = Date.now();
            out.write(`${line}\n`);
          }
        },
      );
      if (out.isTTY && backlog > 0) out.write("\n");
      out.write(
        `incremental-etl: flattened ${result.flattened} statement(s) in ${result.elapsedMs} ms` +
          `${result.failed ? `; ${result.failed} could not be flattened (see task_status)` : ""}` +
          `${result.voidsReconciled ? `; ${result.voidsReconciled} void(s) reconciled` : ""}\n`,
      );
      for (const failure of result.failures.slice(0, 10))
        out.write(`  ${failure.statementId}: ${failure.error}\n`);
      if (result.failed) process.exitCode = 1;
      return;
    }
  }
}
