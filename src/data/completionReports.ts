/**
 * The report queries (DESIGN §8, plan a.07): who completed which lesson of a cohort, and who has
 * not completed a lesson. One place for their SQL, shared by the JSON pages and the CSV streams.
 *
 * Terminology:
 * - completion: a statement that completes the lesson by the rule of `src/data/completion.ts`
 *   (DESIGN §6), shared with the reminders, the dashboard and the DB terminal. Statements sent
 *   before the learner signed up, or before the lesson existed, count.
 * - completion row: one (learner, lesson) pair with at least one completion. Its `completedAt` is
 *   the earliest completion's xAPI `timestamp` (when the learner did it, not when it was stored).
 *   Its score is that of the learner's best completion: the highest `result.score.scaled` (then
 *   the highest `raw`, then the earliest), with `scaled` and `raw` taken from that one statement
 *   so they never mix two attempts. A retake that scores better improves the score but not the
 *   completion time.
 *
 * Paging: JSON pages are `limit`/`offset` over completion rows (one row per learner and lesson,
 * in learner name order, then lesson date), the rows a CSV has. A page takes two queries: each
 * learner's number of rows (which gives the total and says which learners the page's rows
 * belong to), then the rows of just those learners. CSV is the whole report, read in keyset
 * pages of learners (name, id) and written as each page arrives; no connection is held between
 * pages, so a slow download ties up nothing.
 */
