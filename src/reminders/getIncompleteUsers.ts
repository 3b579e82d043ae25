/**
 * Who has not completed a lesson due on a day (plan a.06: `get_incomplete_users`), in one
 * set-based query: every learner of a cohort with a lesson due on `lessonDate`, with reminders
 * on, and no completion of that lesson (DESIGN §6: the object is the lesson's activity, the verb
 * is a completion verb or `result.completion` is true, the statement is not voided; statements
 * sent before the learner signed up count, matched by mailbox or account).
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

export interface IncompleteLearner {
  userId: string;
  name: string;
  email: string;
  avatar: string;
  timezone: string;
  cohortId: string;
  lessonId: string;
  lessonTitle: string;
  lessonUrl: string | null;
  activityId: string;
  lessonDate: string;
}

export interface IncompleteOptions {
  /** Only learners in these time zones (IANA names). */
  timezones?: readonly string[];
  cohortId?: string;
  /** PUBLIC_BASE_URL: learners' xAPI accounts live under it. Without it, accounts are matched only through user_id. */
  publicBaseUrl?: string;
}

/**
 * The completion rule (DESIGN §6) as two CTEs over a CTE `lessons` of (id, cohort_id, activity_id):
 * `completions`, the completing, non-voided flat rows of those lessons' activities, and
 * `completed`, the (user_id, lesson_id) pairs they complete: matched by `user_id`, by
 * `mailto:<email>`, or by an account under PUBLIC_BASE_URL named by the avatar, for learners of
 * the lesson's cohort. Three equi-join branches in a union rather than one OR, so each uses its index.
 */
export function completedCtes(lessons: SQL, publicBaseUrl: string | null): SQL {
  return sql`
    completions as (
      select l.id as lesson_id, l.cohort_id, f.user_id, f.actor_mbox, f.actor_account_homepage, f.actor_account_name
      from ${lessons} l
      join statements_flat f on f.object_id = l.activity_id and f.is_completion and not f.voided
    ),
    completed as (
      select c.user_id, c.lesson_id from completions c where c.user_id is not null
      union
      select u.id, c.lesson_id from completions c
      join users u on u.cohort_id = c.cohort_id and c.actor_mbox = 'mailto:' || u.email
      union
      select u.id, c.lesson_id from completions c
      join users u on u.cohort_id = c.cohort_id and c.actor_account_name = u.avatar
      where c.actor_account_homepage = ${publicBaseUrl}::text
    )`;
}

/** The learners who have not completed a lesson due on `lessonDate` (YYYY-MM-DD). */
export async function getIncompleteUsers(
  db: Db,
  lessonDate: string,
  options: IncompleteOptions = {},
): Promise<IncompleteLearner[]> {
  const zones = options.timezones ? JSON.stringify(options.timezones) : null;
  return queryRows<IncompleteLearner>(
    db,
    sql`
    with due as (
      select id, cohort_id, activity_id, title, url, lesson_date from lessons
      where lesson_date = ${lessonDate}::date
        and (${options.cohortId ?? null}::text is null or cohort_id = ${options.cohortId ?? null})
    ),
    ${completedCtes(sql.raw("due"), options.publicBaseUrl ?? null)}
    select u.id as "userId", u.name, u.email, u.avatar, u.timezone, u.cohort_id as "cohortId",
           d.id as "lessonId", d.title as "lessonTitle", d.url as "lessonUrl", d.activity_id as "activityId",
           to_char(d.lesson_date, 'YYYY-MM-DD') as "lessonDate"
    from due d
    join users u on u.cohort_id = d.cohort_id and u.reminders_enabled
    where (${zones}::jsonb is null or u.timezone in (select jsonb_array_elements_text(${zones}::jsonb)))
      and not exists (select 1 from completed c where c.user_id = u.id and c.lesson_id = d.id)
    order by d.id, u.id`,
  );
}

/** Whether one learner has completed one lesson (the check just before a reminder is sent). */
export async function hasCompleted(
  db: Pick<Db, "execute">,
  user: { id: string; email: string; avatar: string },
  activityId: string,
  publicBaseUrl: string,
): Promise<boolean> {
  const rows = await queryRows<{ done: boolean }>(
    db as Db,
    sql`select exists (
          select 1 from statements_flat f
          where f.object_id = ${activityId} and f.is_completion and not f.voided
            and (f.user_id = ${user.id}
                 or f.actor_mbox = ${`mailto:${user.email}`}
                 or (f.actor_account_homepage = ${publicBaseUrl} and f.actor_account_name = ${user.avatar}))
        ) as done`,
  );
  return rows[0]?.done ?? false;
}
