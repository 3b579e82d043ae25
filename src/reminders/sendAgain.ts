/**
 * An operator's "send again" for an `unconfirmed` reminder (one the mail server may already have
 * delivered; see sendReminder.ts): it goes back to `pending`, and the next scheduled reminder
 * tick queues it with the other sends whose job was lost.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

/** Whether notification `notificationId` was unconfirmed and is now pending again. */
export async function sendAgain(db: Db, notificationId: string): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`update notifications
        set status = 'pending', error = null, attempted_at = null, data_sent_at = null
        where id = ${notificationId} and status = 'unconfirmed'
        returning id`,
  );
  return rows.length === 1;
}
