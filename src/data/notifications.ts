/**
 * `notifications` as the admin area reads them: the newest reminders, the count per status, and
 * the sends whose delivery is unconfirmed. (Claiming and recording a send is
 * `src/reminders/sendReminder.ts`; sending one again is `src/reminders/sendAgain.ts`.)
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

export interface RecentNotification {
  email: string;
  title: string;
  status: string;
  attempts: number;
  error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** The newest `limit` notifications with their learner's email and lesson title, newest first. */
export async function recentNotifications(db: Db, limit: number): Promise<RecentNotification[]> {
  return queryRows<RecentNotification>(
    db,
    sql`select u.email, l.title, n.status, n.attempts, n.error, n.created_at::text, n.sent_at::text
        from notifications n join users u on u.id = n.user_id join lessons l on l.id = n.lesson_id
        order by n.created_at desc limit ${limit}`,
  );
}

/** How many notifications have each status, in status order. */
export async function notificationCounts(db: Db): Promise<{ status: string; n: number }[]> {
  return queryRows<{ status: string; n: number }>(
    db,
    sql`select status, count(*)::int as n from notifications group by status order by status`,
  );
}

export interface UnconfirmedNotification {
  id: string;
  email: string;
  title: string;
  lesson_date: string;
  data_sent_at: string | null;
  error: string | null;
}

/** Up to `limit` notifications whose delivery is unconfirmed, the most recently sent first. */
export async function unconfirmedNotifications(db: Db, limit: number): Promise<UnconfirmedNotification[]> {
  return queryRows<UnconfirmedNotification>(
    db,
    sql`select n.id, u.email, l.title, to_char(l.lesson_date, 'YYYY-MM-DD') as lesson_date,
               n.data_sent_at::text, n.error
        from notifications n join users u on u.id = n.user_id join lessons l on l.id = n.lesson_id
        where n.status = 'unconfirmed'
        order by n.data_sent_at desc nulls last limit ${limit}`,
  );
}
