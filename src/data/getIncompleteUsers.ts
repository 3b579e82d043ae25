/**
 * Who has not completed a lesson due on a day (plan a.06: `get_incomplete_users`), in one
 * set-based query: every learner of a cohort with a lesson due on `lessonDate`, with reminders
 * on, and no completion of that lesson (the completion rule of `src/data/completion.ts`).
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { completedCtes, learnerCompleted } from "./completion.ts";

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
    sql`select ${learnerCompleted(activityId, publicBaseUrl)} as done
        from (select ${user.id}::uuid as id, ${user.email}::text as email, ${user.avatar}::text as avatar) u`,
  );
  return rows[0]?.done ?? false;
}
