/** The progress display of `cohort-lrs run-task incremental-etl`: a bar on a terminal, lines otherwise. */

/** `[#####-----]  45%  12,345/27,000 rows  8,100 rows/s` */
export function progressLine(done: number, total: number, elapsedMs: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000) : 0;
  const fmt = (n: number) => n.toLocaleString("en-US");
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${fmt(done)}/${fmt(total)} rows  ${fmt(rate)} rows/s`;
}

/**
 * A progress callback for the sweep: a redrawn bar on a terminal, a plain line every 2 s
 * otherwise (logs and CI). `finish()` ends the bar's line.
 */
export function sweepProgress(out: NodeJS.WriteStream, total: () => number) {
  let lastPlain = 0;
  let drawn = false;
  return {
    onProgress(progress: { flattened: number; failed: number; backlog: number; elapsedMs: number }) {
      const line = progressLine(
        progress.flattened + progress.failed,
        Math.max(total() || progress.backlog, progress.flattened),
        progress.elapsedMs,
      );
      if (out.isTTY) {
        out.write(`\r${line}`);
        drawn = true;
      } else if (Date.now() - lastPlain >= 2_000) {
        lastPlain = Date.now();
        out.write(`${line}\n`);
      }
    },
    finish() {
      if (drawn) out.write("\n");
    },
  };
}
