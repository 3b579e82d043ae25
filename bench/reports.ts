/**
 * Report query benchmark (plan a.07). 100,000 learners in 100 cohorts, 10 lessons per cohort,
 * 1,000,000 flat statements (seeded as in bench/reminders.ts, with times and scores); then:
 *
 * - a JSON page of 100 of a cohort's completions, for 50 different cohorts (and again with a
 *   lesson and a date filter);
 * - a JSON page of 100 of a lesson's incomplete learners, for 50 different lessons;
 * - the whole CSV of a cohort's completions and of a lesson's incomplete learners, streamed as
 *   the route streams it (pages of 1,000 learners), bytes counted and dropped;
 * - then the learners pages' queries (bench/learnerPages.ts: target p95 ≤ 100 ms per page).
 *
 * - the admin area's lessons page (`lessonsOverview`): a page of 20 lessons with each one's
 *   completion rate, unfiltered, for one cohort, and for one due date (100 cohorts' lessons).
 *
 * Target: p95 ≤ 50 ms per report query, ≤ 100 ms per admin page query. Baseline, in the same run: a plain indexed
 * `select * from users where cohort_id = $1` (one cohort's 1,000 learners), the floor of
 * touching a cohort at all.
 */
import { sql } from "drizzle-orm";
import {
  findLesson,
  getCohortCompletions,
  getIncompleteLearners,
  streamCohortCompletions,
  streamIncompleteLearners,
} from "../src/data/completionReports.ts";
import { LESSONS_PER_PAGE, lessonsOverview } from "../src/data/lessonsOverview.ts";
import { type Db, queryRows } from "../src/db/client.ts";
import type { Lesson } from "../src/db/schema.ts";
import { COMPLETION_CSV_COLUMNS, INCOMPLETE_CSV_COLUMNS, toCsv } from "../src/reports/csv.ts";
import { benchLearnerPages } from "./learnerPages.ts";
import { envNumber, type Row, withBenchDatabase } from "./lib.ts";

const LEARNERS = envNumber("BENCH_LEARNERS", 100_000);
/** The seeded data's shape (seedReportData). */
export const COHORTS = 100;
export const LESSONS_PER_COHORT = 10;
const RUNS = envNumber("BENCH_RUNS", 50);
const CSV_RUNS = 5;
const BASE_URL = "http://localhost:8080";
/** The day the seeded data calls today: its last lesson is due then. */
export const TODAY = "2026-03-02";
const TARGET_P95_MS = 50;
/** What an admin page's query may take (issue #15). */
const PAGE_TARGET_P95_MS = 100;

/** A row of an admin page's query: its p95 against the same-run baseline and the pages' target. */
export function pageRow(metric: string, measured: { p95: number }, baseline: { p95: number }): Row {
  return {
    metric,
    value: measured.p95,
    unit: "ms",
    baseline: baseline.p95,
    target: `p95 ≤ ${PAGE_TARGET_P95_MS}`,
    met: measured.p95 <= PAGE_TARGET_P95_MS,
  };
}

export const cohortName = (c: number) => `c${String(c).padStart(3, "0")}`;

/**
 * The benchmarks' data (reports and reminder planning): learners, lessons and flat statements (one statement per learner and
 * lesson of their cohort: a completion for 6 in 7, an "attempted" otherwise; today's lesson
 * completed by half of each cohort), with a `timestamp` on the lesson's day and a score on each
 * completion.
 */
