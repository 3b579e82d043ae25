/**
 * What the admin area's lessons page reads and the deletion it does: lessons by cohort and due
 * date with their completion rate, one lesson, what depends on a lesson, and deleting one that
 * nothing depends on. The completion counts follow the one rule of `completion.ts` (DESIGN §6).
 */
import { eq, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { type Lesson, lessons } from "../db/schema.ts";
import { completedCtes } from "./completion.ts";
import type { Page } from "./listLessons.ts";

/**
 * Lessons per page of the admin area's list. A page's cost grows with its lessons (each is its
 * cohort's learners and its activity's completions); 20 keeps a page of 20 different cohorts of
 * 1,000 learners within the pages' 100 ms (bench/reports.ts).
 */
export const LESSONS_PER_PAGE = 20;

export interface LessonsOverviewFilter {
  /** Only this cohort. */
  cohortId?: string | undefined;
  /** Only lessons due on or after this day (YYYY-MM-DD). */
  from?: string | undefined;
  /** Only lessons due on or before this day (YYYY-MM-DD). */
  to?: string | undefined;
  limit: number;
  offset: number;
}

export interface LessonOverviewRow {
  id: string;
  cohortId: string;
  activityId: string;
  title: string;
  url: string | null;
  /** YYYY-MM-DD */
  lessonDate: string;
  /** Learners of the lesson's cohort now. */
  learners: number;
  /** Of them, how many completed the lesson. */
  completed: number;
}

/**
 * A page of lessons in due-date order (then cohort, title), each with its cohort's learners and
 * how many completed it, and the total matching the filter. Completions are counted for the
 * page's lessons only, each against its own cohort's learners (read through the cohort index),
 * so a page costs the same however many lessons and learners there are elsewhere.
 */
export async function lessonsOverview(
  db: Db,
  filter: LessonsOverviewFilter,
  publicBaseUrl: string,
): Promise<Page<LessonOverviewRow>> {
  const [items, [totals]] = await Promise.all([
    queryRows<LessonOverviewRow>(db, lessonsOverviewSql(filter, publicBaseUrl)),
    queryRows<{ total: number }>(
      db,
      sql`select count(*)::int as total from lessons where ${filterSql(filter)}`,
    ),
  ]);
  return { items, total: totals?.total ?? 0, limit: filter.limit, offset: filter.offset };
}

function filterSql(filter: LessonsOverviewFilter): SQL {
  return sql`(${filter.cohortId ?? null}::text is null or cohort_id = ${filter.cohortId ?? null}::text)
    and (${filter.from ?? null}::date is null or lesson_date >= ${filter.from ?? null}::date)
    and (${filter.to ?? null}::date is null or lesson_date <= ${filter.to ?? null}::date)`;
}

/**
 * The query of one page of `lessonsOverview` (exported for EXPLAIN and the benchmark). Each
 * lesson's completions are counted in a lateral subquery of its own: the completion rule
 * (`completedCtes`) over that one lesson and its cohort's learners, so every lesson is read
 * through the partial completion index (one activity) and the cohort index (its learners). Over
 * the whole page at once the planner chose to scan every flat row instead (seconds at a million).
 */
export function lessonsOverviewSql(filter: LessonsOverviewFilter, publicBaseUrl: string): SQL {
  return sql`
    with page_lessons as (
      select id, cohort_id, activity_id, title, url, lesson_date from lessons
      where ${filterSql(filter)}
      order by lesson_date, cohort_id, title, id
      limit ${filter.limit} offset ${filter.offset}
    ),
    sizes as (
      select c.cohort_id, (select count(*)::int from users u where u.cohort_id = c.cohort_id) as learners
      from (select distinct cohort_id from page_lessons) c
    )
    select l.id, l.cohort_id as "cohortId", l.activity_id as "activityId", l.title, l.url,
           to_char(l.lesson_date, 'YYYY-MM-DD') as "lessonDate",
           s.learners, rate.completed
    from page_lessons l
    join sizes s on s.cohort_id = l.cohort_id
    cross join lateral (
      with one_lesson as (select l.id, l.cohort_id, l.activity_id),
      ${completedCtes(sql.raw("one_lesson"), publicBaseUrl, sql`l.cohort_id`)}
      select count(distinct user_id)::int as completed from completed
    ) rate
    order by l.lesson_date, l.cohort_id, l.title, l.id`;
}

/** Every cohort that learners or lessons name, in name order. */
export async function knownCohorts(db: Db): Promise<string[]> {
  const rows = await queryRows<{ cohort_id: string }>(
    db,
    sql`select cohort_id from lessons union select cohort_id from users order by 1`,
  );
  return rows.map((row) => row.cohort_id);
}

/** The lesson with this id, or undefined. */
export async function getLesson(db: Db, id: string): Promise<Lesson | undefined> {
  const [lesson] = await db.select().from(lessons).where(eq(lessons.id, id));
  return lesson;
}

/** What a lesson's deletion would take with it or orphan. */
export interface LessonDependents {
  /** Reminder notifications of the lesson, in any status (deleted with it: a cascade). */
  notifications: number;
  /**
   * Statements on the lesson's activity from learners of its cohort (flat rows resolved to
   * them). They stay in the LRS, but reports and the dashboard would no longer count them.
   */
  statements: number;
}

const dependentsSql = (id: string) => sql`
  (select count(*)::int from notifications n where n.lesson_id = l.id) as notifications,
  (select count(*)::int from statements_flat f
     where f.object_id = l.activity_id
       and f.user_id in (select u.id from users u where u.cohort_id = l.cohort_id)) as statements
  from lessons l where l.id = ${id}::uuid`;

/** What depends on the lesson, or undefined when there is no such lesson. */
export async function lessonDependents(db: Db, id: string): Promise<LessonDependents | undefined> {
  const [row] = await queryRows<LessonDependents>(db, sql`select ${dependentsSql(id)}`);
  return row;
}

export type DeleteLessonOutcome =
  | { deleted: true }
  | { deleted: false; reason: "not_found" }
  | { deleted: false; reason: "has_dependents"; dependents: LessonDependents };

/**
 * Deletes the lesson only while nothing depends on it: no reminder was planned for it and no
 * learner of its cohort sent a statement on its activity (docs/decisions.md). The check and the
 * delete are one statement, so a reminder planned or a statement flattened in between cannot be
 * lost to a race.
 */
export async function deleteLessonIfUnused(db: Db, id: string): Promise<DeleteLessonOutcome> {
  const deleted = await queryRows<{ id: string }>(
    db,
    sql`delete from lessons l
        where l.id = ${id}::uuid
          and not exists (select 1 from notifications n where n.lesson_id = l.id)
          and not exists (
            select 1 from statements_flat f
            where f.object_id = l.activity_id
              and f.user_id in (select u.id from users u where u.cohort_id = l.cohort_id))
        returning l.id`,
  );
  if (deleted.length) return { deleted: true };
  const dependents = await lessonDependents(db, id);
  return dependents
    ? { deleted: false, reason: "has_dependents", dependents }
    : { deleted: false, reason: "not_found" };
}
