/**
 * Values the DB terminal's form starts with where a prebuilt query has a required parameter and
 * no fixed default (a cohort, a learner), so that every query runs on its first click: the cohort
 * of the lesson due most recently, and the learner whose statement was stored last.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

export interface QueryDefaults {
  /** The cohort of the latest lesson due on or before today, else of any lesson, else of any learner. */
  cohortId: string | undefined;
  /** The learner of the newest flat row that has one, else the newest learner. */
  email: string | undefined;
  /** Today, UTC, YYYY-MM-DD. */
  today: string;
}

export async function queryDefaults(db: Db, now = new Date()): Promise<QueryDefaults> {
  const today = now.toISOString().slice(0, 10);
  const [row] = await queryRows<{ cohort_id: string | null; email: string | null }>(
    db,
    sql`select
      coalesce(
        (select cohort_id from lessons where lesson_date <= ${today}::date order by lesson_date desc, id limit 1),
        (select cohort_id from lessons order by lesson_date, id limit 1),
        (select cohort_id from users order by created_at desc, id limit 1)) as cohort_id,
      coalesce(
        (select u.email from statements_flat f join users u on u.id = f.user_id
          where f.user_id is not null order by f.stored desc limit 1),
        (select email from users order by created_at desc, id limit 1)) as email`,
  );
  return { cohortId: row?.cohort_id ?? undefined, email: row?.email ?? undefined, today };
}
