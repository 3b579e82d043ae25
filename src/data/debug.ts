/** Reads behind the debug API and the admin pages. */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { COMPLETING_ROW } from "./completion.ts";

export interface LastStatement {
  id: string;
  stored: Date;
  payload: unknown;
  /** When its flat row was written; null while it waits to be flattened. */
  flattenedAt: Date | null;
}

/** The newest raw statement and when it was flattened (plan: `/api/debug/last-statement`). */
export async function lastStatement(db: Db): Promise<LastStatement | undefined> {
  const [row] = await queryRows<{
    id: string;
    stored: Date | string;
    payload: unknown;
    flattened_at: Date | string | null;
  }>(
    db,
    sql`select r.id, r.stored, r.payload, f.flattened_at
        from statements_raw r left join statements_flat f on f.statement_id = r.id
        order by r.seq desc limit 1`,
  );
  if (!row) return undefined;
  return {
    id: row.id,
    stored: new Date(row.stored),
    payload: row.payload,
    flattenedAt: row.flattened_at ? new Date(row.flattened_at) : null,
  };
}

export interface RecentCompletion {
  statementId: string;
  timestamp: Date;
  actor: string | null;
  userId: string | null;
  learner: string | null;
  objectId: string;
  objectName: string | null;
  lessonTitle: string | null;
  scoreScaled: number | null;
}

/** The newest completing, non-voided flat rows, with the learner and lesson they match. */
export async function recentCompletions(db: Db, limit: number): Promise<RecentCompletion[]> {
  const rows = await queryRows<{
    statement_id: string;
    timestamp: Date | string;
    actor: string | null;
    user_id: string | null;
    learner: string | null;
    object_id: string;
    object_name: string | null;
    lesson_title: string | null;
    score_scaled: number | null;
  }>(
    db,
    sql`select f.statement_id, f."timestamp", coalesce(f.actor_mbox, f.actor_account_name) as actor, f.user_id,
               u.avatar as learner, f.object_id, f.object_name,
               (select l.title from lessons l where l.activity_id = f.object_id
                  and (u.cohort_id is null or l.cohort_id = u.cohort_id) limit 1) as lesson_title,
               f.result_score_scaled as score_scaled
        from statements_flat f left join users u on u.id = f.user_id
        where ${COMPLETING_ROW}
        order by f.stored desc, f.statement_id desc limit ${limit}`,
  );
  return rows.map((row) => ({
    statementId: row.statement_id,
    timestamp: new Date(row.timestamp),
    actor: row.actor,
    userId: row.user_id,
    learner: row.learner,
    objectId: row.object_id,
    objectName: row.object_name,
    lessonTitle: row.lesson_title,
    scoreScaled: row.score_scaled,
  }));
}

/** The stored statement with this id, exactly as stored, or undefined. */
export async function rawStatement(
  db: Db,
  id: string,
): Promise<{ payload: unknown; stored: Date } | undefined> {
  const [row] = await queryRows<{ payload: unknown; stored: Date | string }>(
    db,
    sql`select payload, stored from statements_raw where id = ${id}::uuid`,
  );
  return row ? { payload: row.payload, stored: new Date(row.stored) } : undefined;
}

/** `stored` of the raw statement with this id, as PostgreSQL prints it, or undefined. */
export async function rawStatementStored(db: Db, id: string): Promise<string | undefined> {
  const [row] = await queryRows<{ stored: string }>(
    db,
    sql`select stored::text from statements_raw where id = ${id}::uuid`,
  );
  return row?.stored;
}

/** When the flat row of this statement was written, as PostgreSQL prints it, or undefined. */
export async function flatRowWritten(db: Db, id: string): Promise<string | undefined> {
  const [row] = await queryRows<{ flattened_at: string }>(
    db,
    sql`select flattened_at::text from statements_flat where statement_id = ${id}::uuid`,
  );
  return row?.flattened_at;
}
