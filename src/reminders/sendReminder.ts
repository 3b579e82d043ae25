/**
 * Sending one reminder (plan a.06: `send_daily_reminders`, one job per learner and lesson).
 *
 * INVARIANT: a notification goes pending → sent at most once. The row is locked (FOR UPDATE SKIP
 * LOCKED) for the whole attempt: a second attempt at the same time, from a retried job or another
 * scheduler, finds it locked or no longer pending and sends nothing. A learner who completed the
 * lesson or unsubscribed since planning is not emailed (`skipped`).
 */
import { sql } from "drizzle-orm";
import { signToken } from "../auth/signing.ts";
import { type Db, queryRows } from "../db/client.ts";
import { type EmailClient, EmailRejected } from "../mail/emailClient.ts";
import { hasCompleted } from "./getIncompleteUsers.ts";
import { reminderEmail } from "./message.ts";

export const UNSUBSCRIBE_PURPOSE = "unsubscribe";

export interface SendContext {
  db: Db;
  email: EmailClient;
  publicBaseUrl: string;
  signingSecret: string;
}

export type SendOutcome =
  | { status: "sent"; messageId: string }
  | { status: "skipped"; reason: string }
  | { status: "already"; current: string }
  | { status: "retry"; error: string }
  | { status: "failed"; error: string };

export function unsubscribeUrl(publicBaseUrl: string, signingSecret: string, userId: string): string {
  return `${publicBaseUrl}/unsubscribe?token=${encodeURIComponent(signToken(signingSecret, UNSUBSCRIBE_PURPOSE, userId))}`;
}

interface Row {
  id: string;
  status: string;
  user_id: string;
  name: string;
  email: string;
  avatar: string;
  reminders_enabled: boolean;
  title: string;
  url: string | null;
  activity_id: string;
}

/**
 * One attempt at sending notification `notificationId`. `final` says whether a failure now is the
 * last (the notification is then `failed` with the error); otherwise it stays pending for a retry.
 */
export async function sendReminder(
  context: SendContext,
  notificationId: string,
  final: boolean,
): Promise<SendOutcome> {
  const { db, email, publicBaseUrl, signingSecret } = context;
  return db.transaction(async (tx) => {
    const [row] = await queryRows<Row>(
      tx as unknown as Db,
      sql`select n.id, n.status, u.id as user_id, u.name, u.email, u.avatar, u.reminders_enabled,
                 l.title, l.url, l.activity_id
          from notifications n join users u on u.id = n.user_id join lessons l on l.id = n.lesson_id
          where n.id = ${notificationId}
          for update of n skip locked`,
    );
    if (!row) return { status: "already", current: "locked by another attempt, or gone" } as const;
    if (row.status !== "pending") return { status: "already", current: row.status } as const;

    const skip = async (reason: string) => {
      await tx.execute(
        sql`update notifications set status = 'skipped', error = ${reason} where id = ${row.id}`,
      );
      return { status: "skipped", reason } as const;
    };
    if (!row.reminders_enabled) return skip("the learner unsubscribed before sending");
    if (
      await hasCompleted(
        tx,
        { id: row.user_id, email: row.email, avatar: row.avatar },
        row.activity_id,
        publicBaseUrl,
      )
    ) {
      return skip("the learner completed the lesson before sending");
    }

    try {
      const sent = await email.send(
        reminderEmail({
          to: row.email,
          learnerName: row.name,
          lessonTitle: row.title,
          lessonUrl: row.url,
          unsubscribeUrl: unsubscribeUrl(publicBaseUrl, signingSecret, row.user_id),
          notificationId: row.id,
          domain: new URL(publicBaseUrl).hostname,
        }),
      );
      await tx.execute(sql`
        update notifications set status = 'sent', sent_at = now(), attempts = attempts + 1, error = null
        where id = ${row.id}`);
      return { status: "sent", messageId: sent.messageId } as const;
    } catch (error) {
      const message = (error as Error).message;
      const giveUp = final || (error instanceof EmailRejected && error.permanent);
      await tx.execute(sql`
        update notifications set attempts = attempts + 1, error = ${message},
               status = ${giveUp ? "failed" : "pending"}
        where id = ${row.id}`);
      return giveUp
        ? ({ status: "failed", error: message } as const)
        : ({ status: "retry", error: message } as const);
    }
  });
}
