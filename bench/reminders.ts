/**
 * Reminder planning benchmark (issue: daily reminders). 100,000 learners in 100 cohorts, 10
 * lessons per cohort, 1,000,000 flat statements; then one tick at REMINDER_HOUR: compute the
 * incomplete set, record the notifications and queue one BullMQ send job per learner and lesson.
 * Target ≤ 5 s. Baseline, in the same run: reading the same learners and today's completions with
 * plain SELECTs and no logic (the floor of touching that data once).
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { loadConfig } from "../src/config.ts";
import { getIncompleteUsers } from "../src/data/getIncompleteUsers.ts";
import { openPostgres, queryRows } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { BullMqRunner, JOB_QUEUE } from "../src/jobs/bullmqRunner.ts";
import { DAILY_REMINDERS, type JobContext } from "../src/jobs/definitions.ts";
import { runAttempt } from "../src/jobs/runAttempt.ts";
import { outboxEmailClient } from "../src/mail/emailClient.ts";
import { admin, BENCH_REDIS_URL, databaseUrl, envNumber, onInterrupt, type Row } from "./lib.ts";
import { COHORTS, seedReportData, TODAY } from "./reports.ts";

const REDIS_URL = BENCH_REDIS_URL;
const LEARNERS = envNumber("BENCH_LEARNERS", 100_000);
const BASE_URL = "http://localhost:8080";

export async function benchReminders(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  const name = `cohort_lrs_bench_rem_${Date.now().toString(36)}`;
  await admin(`create database ${name}`);
  const database = openPostgres(databaseUrl(name));
  const prefix = `cohort-lrs-bench-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(REDIS_URL);
  const cleanup = async () => {
    // First: it ends the pool's connections, so closing the pool cannot wait on a query.
    await admin(`drop database if exists ${name} with (force)`);
    await database.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  };
  const forget = onInterrupt(cleanup);
  try {
    await migrate(database.db);
    const db = database.db;
    process.stdout.write(
      `reminders: seeding ${LEARNERS.toLocaleString("en-US")} learners and their statements…\n`,
    );
    const seedStarted = Date.now();
    await seedReportData(db, LEARNERS);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const [{ flat } = { flat: 0 }] = await queryRows<{ flat: number }>(
      db,
      sql`select count(*)::int as flat from statements_flat`,
    );

    process.stdout.write("reminders: baseline reads…\n");
    const baselineStarted = performance.now();
    await queryRows(db, sql`select id, email, cohort_id from users where reminders_enabled`);
    await queryRows(
      db,
      sql`select f.user_id, l.id from lessons l join statements_flat f on f.object_id = l.activity_id
          where l.lesson_date = ${TODAY}::date and f.is_completion and not f.voided`,
    );
    const baselineMs = performance.now() - baselineStarted;

    process.stdout.write("reminders: the incomplete set…\n");
    const queryStarted = performance.now();
    const incomplete = await getIncompleteUsers(db, TODAY, { publicBaseUrl: BASE_URL });
    const queryMs = performance.now() - queryStarted;

    process.stdout.write("reminders: one full tick (plan, record, queue on BullMQ)…\n");
    const config = loadConfig({ PUBLIC_BASE_URL: BASE_URL, REMINDER_HOUR: "18", DATA_DIR: `/tmp/${name}` });
    const services = {
      db,
      log: pino({ level: "silent" }),
      config,
      email: outboxEmailClient(`/tmp/${name}/outbox`, "bench@example.com"),
      signingSecret: "bench-signing-secret-0123456789-abcdefgh",
    };
    const runner = new BullMqRunner(services, redis, { scheduled: [], work: false, prefix });
    // The real job, as the scheduler runs it: plan, record, queue one send job per reminder.
    const context = {
      ...services,
      enqueue: runner.enqueue.bind(runner),
      enqueueBulk: runner.enqueueBulk.bind(runner),
    } as JobContext;
    const runTick = () =>
      runAttempt(
        context,
        DAILY_REMINDERS,
        { at: `${TODAY}T18:00:00Z` },
        { number: 1, max: 1, final: true },
        randomUUID(),
      );
    const tickStarted = performance.now();
    const tick = await runTick();
    const tickMs = performance.now() - tickStarted;
    // The same tick again (a re-run, or a second scheduler): nothing new to record or send.
    const againStarted = performance.now();
    const again = await runTick();
    const againMs = performance.now() - againStarted;
    const created = tick.outcome === "succeeded" ? Number(tick.detail.notificationsCreated) : Number.NaN;
    const recreated = again.outcome === "succeeded" ? Number(again.detail.notificationsCreated) : Number.NaN;
    const queued = await redis
      .zcard(`${prefix}:${JOB_QUEUE}:prioritized`)
      .then(async (p) => p + (await redis.llen(`${prefix}:${JOB_QUEUE}:wait`)));
    await runner.stop();

    const results = {
      learners: LEARNERS,
      cohorts: COHORTS,
      flatStatements: flat,
      seedSeconds,
      baselineMs,
      incompleteQueryMs: queryMs,
      incomplete: incomplete.length,
      tickMs,
      tick: tick.outcome === "succeeded" ? tick.detail : tick,
      rerunMs: againMs,
      rerun: again.outcome === "succeeded" ? again.detail : again,
      jobsInQueue: queued,
    };
    const rows: Row[] = [
      { metric: "flat statements", value: flat, unit: "rows" },
      { metric: "incomplete set (getIncompleteUsers)", value: queryMs, unit: "ms", baseline: baselineMs },
      { metric: "learners due", value: incomplete.length, unit: "learners" },
      {
        metric: "notifications created",
        value: created,
        unit: "rows",
        baseline: incomplete.length,
        target: "= due",
        met: created === incomplete.length,
      },
      {
        metric: "re-run of the tick (creates nothing)",
        value: againMs,
        unit: "ms",
        target: "0 created",
        met: recreated === 0,
      },
      {
        metric: "full tick: plan + notifications + queue",
        value: tickMs,
        unit: "ms",
        baseline: baselineMs,
        target: "≤ 5,000",
        met: tickMs <= 5_000,
      },
      {
        metric: "send jobs queued",
        value: queued,
        unit: "jobs",
        baseline: incomplete.length,
        target: "= due",
        met: queued === incomplete.length,
      },
    ];
    return { rows, results };
  } finally {
    forget();
    await cleanup();
  }
}