export async function seedReportData(db: Db, learners = LEARNERS): Promise<void> {
  await db.execute(sql`
    insert into users (name, email, avatar, cohort_id, timezone)
    select 'Learner ' || n, 'learner' || n || '@example.com', 'learner' || n, 'c' || lpad((n % ${COHORTS})::text, 3, '0'), 'UTC'
    from generate_series(1, ${learners}) n`);
  await db.execute(sql`
    insert into lessons (cohort_id, activity_id, title, url, lesson_date)
    select 'c' || lpad(c::text, 3, '0'), 'https://lessons.example.com/c' || c || '/day-' || d, 'Day ' || d,
           'https://lessons.example.com/c' || c || '/day-' || d, ${TODAY}::date - (${LESSONS_PER_COHORT} - 1 - d)
    from generate_series(0, ${COHORTS - 1}) c, generate_series(0, ${LESSONS_PER_COHORT - 1}) d`);
  await db.execute(sql`
    insert into statements_raw (id, payload, stored)
    select gen_random_uuid(), jsonb_build_object('n', n, 'd', d), now()
    from generate_series(1, ${learners}) n, generate_series(0, ${LESSONS_PER_COHORT - 1}) d`);
  await db.execute(sql`
    insert into statements_flat (statement_id, actor_mbox, user_id, verb_id, object_id, object_type,
                                 result_score_scaled, result_score_raw, "timestamp", stored, is_completion, voided)
    select r.id, 'mailto:learner' || s.n || '@example.com', u.id,
           case when c.done then 'http://adlnet.gov/expapi/verbs/completed' else 'http://adlnet.gov/expapi/verbs/attempted' end,
           'https://lessons.example.com/c' || (s.n % ${COHORTS}) || '/day-' || s.d,
           'Activity',
           case when c.done then ((s.n * 7 + s.d) % 101) / 100.0 end,
           case when c.done then (s.n * 7 + s.d) % 101 end,
           (${TODAY}::date - (${LESSONS_PER_COHORT} - 1 - s.d))::timestamp at time zone 'UTC'
             + make_interval(secs => 28800 + s.n % 36000),
           now(), c.done, false
    from statements_raw r
    cross join lateral (select (r.payload->>'n')::int as n, (r.payload->>'d')::int as d) s
    join users u on u.email = 'learner' || s.n || '@example.com'
    cross join lateral (select case when s.d = ${LESSONS_PER_COHORT - 1} then (s.n / ${COHORTS}) % 2 = 0
                                    else s.n % 7 <> 0 end as done) c`);
  await db.execute(sql`analyze`);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** Runs `work(i)` `runs` times after two warm-ups; p50 and p95 in ms. */
export async function measure(runs: number, work: (i: number) => Promise<unknown>) {
  await work(runs);
  await work(runs + 1);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1) ?? Number.NaN };
}

/** Drains a CSV stream; its size in bytes and records (header excluded). */
export async function drain(chunks: AsyncIterable<string>): Promise<{ bytes: number; records: number }> {
  let bytes = 0;
  let records = -1;
  for await (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk);
    records += chunk.split("\r\n").length - 1;
  }
  return { bytes, records };
}

