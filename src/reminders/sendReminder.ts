/**
 * Sending one reminder (plan a.06: `send_daily_reminders`, one job per learner and lesson), in
 * steps, so that no database transaction or connection is held while the mail server talks:
 *
 * 1. claim: in one short transaction, lock the row, skip it if the learner completed the lesson
 *    or unsubscribed since planning (`skipped`), else mark it `sending` (`attempted_at` = now,
 *    `data_sent_at` = null).
 * 2. send: the SMTP conversation, outside any transaction. When the server has the whole message
 *    and only the final "." of DATA is left, `data_sent_at` is committed first, then the "." is
 *    sent: the server cannot accept a message before that row says it might have.
 * 3. record: `sent`, or back to `pending` for a retry (`failed` on the last attempt or a
 *    permanent refusal), or `unconfirmed` when the message was ended but no reply came back.
 *    After the mail server accepted the message, recording is retried through a database
 *    outage, so an outage during a send never makes it send again.
 *
 * INVARIANT: only one attempt holds a claim at a time. A row that is `sending` belongs to the
 * attempt that claimed it until its lease (REMINDER_SEND_LEASE, well beyond the SMTP client's
 * timeouts) runs out; a later attempt finds it `in_flight` and sends nothing. Only a process that
 * died mid-send (or that could not record for half the lease) leaves a claim to expire. The next
 * attempt then looks at `data_sent_at`: null means the server never saw the end of the message,
 * so it cannot have accepted it, and the reminder is sent again (no duplicate is possible); set
 * means it may well have been accepted (a mail server queues a message before its 250, and keeps
 * it when the client goes away), so the row becomes `unconfirmed` for the operator, and nothing
 * is sent twice. docs/decisions.md (Reminders) says why, with the numbers.
 */
import { sql } from "drizzle-orm";
import { signToken } from "../auth/signing.ts";
import { hasCompleted } from "../data/getIncompleteUsers.ts";
import { type Db, isDatabaseUnavailable, queryRows } from "../db/client.ts";
import { type EmailClient, EmailRejected } from "../mail/emailClient.ts";
import { reminderEmail } from "./message.ts";

export const UNSUBSCRIBE_PURPOSE = "unsubscribe";

/** How the error of an `unconfirmed` notification begins. */
export const UNCONFIRMED = "delivery unconfirmed";

export interface SendContext {
  db: Db;
  email: EmailClient;
  publicBaseUrl: string;
  signingSecret: string;
  /**
   * How long a claim (`sending`) is the claiming attempt's alone, in ms (REMINDER_SEND_LEASE).
   * Recording an accepted message is retried through a database outage for half of it.
   */
  sendLeaseMs: number;
}

export type SendOutcome =
  | { status: "sent"; messageId: string }
  | { status: "skipped"; reason: string }
  | { status: "already"; current: string }
  /** Another attempt is sending it; its claim ends at `leaseEndsAt` (ISO 8601). */
  | { status: "in_flight"; leaseEndsAt: string }
  /** The message was ended at the mail server, whose reply never came back: not sent again. */
  | { status: "unconfirmed"; error: string }
  | { status: "retry"; error: string }
  | { status: "failed"; error: string };

export function unsubscribeUrl(publicBaseUrl: string, signingSecret: string, userId: string): string {
  return `${publicBaseUrl}/unsubscribe?token=${encodeURIComponent(signToken(signingSecret, UNSUBSCRIBE_PURPOSE, userId))}`;
}

interface Row {
  id: string;
  status: string;
  lease_ends_at: string | null;
  lease_expired: boolean;
  data_sent_at: string | null;
  user_id: string;
  name: string;
  email: string;
  avatar: string;
  reminders_enabled: boolean;
  title: string;
  url: string | null;
  activity_id: string;
}

type Claim = { claimed: Row; attemptedAt: string } | { outcome: SendOutcome };

