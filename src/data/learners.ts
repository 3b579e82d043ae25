/**
 * The learners as the admin area reads them (`/ui/learners`, `/ui/learners/{id}`): a search in
 * name order, a bounded count, the cohorts, and one learner's lessons, statements and reminders.
 *
 * Terminology:
 * - search: `q` matched against name, email and avatar (`learnerSearchText`, one trigram index),
 *   case-insensitively; three characters or more match anywhere, one or two the start of the
 *   name (a trigram index cannot find a shorter substring without reading every learner).
 * - cursor: the (name, id) of a page's first or last learner. Pages are keyset pages: the next one
 *   starts after the last learner of this one, so a page deep into 100,000 learners costs what the
 *   first does, and a learner added meanwhile shifts nothing.
 *
 * A learner's lessons and statements use the completion rule of `completion.ts` (the learner's
 * rows are found the way reports find them: resolved `user_id`, mailbox or account).
 */
import { and, asc, desc, eq, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { learnerSearchText, type User, users } from "../db/schema.ts";
import { actorIsLearner, COMPLETING_ROW } from "./completion.ts";

export interface LearnerSearch {
  /** Text to find in name, email or avatar; blank means everyone. */
  q?: string | undefined;
  /** Only this cohort. */
  cohortId?: string | undefined;
}

/** A page boundary: the (name, id) of a learner. */
export interface LearnerCursor {
  name: string;
  id: string;
}

export interface LearnerPage {
  items: User[];
  /** The cursor of the page before this one's first learner, when there is one. */
  previous?: LearnerCursor;
  /** The cursor of this page's last learner, when more learners follow. */
  next?: LearnerCursor;
}

/** Searches of fewer characters match the start of the name only (see the terminology above). */
export const SUBSTRING_MIN_LENGTH = 3;

/** `text` with LIKE's wildcards and escape character taken literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The `where` of a search; undefined when it matches everyone. */
function searchWhere(search: LearnerSearch): SQL | undefined {
  const conditions: SQL[] = [];
  const q = search.q?.trim();
  if (q) {
    const pattern = q.length >= SUBSTRING_MIN_LENGTH ? `%${escapeLike(q)}%` : `${escapeLike(q)}%`;
    // lower() on both sides, in PostgreSQL: the index holds PostgreSQL's lower case, not JavaScript's.
    conditions.push(sql`${learnerSearchText(users)} like lower(${pattern})`);
  }
  if (search.cohortId) conditions.push(eq(users.cohortId, search.cohortId));
  return conditions.length ? and(...conditions) : undefined;
}

/**
 * One page of the learners a search finds, in (name, id) order: the first page, the page after
 * `after`, or the page before `before`. `limit` learners at most.
 */
export async function searchLearners(
  db: Db,
  search: LearnerSearch,
  page: { after?: LearnerCursor | undefined; before?: LearnerCursor | undefined; limit: number },
): Promise<LearnerPage> {
  const backwards = page.before !== undefined && page.after === undefined;
  const at = page.after ?? page.before;
  // A row comparison, which the (name, id) and (cohort_id, name, id) indexes answer in order.
  const keyset = at
    ? backwards
      ? sql`(${users.name}, ${users.id}) < (${at.name}, ${at.id}::uuid)`
      : sql`(${users.name}, ${users.id}) > (${at.name}, ${at.id}::uuid)`
    : undefined;
  // One more than a page: whether there is more in the direction read.
  const rows = await db
    .select()
    .from(users)
    .where(and(searchWhere(search), keyset))
    .orderBy(...(backwards ? [desc(users.name), desc(users.id)] : [asc(users.name), asc(users.id)]))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  if (backwards) items.reverse();
  const cursor = (user: User | undefined) => (user ? { name: user.name, id: user.id } : undefined);
  const first = cursor(items[0]);
  const last = cursor(items.at(-1));
  const result: LearnerPage = { items };
  if (backwards) {
    if (more && first) result.previous = first;
    if (last) result.next = last;
  } else {
    if (at && first) result.previous = first;
    if (more && last) result.next = last;
  }
  return result;
}

/**
 * How many learners a search finds, counting no further than `cap` (a count of 100,000 learners
 * would read them all for a number nobody needs exactly). `capped` when there are more.
 */
export async function countLearners(
  db: Db,
  search: LearnerSearch,
  cap: number,
): Promise<{ count: number; capped: boolean }> {
  const where = searchWhere(search);
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from (select 1 from users ${where ? sql`where ${where}` : sql``} limit ${cap + 1}) found`,
  );
  const n = row?.n ?? 0;
  return { count: Math.min(n, cap), capped: n > cap };
}

/**
 * Every cohort a learner belongs to, in order, at most `limit`: one index probe per cohort (a
 * loose index scan of the cohort index), not a read of every learner.
 */
export async function learnerCohorts(db: Db, limit: number): Promise<string[]> {
  const rows = await queryRows<{ cohort_id: string }>(
    db,
    sql`with recursive cohort as (
          (select cohort_id, 1 as n from users order by cohort_id limit 1)
          union all
          select next.cohort_id, cohort.n + 1 from cohort
          cross join lateral (select cohort_id from users where cohort_id > cohort.cohort_id
                              order by cohort_id limit 1) next
          where cohort.n < ${limit}
        )
        select cohort_id from cohort`,
  );
  return rows.map((row) => row.cohort_id);
}

/**
 * Every learner a search finds, in pages of `pageSize` in name order (keyset pages, as the
 * page's), for a CSV export: no connection is held between pages.
 */
export async function* streamLearners(
  db: Db,
  search: LearnerSearch,
  pageSize = 1_000,
): AsyncGenerator<User[]> {
  let after: LearnerCursor | undefined;
  for (;;) {
    const page = await searchLearners(db, search, { after, limit: pageSize });
    if (page.items.length > 0) yield page.items;
    if (!page.next) return;
    after = page.next;
  }
}

/** The learner with this id, or undefined. */
export async function findLearner(db: Db, id: string): Promise<User | undefined> {
  const [learner] = await db.select().from(users).where(eq(users.id, id));
  return learner;
}

export interface LearnerLesson {
  lessonId: string;
  title: string;
  /** YYYY-MM-DD */
  lessonDate: string;
  activityId: string;
  /** The first completion's `timestamp` (ISO 8601, UTC), null when not completed. */
  completedAt: string | null;
  /** Of the best completion (highest scaled, then raw, then earliest), as the reports take it. */
  scoreScaled: number | null;
  scoreRaw: number | null;
  /** `result.duration` of that same best completion, in ms. */
  durationMs: number | null;
  /** The learner's statements about the lesson's activity (not voided), completions included. */
  statements: number;
}

const ISO_UTC = sql.raw(`'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`);

/**
 * Every lesson of the learner's cohort, by due date, with whether and when they completed it (the
 * rule of `completion.ts`), the score and time of their best completion, and how many statements
 * they sent about it. One indexed read of the learner's flat rows (by user_id, mailbox or
 * account), grouped by lesson.
 */
export async function learnerLessons(
  db: Db,
  userId: string,
  publicBaseUrl: string,
): Promise<LearnerLesson[]> {
  const best = sql`order by f.result_score_scaled desc nulls last, f.result_score_raw desc nulls last, f."timestamp"`;
  return queryRows<LearnerLesson>(
    db,
    sql`
      with u as (select * from users where id = ${userId}::uuid),
      mine as (
        select f.object_id, f."timestamp", f.is_completion, f.voided, f.result_score_scaled,
               f.result_score_raw, f.result_duration_ms
        from statements_flat f, u
        where ${actorIsLearner(publicBaseUrl)}
      )
      select l.id as "lessonId", l.title, to_char(l.lesson_date, 'YYYY-MM-DD') as "lessonDate",
             l.activity_id as "activityId",
             to_char(min(f."timestamp") filter (where ${COMPLETING_ROW}) at time zone 'UTC', ${ISO_UTC}) as "completedAt",
             (array_agg(f.result_score_scaled ${best}) filter (where ${COMPLETING_ROW}))[1] as "scoreScaled",
             (array_agg(f.result_score_raw ${best}) filter (where ${COMPLETING_ROW}))[1] as "scoreRaw",
             (array_agg(f.result_duration_ms ${best}) filter (where ${COMPLETING_ROW}))[1]::float8 as "durationMs",
             (count(*) filter (where f.voided is false))::int as statements
      from u
      join lessons l on l.cohort_id = u.cohort_id
      left join mine f on f.object_id = l.activity_id
      group by l.id, l.title, l.lesson_date, l.activity_id
      order by l.lesson_date, l.title, l.id`,
  );
}

export interface LearnerStatement {
  statementId: string;
  /** ISO 8601, UTC */
  stored: string;
  timestamp: string;
  verbId: string;
  verbDisplay: string | null;
  objectId: string;
  objectName: string | null;
  resultCompletion: boolean | null;
  resultSuccess: boolean | null;
  scoreScaled: number | null;
  durationMs: number | null;
  isCompletion: boolean;
  voided: boolean;
}

/**
 * The learner's newest `limit` statements (newest stored first), from the flat rows: voided ones
 * included and marked. A statement shows here once it is flattened.
 */
export async function learnerStatements(
  db: Db,
  userId: string,
  publicBaseUrl: string,
  limit: number,
): Promise<LearnerStatement[]> {
  return queryRows<LearnerStatement>(
    db,
    sql`
      select f.statement_id as "statementId",
             to_char(f.stored at time zone 'UTC', ${ISO_UTC}) as stored,
             to_char(f."timestamp" at time zone 'UTC', ${ISO_UTC}) as "timestamp",
             f.verb_id as "verbId", f.verb_display as "verbDisplay", f.object_id as "objectId",
             f.object_name as "objectName", f.result_completion as "resultCompletion",
             f.result_success as "resultSuccess", f.result_score_scaled as "scoreScaled",
             f.result_duration_ms::float8 as "durationMs", f.is_completion as "isCompletion", f.voided
      from users u, statements_flat f
      where u.id = ${userId}::uuid and ${actorIsLearner(publicBaseUrl)}
      order by f.stored desc, f.statement_id desc
      limit ${limit}`,
  );
}

export interface LearnerNotification {
  id: string;
  lessonTitle: string;
  /** YYYY-MM-DD */
  lessonDate: string;
  status: string;
  attempts: number;
  error: string | null;
  /** ISO 8601, UTC: when the reminder was planned. */
  createdAt: string;
  sentAt: string | null;
}

/** The learner's reminders (every status), the newest planned first, at most `limit`. */
export async function learnerNotifications(
  db: Db,
  userId: string,
  limit: number,
): Promise<LearnerNotification[]> {
  return queryRows<LearnerNotification>(
    db,
    sql`
      select n.id, l.title as "lessonTitle", to_char(l.lesson_date, 'YYYY-MM-DD') as "lessonDate",
             n.status, n.attempts, n.error,
             to_char(n.created_at at time zone 'UTC', ${ISO_UTC}) as "createdAt",
             to_char(n.sent_at at time zone 'UTC', ${ISO_UTC}) as "sentAt"
      from notifications n join lessons l on l.id = n.lesson_id
      where n.user_id = ${userId}::uuid
      order by n.created_at desc, n.id
      limit ${limit}`,
  );
}

/** The id of the learner with this email (any letter case), or undefined. */
export async function findLearnerIdByEmail(db: Db, email: string): Promise<string | undefined> {
  const [learner] = await db
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email.trim()})`);
  return learner?.id;
}