export async function benchReports(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  return withBenchDatabase("rep", async (db) => {
    process.stdout.write(
      `reports: seeding ${LEARNERS.toLocaleString("en-US")} learners and their statements…\n`,
    );
    const seedStarted = Date.now();
    await seedReportData(db);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const [{ flat } = { flat: 0 }] = await queryRows<{ flat: number }>(
      db,
      sql`select count(*)::int as flat from statements_flat`,
    );
    // 50 different cohorts, and one lesson in each of 50 cohorts (spread over the days).
    const cohort = (i: number) => cohortName((i * 37) % COHORTS);
    const lessonRows = await queryRows<{ id: string }>(
      db,
      sql`select id from lessons order by cohort_id, lesson_date`,
    );
    const lessons: Lesson[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      lessons.push(
        await findLesson(db, lessonRows[(i * 37 * LESSONS_PER_COHORT + i) % lessonRows.length]!.id),
      );
    }
    const page = { limit: 100, offset: 0 };

    process.stdout.write("reports: baseline (one cohort's users, indexed)…\n");
    const baseline = await measure(RUNS, (i) =>
      queryRows(db, sql`select * from users where cohort_id = ${cohort(i)}`),
    );

    process.stdout.write("reports: cohort completions, JSON pages…\n");
    let completionsTotal = 0;
    const completions = await measure(RUNS, async (i) => {
      const result = await getCohortCompletions(db, cohort(i), {}, page, BASE_URL);
      completionsTotal = result.total;
    });
    const deepPage = await measure(RUNS, (i) =>
      getCohortCompletions(db, cohort(i), {}, { limit: 100, offset: 8_000 }, BASE_URL),
    );
    const filtered = await measure(RUNS, (i) =>
      getCohortCompletions(
        db,
        lessons[i]!.cohortId,
        { lessonId: lessons[i]!.id, from: "2026-02-25", to: `${TODAY}T23:59:59Z` },
        page,
        BASE_URL,
      ),
    );

    process.stdout.write("reports: lesson incomplete, JSON pages…\n");
    let incompleteTotal = 0;
    const incomplete = await measure(RUNS, async (i) => {
      const result = await getIncompleteLearners(db, lessons[i]!, page, BASE_URL);
      incompleteTotal = result.total;
    });

    process.stdout.write("reports: whole-cohort CSV streams…\n");
    let completionsCsv = { bytes: 0, records: 0 };
    const completionsCsvTime = await measure(CSV_RUNS, async (i) => {
      completionsCsv = await drain(
        toCsv(COMPLETION_CSV_COLUMNS, await streamCohortCompletions(db, cohort(i), {}, BASE_URL)),
      );
    });
    let incompleteCsv = { bytes: 0, records: 0 };
    const incompleteCsvTime = await measure(CSV_RUNS, async (i) => {
      incompleteCsv = await drain(
        toCsv(INCOMPLETE_CSV_COLUMNS, streamIncompleteLearners(db, lessons[i]!, BASE_URL)),
      );
    });

    process.stdout.write("reports: the lessons page (admin area)…\n");
    const lessonsPage = { limit: LESSONS_PER_PAGE, offset: 0 };
    let lessonsTotal = 0;
    const lessonsAll = await measure(RUNS, async (i) => {
      const offset = (i % (1000 / LESSONS_PER_PAGE)) * LESSONS_PER_PAGE;
      const result = await lessonsOverview(db, { ...lessonsPage, offset }, BASE_URL);
      lessonsTotal = result.total;
    });
    const lessonsCohort = await measure(RUNS, (i) =>
      lessonsOverview(db, { ...lessonsPage, cohortId: cohort(i) }, BASE_URL),
    );
    const lessonsDay = await measure(RUNS, (i) => {
      const day = new Date(Date.parse(`${TODAY}T00:00:00Z`) - (i % LESSONS_PER_COHORT) * 86_400_000)
        .toISOString()
        .slice(0, 10);
      return lessonsOverview(db, { ...lessonsPage, from: day, to: day }, BASE_URL);
    });
    // Last: it adds reminders and learners, which the report figures above are measured without.
    const learnerPages = await benchLearnerPages(db, RUNS, BASE_URL, baseline);

    const results = {
      learnerPages: learnerPages.results,
      learners: LEARNERS,
      cohorts: COHORTS,
      flatStatements: flat,
      seedSeconds,
      runs: RUNS,
      baselineMs: baseline,
      completionsPageMs: completions,
      completionsTotalPerCohort: completionsTotal,
      completionsDeepPageMs: deepPage,
      completionsFilteredPageMs: filtered,
      incompletePageMs: incomplete,
      incompleteTotalPerLesson: incompleteTotal,
      completionsCsvMs: completionsCsvTime,
      completionsCsv,
      incompleteCsvMs: incompleteCsvTime,
      incompleteCsv,
      lessonsPageMs: { all: lessonsAll, cohort: lessonsCohort, day: lessonsDay },
      lessonsTotal,
    };
    const target = `p95 ≤ ${TARGET_P95_MS}`;
    const rows: Row[] = [
      { metric: "flat statements", value: flat, unit: "rows" },
      { metric: "baseline: one cohort's users, p95", value: baseline.p95, unit: "ms" },
      {
        metric: "cohort completions, page of 100, first read of each cohort, p50",
        value: completions.p50,
        unit: "ms",
        baseline: baseline.p50,
      },
      {
        metric: `cohort completions, page of 100 (of ${completionsTotal.toLocaleString("en-US")}), first read, p95`,
        value: completions.p95,
        unit: "ms",
        baseline: baseline.p95,
        target,
        met: completions.p95 <= TARGET_P95_MS,
      },
      {
        metric: "cohort completions, offset 8,000, same cohorts again, p95",
        value: deepPage.p95,
        unit: "ms",
        baseline: baseline.p95,
        target,
        met: deepPage.p95 <= TARGET_P95_MS,
      },
      {
        metric: "cohort completions, lesson + date filter, p95",
        value: filtered.p95,
        unit: "ms",
        baseline: baseline.p95,
        target,
        met: filtered.p95 <= TARGET_P95_MS,
      },
      {
        metric: "lesson incomplete, page of 100, p50",
        value: incomplete.p50,
        unit: "ms",
        baseline: baseline.p50,
      },
      {
        metric: `lesson incomplete, page of 100 (of ${incompleteTotal.toLocaleString("en-US")}), p95`,
        value: incomplete.p95,
        unit: "ms",
        baseline: baseline.p95,
        target,
        met: incomplete.p95 <= TARGET_P95_MS,
      },
      {
        metric: `whole cohort completions CSV (${completionsCsv.records.toLocaleString("en-US")} rows, ${Math.round(completionsCsv.bytes / 1024)} KiB), p50`,
        value: completionsCsvTime.p50,
        unit: "ms",
        baseline: baseline.p50,
      },
      {
        metric: `whole lesson incomplete CSV (${incompleteCsv.records.toLocaleString("en-US")} rows), p50`,
        value: incompleteCsvTime.p50,
        unit: "ms",
        baseline: baseline.p50,
      },
      pageRow(
        `lessons page, ${LESSONS_PER_PAGE} of ${lessonsTotal.toLocaleString("en-US")} lessons with completion rates, p95`,
        lessonsAll,
        baseline,
      ),
      pageRow("lessons page, one cohort's lessons, p95", lessonsCohort, baseline),
      pageRow("lessons page, one due date (a lesson of every cohort), p95", lessonsDay, baseline),
      ...learnerPages.rows,
    ];
    return { rows, results };
  });
}