/** Step 1: decide in one short transaction whether this attempt sends, and claim the row if so. */
async function claim(context: SendContext, notificationId: string): Promise<Claim> {
  const { db, publicBaseUrl, sendLeaseMs } = context;
  return db.transaction(async (tx) => {
    const [row] = await queryRows<Row>(
      tx as unknown as Db,
      // lease_ends_at as ISO 8601 text (to_json's form of a timestamptz), the same on both drivers.
      sql`select n.id, n.status,
                 to_json(n.attempted_at + make_interval(secs => ${sendLeaseMs / 1000}))#>>'{}' as lease_ends_at,
                 n.attempted_at + make_interval(secs => ${sendLeaseMs / 1000}) <= now() as lease_expired,
                 to_json(n.data_sent_at)#>>'{}' as data_sent_at,
                 u.id as user_id, u.name, u.email, u.avatar, u.reminders_enabled,
                 l.title, l.url, l.activity_id
          from notifications n join users u on u.id = n.user_id join lessons l on l.id = n.lesson_id
          where n.id = ${notificationId}
          for update of n skip locked`,
    );
    if (!row) return { outcome: { status: "already", current: "locked by another attempt, or gone" } };
    if (row.status === "sending" && !row.lease_expired) {
      return { outcome: { status: "in_flight", leaseEndsAt: row.lease_ends_at ?? "" } };
    }
    if (row.status !== "pending" && row.status !== "sending") {
      return { outcome: { status: "already", current: row.status } };
    }
    if (row.status === "sending" && row.data_sent_at) {
      // The attempt that claimed it died (or lost the database) after ending the message at the
      // mail server: it may have been delivered. Not sent again; the operator sees it.
      const error = `${UNCONFIRMED}: the message was handed to the mail server at ${row.data_sent_at}, but the attempt sending it stopped before the server's reply was recorded`;
      await tx.execute(
        sql`update notifications set status = 'unconfirmed', error = ${error} where id = ${row.id}`,
      );
      return { outcome: { status: "unconfirmed", error } };
    }

    const skip = async (reason: string): Promise<Claim> => {
      await tx.execute(
        sql`update notifications set status = 'skipped', error = ${reason} where id = ${row.id}`,
      );
      return { outcome: { status: "skipped", reason } };
    };
    if (!row.reminders_enabled) return skip("the learner unsubscribed before sending");
    const learner = { id: row.user_id, email: row.email, avatar: row.avatar };
    if (await hasCompleted(tx, learner, row.activity_id, publicBaseUrl)) {
      return skip("the learner completed the lesson before sending");
    }
    const [claimed] = await queryRows<{ attempted_at: string }>(
      tx as unknown as Db,
      sql`update notifications
          set status = 'sending', attempted_at = now(), data_sent_at = null, attempts = attempts + 1
          where id = ${row.id}
          returning attempted_at::text`,
    );
    return { claimed: row, attemptedAt: claimed!.attempted_at };
  });
}

/**
 * Runs `write` until it succeeds, waiting out a database outage for up to `forMs`; other errors
 * are thrown at once.
 */
async function recordThroughOutage(write: () => Promise<unknown>, forMs: number): Promise<void> {
  const deadline = Date.now() + forMs;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      await write();
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + delayMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * One attempt at sending notification `notificationId`. `final` says whether a failure now is the
 * last (the notification is then `failed` with the error); otherwise it goes back to pending for a
 * retry.
 */
export async function sendReminder(
  context: SendContext,
  notificationId: string,
  final: boolean,
): Promise<SendOutcome> {
  const { db, email, publicBaseUrl, signingSecret } = context;
  const claimed = await claim(context, notificationId);
  if ("outcome" in claimed) return claimed.outcome;
  const row = claimed.claimed;
  const recordForMs = context.sendLeaseMs / 2;
  // Only this attempt's claim is ours to settle (not a later one's, were this one's to expire).
  const ours = sql`id = ${row.id} and status = 'sending' and attempted_at = ${claimed.attemptedAt}::timestamptz`;

  // Before the final "." of DATA: from this commit on, the server may accept the message. If
  // it cannot be written, the message is abandoned unfinished and the send is retried.
  let dataSent = false;
  const beforeEnd = async () => {
    const [marked] = await queryRows<{ id: string }>(
      db,
      sql`update notifications set data_sent_at = now() where ${ours} returning id`,
    );
    if (!marked) throw new Error("the claim on the notification was lost before the message was ended");
    dataSent = true;
  };

  let sent: { messageId: string };
  try {
    sent = await email.send(
      reminderEmail({
        to: row.email,
        learnerName: row.name,
        lessonTitle: row.title,
        lessonUrl: row.url,
        unsubscribeUrl: unsubscribeUrl(publicBaseUrl, signingSecret, row.user_id),
        notificationId: row.id,
        domain: new URL(publicBaseUrl).hostname,
      }),
      { beforeEnd },
    );
  } catch (error) {
    const message = (error as Error).message;
    if (dataSent && !(error instanceof EmailRejected && error.responseCode !== undefined)) {
      // Ended at the server, and no reply (a timeout, a lost connection): it may have been
      // accepted. Not retried, for the same reason a lapsed claim in this state is not.
      const unconfirmed = `${UNCONFIRMED}: the message was handed to the mail server, which did not reply (${message})`;
      await recordThroughOutage(
        () =>
          db.execute(
            sql`update notifications set status = 'unconfirmed', error = ${unconfirmed} where ${ours}`,
          ),
        recordForMs,
      );
      return { status: "unconfirmed", error: unconfirmed };
    }
    // Refused (the server replied with an error), or the message never ended: not accepted. The
    // claim is given back (or the notification fails for good).
    const giveUp = final || (error instanceof EmailRejected && error.permanent);
    await recordThroughOutage(
      () =>
        db.execute(sql`
          update notifications set error = ${message}, status = ${giveUp ? "failed" : "pending"}
          where ${ours}`),
      recordForMs,
    );
    return giveUp ? { status: "failed", error: message } : { status: "retry", error: message };
  }
  await recordThroughOutage(
    () =>
      db.execute(sql`
        update notifications set status = 'sent', sent_at = now(), error = null
        where ${ours}`),
    recordForMs,
  );
  return { status: "sent", messageId: sent.messageId };
}
