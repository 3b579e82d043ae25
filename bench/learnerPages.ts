/**
 * The learners pages' queries (`/ui/learners`, `/ui/learners/{id}`), part of `npm run bench --
 * reports`, on its data: 100,000 learners in 100 cohorts, 1,000,000 flat statements, and one
 * reminder per learner (added here). Each page is timed as it runs its queries, concurrently:
 *
 * - the list: a page of 50, the count (capped at 1,000) and the cohorts; with no search, with a
 *   search that finds one learner, one that finds thousands, a one- or two-character name
 *   prefix, a cohort, a search within a cohort, and a page 50,000 learners deep;
 * - a learner: their lessons with completion, their newest 50 statements, their reminders, for
 *   50 different learners.
 *
 * Also timed, once each: the whole CSV of a cohort (1,000 learners) and of every learner, and
 * adding 1,000 learners from a CSV file. Target: p95 ≤ 100 ms per page.
 */
import { sql } from "drizzle-orm";
import { addLearners, readLearnerCsv } from "../src/commands/addLearners.ts";
import {
  countLearners,
  type LearnerCursor,
  type LearnerSearch,
  learnerCohorts,
  learnerLessons,
  learnerNotifications,
  learnerStatements,
  searchLearners,
  streamLearners,
} from "../src/data/learners.ts";
import { type Db, queryRows } from "../src/db/client.ts";
import { LEARNER_CSV_COLUMNS, toCsv } from "../src/reports/csv.ts";
import { RECENT_STATEMENTS } from "../src/ui/learnerPage.ts";
import { COUNT_CAP, PAGE_SIZE } from "../src/ui/learnersPage.ts";
import type { Row } from "./lib.ts";
import { COHORTS, cohortName, drain, measure, pageRow, TODAY } from "./reports.ts";

const COHORT_SUGGESTIONS = 500;

/** What `/ui/learners` runs for one request. */
function listPage(db: Db, search: LearnerSearch, after?: LearnerCursor) {
  return Promise.all([
    searchLearners(db, search, { after, limit: PAGE_SIZE }),
    countLearners(db, search, COUNT_CAP),
    learnerCohorts(db, COHORT_SUGGESTIONS),
  ]);
}

/** What `/ui/learners/{id}` runs for one request. */
function learnerPage(db: Db, userId: string, publicBaseUrl: string) {
  return Promise.all([
    learnerLessons(db, userId, publicBaseUrl),
    learnerStatements(db, userId, publicBaseUrl, RECENT_STATEMENTS),
    learnerNotifications(db, userId, 200),
  ]);
}

export async function benchLearnerPages(
  db: Db,
  runs: number,
  publicBaseUrl: string,
  baseline: { p50: number; p95: number },
): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  process.stdout.write("reports: learners pages (one reminder per learner first)…\n");
  await db.execute(sql`
    insert into notifications (user_id, lesson_id, status, attempts, sent_at)
    select u.id, l.id, 'sent', 1, now() from users u join lessons l on l.cohort_id = u.cohort_id and l.lesson_date = ${TODAY}::date`);
  await db.execute(sql`analyze notifications`);
  const [learners] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from users`);
  const total = learners?.n ?? 0;
  const [deep] = await queryRows<{ name: string; id: string }>(
    db,
    sql`select name, id from users order by name, id offset ${Math.floor(total / 2)} limit 1`,
  );
  const userIds = await queryRows<{ id: string }>(
    db,
    sql`select id from users order by id limit ${runs + 2}`,
  );
  const learnerNumber = (i: number) => ((i * 7919) % total) + 1;

  const kinds: [string, (i: number) => Promise<unknown>][] = [
    ["list, no search", () => listPage(db, {})],
    [
      "list, search finding one learner (email fragment)",
      (i) => listPage(db, { q: `learner${learnerNumber(i)}@` }),
    ],
    ["list, search finding thousands (learner1…9)", (i) => listPage(db, { q: `learner${(i % 9) + 1}` })],
    ["list, two-character name prefix (every learner)", () => listPage(db, { q: "le" })],
    ["list, one cohort", (i) => listPage(db, { cohortId: cohortName((i * 37) % COHORTS) })],
    [
      "list, search within a cohort",
      (i) => listPage(db, { q: `learner${(i % 9) + 1}`, cohortId: cohortName((i * 37) % COHORTS) }),
    ],
    [
      `list, a page ${Math.floor(total / 2).toLocaleString("en-US")} learners deep`,
      () => listPage(db, {}, deep),
    ],
    ["a learner's page", (i) => learnerPage(db, userIds[i % userIds.length]!.id, publicBaseUrl)],
  ];
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  for (const [name, work] of kinds) {
    const timing = await measure(runs, work);
    results[name] = timing;
    rows.push(pageRow(`${name}, p95`, timing, baseline));
  }

  process.stdout.write("reports: learners CSV exports and a 1,000-row upload…\n");
  let started = performance.now();
  const cohortCsv = await drain(toCsv(LEARNER_CSV_COLUMNS, streamLearners(db, { cohortId: cohortName(7) })));
  const cohortCsvMs = performance.now() - started;
  started = performance.now();
  const allCsv = await drain(toCsv(LEARNER_CSV_COLUMNS, streamLearners(db, {})));
  const allCsvMs = performance.now() - started;
  const file = Buffer.from(
    `name,email,avatar,cohortId\n${Array.from({ length: 1_000 }, (_, i) => `Upload ${i},upload${i}@example.com,upload${i},${cohortName(i % COHORTS)}`).join("\n")}\n`,
  );
  started = performance.now();
  const uploaded = await addLearners(db, readLearnerCsv(file), publicBaseUrl);
  const uploadMs = performance.now() - started;
  const added = uploaded.filter((row) => row.outcome === "added").length;
  Object.assign(results, { cohortCsv, cohortCsvMs, allCsv, allCsvMs, uploadMs, uploadAdded: added });
  rows.push(
    {
      metric: `learners CSV of a cohort (${cohortCsv.records.toLocaleString("en-US")} rows)`,
      value: cohortCsvMs,
      unit: "ms",
    },
    {
      metric: `learners CSV of everyone (${allCsv.records.toLocaleString("en-US")} rows, ${Math.round(allCsv.bytes / 1024)} KiB)`,
      value: allCsvMs,
      unit: "ms",
    },
    {
      metric: `adding ${added.toLocaleString("en-US")} learners from a CSV file`,
      value: uploadMs,
      unit: "ms",
    },
  );
  return { rows, results };
}