import { eq, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { type Lesson, lessons } from "../db/schema.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { actorIsLearner, COMPLETING_ROW, completedCtes } from "./completion.ts";
import type { Page } from "./listLessons.ts";

type Executor = Pick<Db, "execute">;

/** Learners per page when a report is streamed (CSV). */
export const STREAM_PAGE_LEARNERS = 1_000;

export interface CompletionRow {
  userId: string;
  name: string;
  email: string;
  avatar: string;
  lessonId: string;
  lessonTitle: string;
  /** YYYY-MM-DD */
  lessonDate: string;
  /** ISO 8601 in UTC, millisecond precision: the first completion's `timestamp`. */
  completedAt: string;
  scoreScaled: number | null;
  scoreRaw: number | null;
}

export interface IncompleteRow {
  userId: string;
  name: string;
  email: string;
  avatar: string;
  timezone: string;
  remindersEnabled: boolean;
}

export interface CompletionsFilter {
  /** Only this lesson (of the cohort; a lesson of another cohort gives no rows). */
  lessonId?: string | undefined;
  /**
   * Completion time window, on `completedAt`. `from` is inclusive; `to` is inclusive too, and a
   * date (`YYYY-MM-DD`) means the whole day; dates are UTC days. Date-times carry their offset.
   */
  from?: string | undefined;
  to?: string | undefined;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

interface CompletionWindow {
  /** Inclusive lower bound, an ISO instant. */
  from: string | null;
  /** Upper bound, an ISO instant: inclusive for a date-time, exclusive (the next midnight) for a date. */
  to: string | null;
  toInclusive: boolean;
}

/** The completion-time window of a filter; 400 when `from` is after `to`. */
function completionWindow(filter: CompletionsFilter): CompletionWindow {
  const from = filter.from ? (DATE_ONLY.test(filter.from) ? `${filter.from}T00:00:00Z` : filter.from) : null;
  let to: string | null = null;
  let toInclusive = true;
  if (filter.to) {
    if (DATE_ONLY.test(filter.to)) {
      to = new Date(Date.parse(`${filter.to}T00:00:00Z`) + DAY_MS).toISOString();
      toInclusive = false;
    } else {
      to = filter.to;
    }
  }
  if (from && to && (toInclusive ? Date.parse(from) > Date.parse(to) : Date.parse(from) >= Date.parse(to))) {
    throw new ValidationFailed([{ field: "from", message: "must not be later than to" }]);
  }
  return { from, to, toInclusive };
}

/** The learners a query looks at: a whole cohort, or some of its learners (a streamed page). */
interface LearnerScope {
  cohortId: string;
  userIds?: readonly string[];
}

function learnersWhere(scope: LearnerScope): SQL {
  // An array literal of uuids read from the database (no quoting needed): the planner sees how
  // many there are, which a jsonb list would hide from it.
  return scope.userIds
    ? sql`cohort_id = ${scope.cohortId} and id = any(${`{${scope.userIds.join(",")}}`}::uuid[])`
    : sql`cohort_id = ${scope.cohortId}`;
}

/** `having` on the first completion time, for a group of completing statements `f`. */
function windowHaving(filter: CompletionsFilter): SQL {
  const window = completionWindow(filter);
  const conditions: SQL[] = [];
  if (window.from) conditions.push(sql`min(f."timestamp") >= ${window.from}::timestamptz`);
  if (window.to) {
    conditions.push(
      window.toInclusive
        ? sql`min(f."timestamp") <= ${window.to}::timestamptz`
        : sql`min(f."timestamp") < ${window.to}::timestamptz`,
    );
  }
  return conditions.length ? sql`having ${sql.join(conditions, sql` and `)}` : sql``;
}

function cohortLessonsSql(cohortId: string, filter: CompletionsFilter): SQL {
  const lessonFilter = filter.lessonId ? sql`and id = ${filter.lessonId}::uuid` : sql``;
  return sql`select id, cohort_id, activity_id, title, lesson_date from lessons where cohort_id = ${cohortId} ${lessonFilter}`;
}

/**
 * How many completion rows each learner of a cohort has (learners with none are left out), in
 * report order. One pass over the completions of the cohort's lessons (the partial completions
 * index), each matched to learners the three ways the rule allows.
 */
function completionCountsSql(cohortId: string, filter: CompletionsFilter, publicBaseUrl: string): SQL {
  return sql`
    with cohort_lessons as (${cohortLessonsSql(cohortId, filter)}),
    ${completedCtes(sql.raw("cohort_lessons"), publicBaseUrl, cohortId)},
    completion_rows as (
      select f.user_id, f.lesson_id from completed f group by f.user_id, f.lesson_id ${windowHaving(filter)}
    )
    select u.id as "userId", count(*)::int as rows
    from completion_rows c join cohort_learners u on u.id = c.user_id
    group by u.id, u.name
    order by u.name, u.id`;
}

/**
 * The completion rows of some learners of a cohort, in report order. Per learner, one indexed
 * look-up of their statements (by user_id, mailbox or account: a BitmapOr of three indexes),
 * kept when they complete one of the cohort's lessons; a statement that matches two ways is
 * still one statement.
 */
function completionRowsSql(
  cohortId: string,
  userIds: readonly string[],
  filter: CompletionsFilter,
  publicBaseUrl: string,
): SQL {
  const best = sql`order by f.result_score_scaled desc nulls last, f.result_score_raw desc nulls last, f."timestamp"`;
  return sql`
    with cohort_lessons as (${cohortLessonsSql(cohortId, filter)})
    select u.id as "userId", u.name, u.email, u.avatar,
           c.lesson_id as "lessonId", c.title as "lessonTitle", to_char(c.lesson_date, 'YYYY-MM-DD') as "lessonDate",
           to_char(c.completed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "completedAt",
           c.score_scaled as "scoreScaled", c.score_raw as "scoreRaw"
    from users u
    cross join lateral (
      select l.id as lesson_id, l.title, l.lesson_date, min(f."timestamp") as completed_at,
             (array_agg(f.result_score_scaled ${best}))[1] as score_scaled,
             (array_agg(f.result_score_raw ${best}))[1] as score_raw
      from statements_flat f
      join cohort_lessons l on l.activity_id = f.object_id
      where ${COMPLETING_ROW} and ${actorIsLearner(publicBaseUrl)}
      group by l.id, l.title, l.lesson_date
      ${windowHaving(filter)}
    ) c
    where ${learnersWhere({ cohortId, userIds })}
    order by u.name, u.id, c.lesson_date, c.lesson_id`;
}

/**
 * Learners of a lesson's cohort in `scope` without a completion of it (the rule of
 * `getIncompleteUsers`, whatever their reminder setting), unordered.
 */
function incompleteRowsSql(scope: LearnerScope, lesson: Lesson, publicBaseUrl: string): SQL {
  return sql`
    with lesson as (
      select ${lesson.id}::uuid as id, ${lesson.cohortId}::text as cohort_id, ${lesson.activityId}::text as activity_id
    ),
    ${completedCtes(sql.raw("lesson"), publicBaseUrl, lesson.cohortId)}
    select u.id as "userId", u.name, u.email, u.avatar, u.timezone, u.reminders_enabled as "remindersEnabled"
    from users u
    where ${learnersWhere(scope)}
      and not exists (select 1 from completed c where c.user_id = u.id)`;
}

const LEARNER_ORDER = sql`order by r.name, r."userId"`;

/** One page of `rows` in `order`, with the total of all rows (one pass when the page is not empty). */
async function paged<T>(db: Db, rows: SQL, order: SQL, page: PageRequest): Promise<Page<T>> {
  const found = await queryRows<T & { total: number }>(
    db,
    sql`select r.*, (count(*) over ())::int as total from (${rows}) r ${order}
        limit ${page.limit} offset ${page.offset}`,
  );
  let total = found[0]?.total;
  if (total === undefined) {
    // An empty page: either no rows at all, or an offset past the end.
    const [counted] = await queryRows<{ total: number }>(
      db,
      sql`select count(*)::int as total from (${rows}) r`,
    );
    total = counted?.total ?? 0;
  }
  const items = found.map(({ total: _total, ...row }) => row as unknown as T);
  return { items, total, limit: page.limit, offset: page.offset };
}

export interface PageRequest {
  /** Rows per page (the routes allow 1–1000, default 100). */
  limit: number;
  /** Rows to skip. */
  offset: number;
}

/** A cohort exists when a learner or a lesson names it (cohorts are not a table). */
export async function cohortExists(db: Executor, cohortId: string): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from users where cohort_id = ${cohortId})
            or exists (select 1 from lessons where cohort_id = ${cohortId}) as found`,
  );
  return row?.found ?? false;
}

async function requireCohort(db: Executor, cohortId: string): Promise<void> {
  if (!(await cohortExists(db, cohortId))) throw new NotFound(`cohort "${cohortId}"`);
}

/**
 * A page of a cohort's completion rows. 404 for an unknown cohort; 400 when `from` is after `to`.
 *
 * Two queries, in one read-only snapshot so that the total and the page agree: the number of
 * rows of each learner (which gives the total and tells which learners the page's rows belong
 * to), then the rows of just those learners. A page deep into a cohort costs what the first one
 * does.
 */
export async function getCohortCompletions(
  db: Db,
  cohortId: string,
  filter: CompletionsFilter,
  page: PageRequest,
  publicBaseUrl: string,
): Promise<Page<CompletionRow>> {
  return db.transaction(
    async (tx) => {
      const counts = await queryRows<{ userId: string; rows: number }>(
        tx,
        completionCountsSql(cohortId, filter, publicBaseUrl),
      );
      let total = 0;
      let skip = 0;
      const onPage: string[] = [];
      for (const { userId, rows } of counts) {
        if (total + rows > page.offset && total < page.offset + page.limit) {
          if (onPage.length === 0) skip = page.offset - total;
          onPage.push(userId);
        }
        total += rows;
      }
      // Only an empty report can be an unknown cohort: the extra look-up is paid only then.
      if (total === 0) await requireCohort(tx, cohortId);
      const rows = onPage.length
        ? await queryRows<CompletionRow>(tx, completionRowsSql(cohortId, onPage, filter, publicBaseUrl))
        : [];
      return { items: rows.slice(skip, skip + page.limit), total, limit: page.limit, offset: page.offset };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

/**
 * Keyset pages of a cohort's learners in (name, id) order: each page starts where the last one
 * ended, so a page costs the same however deep into the cohort it is.
 */
async function* learnerPages(db: Db, cohortId: string, pageSize: number): AsyncGenerator<string[]> {
  let after: { name: string; id: string } | undefined;
  for (;;) {
    const keyset = after ? sql`and (name, id) > (${after.name}, ${after.id}::uuid)` : sql``;
    const page = await queryRows<{ id: string; name: string }>(
      db,
      sql`select id, name from users where cohort_id = ${cohortId} ${keyset}
          order by name, id limit ${pageSize}`,
    );
    if (page.length > 0) yield page.map((learner) => learner.id);
    if (page.length < pageSize) return;
    after = page.at(-1)!;
  }
}

/**
 * The whole completion report of a cohort, as pages of rows in the JSON order, read one page of
 * learners at a time. Checks the cohort and the filter before returning, so a 404 or 400 is
 * answered before any CSV is written.
 */
export async function streamCohortCompletions(
  db: Db,
  cohortId: string,
  filter: CompletionsFilter,
  publicBaseUrl: string,
  pageSize = STREAM_PAGE_LEARNERS,
): Promise<AsyncIterable<CompletionRow[]>> {
  completionWindow(filter);
  await requireCohort(db, cohortId);
  return (async function* () {
    for await (const userIds of learnerPages(db, cohortId, pageSize)) {
      yield queryRows<CompletionRow>(db, completionRowsSql(cohortId, userIds, filter, publicBaseUrl));
    }
  })();
}

/** The lesson with this id; 404 when there is none. */
export async function findLesson(db: Db, lessonId: string): Promise<Lesson> {
  const [lesson] = await db.select().from(lessons).where(eq(lessons.id, lessonId));
  if (!lesson) throw new NotFound(`lesson ${lessonId}`);
  return lesson;
}

/** A page of the learners of a lesson's cohort who have not completed it, in name order. */
export async function getIncompleteLearners(
  db: Db,
  lesson: Lesson,
  page: PageRequest,
  publicBaseUrl: string,
): Promise<Page<IncompleteRow>> {
  return paged<IncompleteRow>(
    db,
    incompleteRowsSql({ cohortId: lesson.cohortId }, lesson, publicBaseUrl),
    LEARNER_ORDER,
    page,
  );
}

/** Every learner of a lesson's cohort who has not completed it, a page of learners at a time. */
export async function* streamIncompleteLearners(
  db: Db,
  lesson: Lesson,
  publicBaseUrl: string,
  pageSize = STREAM_PAGE_LEARNERS,
): AsyncGenerator<IncompleteRow[]> {
  for await (const userIds of learnerPages(db, lesson.cohortId, pageSize)) {
    yield queryRows<IncompleteRow>(
      db,
      sql`select r.* from (${incompleteRowsSql({ cohortId: lesson.cohortId, userIds }, lesson, publicBaseUrl)}) r
          ${LEARNER_ORDER}`,
    );
  }
}
