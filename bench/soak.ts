/**
 * Soak benchmark (issue: reliability and security suite). SOAK_SECONDS (default 600) of mixed
 * load against the production roles as separate processes, `api`, `worker` and `scheduler`, on
 * PostgreSQL and Redis, with a real SMTP listener receiving the reminders:
 *
 * - single-statement POSTs at SOAK_SINGLE_RATE requests/s (default 600, 20 connections);
 * - batch-of-100 POSTs at SOAK_BATCH_RATE requests/s (default 10, so 1,000 statements/s);
 * - report reads, a page of 100 of a cohort's completions, at SOAK_REPORT_RATE/s (default 10);
 * - a reminder run (`POST /api/tasks/daily-reminders/run`) every SOAK_REMINDER_EVERY seconds
 *   (default 60), each for the next lesson day, its emails sent by the scheduler.
 *
 * The load is offered at fixed rates (open loop), well below what this machine sustains (see the
 * ingestion benchmark): a busy day, not a stress test. A service that keeps up shows the same throughput and p99 in
 * every window and memory that levels off. Each window of SOAK_WINDOW seconds (default 30)
 * prints one line: the curve. The baseline, measured in the same run, is the first third of the
 * windows after one warm-up window; the last third is compared with it.
 *
 * Steady means: throughput within ±10 %, p99 at most 1.5×, RSS of each process grown at most
 * 10 %; and 0 errors (failed requests, non-2xx answers, error lines in any process's log), every
 * statement flattened, every reminder email received exactly once.
 */
import { sql } from "drizzle-orm";
import { SMTPServer } from "smtp-server";
import { queryRows } from "../src/db/client.ts";
import {
  type BenchService,
  benchStatement,
  envNumber,
  type LoadResult,
  load,
  type Row,
  rssMiB,
  sampleRss,
  sleep,
  withService,
} from "./lib.ts";
import { COHORTS, cohortName, LESSONS_PER_COHORT, seedReportData, TODAY } from "./reports.ts";

const SECONDS = envNumber("SOAK_SECONDS", 600);
const WINDOW_SECONDS = envNumber("SOAK_WINDOW", 30);
const SINGLE_RATE = envNumber("SOAK_SINGLE_RATE", 600);
const BATCH_RATE = envNumber("SOAK_BATCH_RATE", 10);
const REPORT_RATE = envNumber("SOAK_REPORT_RATE", 10);
const REMINDER_EVERY_SECONDS = envNumber("SOAK_REMINDER_EVERY", 60);
const LEARNERS = envNumber("SOAK_LEARNERS", 10_000);
const ADMIN_PASSWORD = "soak-admin-password-0123456789";

const THROUGHPUT_TOLERANCE = 0.1;
const P99_GROWTH = 1.5;
const RSS_GROWTH = 1.1;

interface Window {
  index: number;
  /** Seconds since the load started, at the window's end. */
  atS: number;
  singles: LoadResult;
  batches: LoadResult;
  reports: LoadResult;
  /** Statements stored in the window: flatten lag p99 (stored → flat row written), ms. */
  flattenLagP99Ms: number | null;
  rssMiB: { api: number; worker: number; scheduler: number };
  rssPeakMiB: { api: number; worker: number; scheduler: number };
}

interface ReminderRun {
  atS: number;
  lessonDate: string;
  status: number;
  ms: number;
  created: number | null;
  error?: string;
}

interface SmtpSink {
  url: string;
  byMessageId: Map<string, number>;
  close(): Promise<void>;
}

