/** What the admin dashboard shows: counts, ingest rate, the ETL's state, task runs, completion rates. */

import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import { type Db, queryRows } from "../db/client.ts";
import { CONSUMER_GROUP, STATEMENT_STREAM } from "../names.ts";
import { completedCtes } from "./completion.ts";
import { getLastProcessed, type LastProcessed } from "./getLastProcessed.ts";

export interface Dashboard {
  counts: { learners: number; lessons: number; statementsRaw: number; statementsFlat: number };
  /** Statements stored per second over the last 5 minutes, and in the last hour. */
  ingest: { perSecondLast5m: number; lastHour: number };
  etl: LastProcessed & { streamLag: number | null };
  taskRuns: {
    task_name: string;
    status: string;
    attempt: number;
    started_at: Date;
    finished_at: Date | null;
    error: string | null;
    detail: unknown;
  }[];
  cohorts: string[];
}

export async function dashboard(db: Db, redis?: Redis): Promise<Dashboard> {
  const [[counts], [ingest], etl, taskRuns, cohorts, streamLag] = await Promise.all([
    queryRows<Dashboard["counts"]>(
      db,
      sql`select (select count(*)::int from users) as "learners", (select count(*)::int from lessons) as "lessons",
                 (select count(*)::int from statements_raw) as "statementsRaw",
                 (select count(*)::int from statements_flat) as "statementsFlat"`,
    ),
    queryRows<Dashboard["ingest"]>(
      db,
      sql`select (count(*) filter (where stored > now() - interval '5 minutes'))::float / 300 as "perSecondLast5m",
                 (count(*) filter (where stored > now() - interval '1 hour'))::int as "lastHour"
          from statements_raw where stored > now() - interval '1 hour'`,
    ),
    getLastProcessed(db, redis),
    queryRows<Dashboard["taskRuns"][number]>(
      db,
      sql`select task_name, status, attempt, started_at, finished_at, error, detail
          from task_status order by id desc limit 12`,
    ),
    queryRows<{ cohort_id: string }>(
      db,
      sql`select cohort_id from lessons union select cohort_id from users order by 1`,
    ),
    redis ? consumerLag(redis) : Promise.resolve(null),
  ]);
  return {
    counts: counts!,
    ingest: ingest!,
    etl: { ...etl, streamLag },
    taskRuns,
    cohorts: cohorts.map((row) => row.cohort_id),
  };
}

/** Entries in the stream not yet delivered to the consumer group (Redis 7 XINFO GROUPS `lag`). */
async function consumerLag(redis: Redis): Promise<number | null> {
  try {
    const groups = (await redis.xinfo("GROUPS", STATEMENT_STREAM)) as unknown[][];
    for (const group of groups) {
      const fields = new Map<string, unknown>();
      for (let i = 0; i < group.length - 1; i += 2) fields.set(String(group[i]), group[i + 1]);
      if (fields.get("name") === CONSUMER_GROUP)
        return fields.get("lag") === null ? null : Number(fields.get("lag"));
    }
    return null;
  } catch {
    return null;
  }
}

export interface LessonRate {
  lessonId: string;
  title: string;
  lessonDate: string;
  completed: number;
  learners: number;
}

/** For each lesson of a cohort, how many of its learners completed it (DESIGN §6). */
export async function completionRates(
  db: Db,
  cohortId: string,
  publicBaseUrl: string,
): Promise<LessonRate[]> {
  return queryRows<LessonRate>(
    db,
    sql`
    with cohort_lessons as (select * from lessons where cohort_id = ${cohortId}),
    ${completedCtes(sql.raw("cohort_lessons"), publicBaseUrl, cohortId)},
    done as (select c.lesson_id as id, count(distinct c.user_id)::int as completed from completed c group by c.lesson_id)
    select l.id as "lessonId", l.title, to_char(l.lesson_date, 'YYYY-MM-DD') as "lessonDate",
           coalesce(done.completed, 0) as completed,
           (select count(*)::int from users where cohort_id = ${cohortId}) as learners
    from cohort_lessons l left join done on done.id = l.id
    order by l.lesson_date, l.title`,
  );
}
