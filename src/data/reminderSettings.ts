/**
 * A learner's reminder setting (`users.reminders_enabled`), as the unsubscribe page reads and turns
 * it off, and as an operator sets it on the learner's admin page.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { users } from "../db/schema.ts";

/** Whether the learner gets reminders; undefined when there is no such learner. */
export async function remindersEnabled(db: Db, userId: string): Promise<boolean | undefined> {
  const [learner] = await db
    .select({ remindersEnabled: users.remindersEnabled })
    .from(users)
    .where(eq(users.id, userId));
  return learner?.remindersEnabled;
}

/** Turns the learner's reminders off; false when there is no such learner. */
export async function turnOffReminders(db: Db, userId: string): Promise<boolean> {
  const updated = await db
    .update(users)
    .set({ remindersEnabled: false })
    .where(eq(users.id, userId))
    .returning({ id: users.id });
  return updated.length > 0;
}

/** Turns the learner's reminders on or off; false when there is no such learner. */
export async function setRemindersEnabled(db: Db, userId: string, enabled: boolean): Promise<boolean> {
  const updated = await db
    .update(users)
    .set({ remindersEnabled: enabled })
    .where(eq(users.id, userId))
    .returning({ id: users.id });
  return updated.length > 0;
}