/** An SMTP listener that counts the messages it accepts by Message-ID. */
async function smtpSink(): Promise<SmtpSink> {
  const byMessageId = new Map<string, number>();
  let unnamed = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      let head = "";
      stream.on("data", (chunk: Buffer) => {
        if (head.length < 16_384) head += chunk.toString("latin1");
      });
      stream.on("end", () => {
        const id = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? `(no Message-ID) ${unnamed++}`;
        byMessageId.set(id, (byMessageId.get(id) ?? 0) + 1);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    byMessageId,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Least-squares slope of `values` over `times` (minutes): growth per minute. */
function slopePerMinute(times: number[], values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const mt = times.reduce((a, b) => a + b, 0) / n;
  const mv = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (times[i]! - mt) * (values[i]! - mv);
    den += (times[i]! - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * A one-line chart of `values` on a scale from 0 to their highest (█), so a steady series reads
 * as a flat line whatever its size, and a spike as a spike.
 */
export function sparkline(values: number[]): string {
  const bars = "▁▂▃▄▅▆▇█";
  const high = Math.max(0, ...values.filter(Number.isFinite));
  return values
    .map((v) => (Number.isFinite(v) ? bars[high === 0 ? 0 : Math.round((v / high) * 7)] : " "))
    .join("");
}

const perSecond = (result: LoadResult, perRequest = 1) =>
  ((result.requests - result.non2xx) * perRequest) / result.durationS;
const failures = (result: LoadResult) => result.errors + result.non2xx;

const CURVE_HEADER =
  "  window  t(s)  single/s  p99 ms  batch st/s  p99 ms  report/s  p99 ms  lag p99  api MiB  worker MiB  scheduler MiB  errors";

function curveLine(w: Window): string {
  const cells = [
    String(w.index).padStart(8),
    String(Math.round(w.atS)).padStart(5),
    perSecond(w.singles).toFixed(0).padStart(9),
    String(w.singles.p99Ms).padStart(7),
    perSecond(w.batches, 100).toFixed(0).padStart(11),
    String(w.batches.p99Ms).padStart(7),
    perSecond(w.reports).toFixed(1).padStart(9),
    String(w.reports.p99Ms).padStart(7),
    (w.flattenLagP99Ms === null ? "-" : `${Math.round(w.flattenLagP99Ms)}`).padStart(8),
    w.rssMiB.api.toFixed(0).padStart(8),
    w.rssMiB.worker.toFixed(0).padStart(11),
    w.rssMiB.scheduler.toFixed(0).padStart(14),
    String(failures(w.singles) + failures(w.batches) + failures(w.reports)).padStart(7),
  ];
  return cells.join(" ");
}

export async function benchSoak(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  const smtp = await smtpSink();
  try {
    return await withService(
      "soak",
      {
        env: {
          SMTP_URL: smtp.url,
          ADMIN_PASSWORD,
          APP_SECRET: "soak-app-secret-0123456789-abcdefghijklmn",
          REMINDER_HOUR: "18",
        },
      },
      (service) => soak(service, smtp),
    );
  } finally {
    await smtp.close();
  }
}

async function soak(
  service: BenchService,
  smtp: SmtpSink,
): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  const db = service.database.db;
  process.stdout.write(`soak: seeding ${LEARNERS.toLocaleString("en-US")} learners and their statements…\n`);
  await seedReportData(db, LEARNERS);

  const api = await service.start("api");
  const worker = await service.start("worker", /role worker consuming/);
  const scheduler = await service.start("scheduler", /role scheduler/);
  const pids = { api: api.process.pid!, worker: worker.process.pid!, scheduler: scheduler.process.pid! };
  const statementsUrl = `${api.url}/xapi/statements`;
  const headers = service.headers;
  const single = JSON.stringify(benchStatement());
  const batch = JSON.stringify(Array.from({ length: 100 }, benchStatement));
  const reportRequests = Array.from({ length: 20 }, (_, i) => ({
    method: "GET" as const,
    path: `/api/reports/cohorts/${cohortName((i * 7) % COHORTS)}/completions?limit=100`,
  }));

  // Reminder runs, one lesson day after another (the seeded lessons are due on the last
  // LESSONS_PER_COHORT days up to TODAY; today's is left out so every run is about the same
  // size). Past the last day they start over, and then must create nothing new.
  const reminderRuns: ReminderRun[] = [];
  const lessonDays = Array.from({ length: LESSONS_PER_COHORT - 1 }, (_, d) => {
    const day = new Date(`${TODAY}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() - (LESSONS_PER_COHORT - 1 - d));
    return day.toISOString().slice(0, 10);
  });
  let loadStarted = 0;
  const runReminders = async (lessonDate: string) => {
    const started = performance.now();
    const atS = (Date.now() - loadStarted) / 1000;
    try {
      const response = await fetch(`${api.url}/api/tasks/daily-reminders/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_PASSWORD}`, "content-type": "application/json" },
        body: JSON.stringify({ at: `${lessonDate}T18:00:00Z` }),
      });
      const body = (await response.json()) as { detail?: { notificationsCreated?: number } };
      reminderRuns.push({
        atS,
        lessonDate,
        status: response.status,
        ms: performance.now() - started,
        created: body.detail?.notificationsCreated ?? null,
      });
    } catch (error) {
      reminderRuns.push({
        atS,
        lessonDate,
        status: 0,
        ms: performance.now() - started,
        created: null,
        error: (error as Error).message,
      });
    }
  };

  const windowCount = Math.max(1, Math.round(SECONDS / WINDOW_SECONDS));
  process.stdout.write(
    `soak: ${windowCount} windows of ${WINDOW_SECONDS} s: ${SINGLE_RATE} single POST/s, ${BATCH_RATE} batch-100 POST/s, ` +
      `${REPORT_RATE} report reads/s, a reminder run every ${REMINDER_EVERY_SECONDS} s\n${CURVE_HEADER}\n`,
  );
  loadStarted = Date.now();
  let nextRun = 0;
  const pendingRuns: Promise<void>[] = [];
  const reminderTimer = setInterval(() => {
    pendingRuns.push(runReminders(lessonDays[nextRun++ % lessonDays.length]!));
  }, REMINDER_EVERY_SECONDS * 1000);
  const windows: Window[] = [];
  try {
    for (let index = 1; index <= windowCount; index++) {
      const windowStart = new Date();
      const samplers = {
        api: sampleRss(pids.api, 1_000),
        worker: sampleRss(pids.worker, 1_000),
        scheduler: sampleRss(pids.scheduler, 1_000),
      };
      const [singles, batches, reports] = await Promise.all([
        load({
          url: statementsUrl,
          method: "POST",
          headers,
          body: single,
          connections: 20,
          overallRate: SINGLE_RATE,
          duration: WINDOW_SECONDS,
        }),
        load({
          url: statementsUrl,
          method: "POST",
          headers,
          body: batch,
          connections: 4,
          overallRate: BATCH_RATE,
          duration: WINDOW_SECONDS,
        }),
        load({
          url: api.url,
          headers: { authorization: `Bearer ${ADMIN_PASSWORD}` },
          requests: reportRequests,
          connections: 4,
          overallRate: REPORT_RATE,
          duration: WINDOW_SECONDS,
        }),
      ]);
      const peak = (samples: number[]) => Math.max(0, ...samples);
      const rssPeakMiB = {
        api: peak(samplers.api.stop()),
        worker: peak(samplers.worker.stop()),
        scheduler: peak(samplers.scheduler.stop()),
      };
      const [lag] = await queryRows<{ p99: number | null }>(
        db,
        sql`select percentile_cont(0.99) within group (order by extract(epoch from (flattened_at - stored)) * 1000) as p99
              from statements_flat
              where stored >= ${windowStart.toISOString()}::timestamptz and stored < now()`,
      );
      const window: Window = {
        index,
        atS: (Date.now() - loadStarted) / 1000,
        singles,
        batches,
        reports,
        flattenLagP99Ms: lag?.p99 ?? null,
        rssMiB: { api: rssMiB(pids.api), worker: rssMiB(pids.worker), scheduler: rssMiB(pids.scheduler) },
        rssPeakMiB,
      };
      windows.push(window);
      process.stdout.write(`${curveLine(window)}\n`);
    }
  } finally {
    clearInterval(reminderTimer);
  }
  await Promise.all(pendingRuns);

  process.stdout.write("soak: waiting until every statement is flattened and every reminder sent…\n");
  const counts = async () => {
    const [row] = await queryRows<{
      raw: number;
      flat: number;
      pending: number;
      sent: number;
      other: number;
    }>(
      db,
      sql`select (select count(*)::int from statements_raw) as raw,
                   (select count(*)::int from statements_flat) as flat,
                   (select count(*)::int from notifications where status = 'pending') as pending,
                   (select count(*)::int from notifications where status = 'sent') as sent,
                   (select count(*)::int from notifications where status not in ('pending', 'sent')) as other`,
    );
    return row!;
  };
  let final = await counts();
  for (let i = 0; i < 240 && (final.flat < final.raw || final.pending > 0); i++) {
    await sleep(500);
    final = await counts();
  }
  await sleep(1_000); // a duplicate email would arrive now
  const received = [...smtp.byMessageId.values()].reduce((a, b) => a + b, 0);
  const duplicates = [...smtp.byMessageId.values()].reduce((a, n) => a + n - 1, 0);
  const errorLines = { api: api.errorLines, worker: worker.errorLines, scheduler: scheduler.errorLines };
  const logErrors = api.errorLines.length + worker.errorLines.length + scheduler.errorLines.length;
  const failedRuns = reminderRuns.filter((run) => run.status !== 200);

  // Baseline: the first third after the warm-up window; compared: the last third.
  const measured = windows.length > 1 ? windows.slice(1) : windows;
  const third = Math.max(1, Math.floor(measured.length / 3));
  const first = measured.slice(0, third);
  const last = measured.slice(-third);
  const compare = (pick: (w: Window) => number) => ({
    value: median(last.map(pick)),
    baseline: median(first.map(pick)),
  });
  const within = (value: number, baseline: number, tolerance: number) =>
    Math.abs(value / baseline - 1) <= tolerance;
  // Thirds of fewer than six windows are too few to tell steady from lucky: no verdict then.
  const judged = measured.length >= 6;
  const steady = (ok: boolean) => (judged ? ok : undefined);
  if (!judged) {
    process.stdout.write(
      `soak: ${measured.length} window(s) after the warm-up are too few to judge steadiness; ` +
        "it takes 6 (SOAK_SECONDS of at least 7 × SOAK_WINDOW)\n",
    );
  }

  const rows: Row[] = [];
  const throughputRow = (metric: string, unit: string, pick: (w: Window) => number) => {
    const { value, baseline } = compare(pick);
    rows.push({
      metric,
      value,
      unit,
      baseline,
      target: "±10 % of first third",
      met: steady(within(value, baseline, THROUGHPUT_TOLERANCE)),
    });
  };
  const p99Row = (metric: string, pick: (w: Window) => number) => {
    const { value, baseline } = compare(pick);
    rows.push({
      metric,
      value,
      unit: "ms",
      baseline,
      target: "≤ 1.5× first third",
      met: steady(value <= baseline * P99_GROWTH),
    });
  };
  throughputRow("single POST throughput (last third; baseline first)", "req/s", (w) => perSecond(w.singles));
  p99Row("single POST p99", (w) => w.singles.p99Ms);
  throughputRow("batch-100 POST throughput", "st/s", (w) => perSecond(w.batches, 100));
  p99Row("batch-100 POST p99", (w) => w.batches.p99Ms);
  throughputRow("report reads", "req/s", (w) => perSecond(w.reports));
  p99Row("report read p99", (w) => w.reports.p99Ms);
  const worstLag = Math.max(...measured.map((w) => w.flattenLagP99Ms ?? 0));
  rows.push({
    metric: "flatten lag p99, worst window",
    value: worstLag,
    unit: "ms",
    target: "≤ 250",
    met: worstLag <= 250,
  });
  const times = measured.map((w) => w.atS / 60);
  for (const part of ["api", "worker", "scheduler"] as const) {
    const { value, baseline } = compare((w) => w.rssMiB[part]);
    rows.push({
      metric: `${part} RSS`,
      value,
      unit: "MiB",
      baseline,
      target: "≤ 1.10× first third",
      met: steady(value <= baseline * RSS_GROWTH),
    });
    rows.push({
      metric: `${part} RSS trend`,
      value: slopePerMinute(
        times,
        measured.map((w) => w.rssMiB[part]),
      ),
      unit: "MiB/min",
    });
  }
  const requestErrors = windows.reduce(
    (n, w) => n + failures(w.singles) + failures(w.batches) + failures(w.reports),
    0,
  );
  rows.push({
    metric: "errors (requests, reminder runs, log lines)",
    value: requestErrors + failedRuns.length + logErrors,
    unit: "",
    target: "0",
    met: requestErrors + failedRuns.length + logErrors === 0,
  });
  rows.push({
    metric: "statements flattened (baseline: stored)",
    value: final.flat,
    unit: "rows",
    baseline: final.raw,
    target: "= stored",
    met: final.flat === final.raw,
  });
  rows.push({
    metric: "reminder emails received (baseline: sent)",
    value: received,
    unit: "emails",
    baseline: final.sent,
    target: "= sent, 0 twice",
    met: received === final.sent && duplicates === 0 && final.pending === 0 && final.sent > 0,
  });
  rows.push({
    metric: "reminder runs (slowest)",
    value: Math.max(0, ...reminderRuns.map((run) => run.ms)),
    unit: "ms",
  });

  process.stdout.write("\nsoak: the curves, one mark per window (█ is the highest value, ▁ near zero)\n");
  const curves: [string, number[], string][] = [
    ["single POST/s", measured.map((w) => perSecond(w.singles)), "req/s"],
    ["single p99", measured.map((w) => w.singles.p99Ms), "ms"],
    ["batch st/s", measured.map((w) => perSecond(w.batches, 100)), "st/s"],
    ["batch p99", measured.map((w) => w.batches.p99Ms), "ms"],
    ["report p99", measured.map((w) => w.reports.p99Ms), "ms"],
    ["api RSS", measured.map((w) => w.rssMiB.api), "MiB"],
    ["worker RSS", measured.map((w) => w.rssMiB.worker), "MiB"],
    ["scheduler RSS", measured.map((w) => w.rssMiB.scheduler), "MiB"],
  ];
  for (const [label, values, unit] of curves) {
    const finite = values.filter(Number.isFinite);
    process.stdout.write(
      `  ${label.padEnd(14)} ${sparkline(values)}  ${Math.min(...finite).toFixed(0)}–${Math.max(...finite).toFixed(0)} ${unit}\n`,
    );
  }
  if (logErrors) {
    process.stdout.write("soak: error lines in the logs (first of each process):\n");
    for (const [part, lines] of Object.entries(errorLines))
      if (lines[0]) process.stdout.write(`  ${part}: ${lines[0].slice(0, 500)}\n`);
  }

  return {
    rows,
    results: {
      seconds: SECONDS,
      windowSeconds: WINDOW_SECONDS,
      rates: { single: SINGLE_RATE, batch: BATCH_RATE, report: REPORT_RATE },
      learners: LEARNERS,
      windows,
      reminderRuns,
      final,
      emails: { received, duplicates, distinct: smtp.byMessageId.size },
      errorLines: Object.fromEntries(Object.entries(errorLines).map(([k, v]) => [k, v.slice(0, 20)])),
    },
  };
}
