/**
 * Planning reminders (DESIGN §7, plan a.06: `schedule_daily_reminders`). An hourly tick finds the
 * learners whose local time is REMINDER_HOUR, and for each the lessons of their cohort due on
 * *their* local date that they have not completed; it records one `pending` notification per
 * (learner, lesson) and returns them for sending. The notifications unique key makes planning
 * idempotent: a tick planned twice, or by two schedulers at once, creates each notification once.
 */
import { sql } from "drizzle-orm";
import { getIncompleteUsers, type IncompleteLearner } from "../data/getIncompleteUsers.ts";
import { type Db, queryRows } from "../db/client.ts";
import { localTime, startOfHour } from "./localTime.ts";

export interface PlanContext {
  reminderHour: number;
  publicBaseUrl: string;
}

export interface DueZone {
  timezone: string;
  /** The learners' local date, whose lessons are due. */
  localDate: string;
  localTime: string;
}

export interface ReminderPreview {
  at: string;
  reminderHour: number;
  zones: DueZone[];
  reminders: IncompleteLearner[];
}

/** The time zones (of learners with reminders on) where it is REMINDER_HOUR at `at`. */
export async function dueZones(db: Db, at: Date, reminderHour: number): Promise<DueZone[]> {
  const zones = await queryRows<{ timezone: string }>(
    db,
    sql`select distinct timezone from users where reminders_enabled order by timezone`,
  );
  return zones
    .map(({ timezone }) => ({ timezone, local: localTime(at, timezone) }))
    .filter(({ local }) => local.hour === reminderHour)
    .map(({ timezone, local }) => ({ timezone, localDate: local.date, localTime: local.time }));
}

/** Who would be reminded at `at`, of which lesson; changes nothing (plan: data for /ui/test-reminders). */
export async function reminderPreview(
  db: Db,
  context: PlanContext,
  at = new Date(),
): Promise<ReminderPreview> {
  const zones = await dueZones(db, at, context.reminderHour);
  const byDate = new Map<string, string[]>();
  for (const zone of zones)
    byDate.set(zone.localDate, [...(byDate.get(zone.localDate) ?? []), zone.timezone]);
  const reminders: IncompleteLearner[] = [];
  for (const [date, timezones] of byDate) {
    reminders.push(
      ...(await getIncompleteUsers(db, date, { timezones, publicBaseUrl: context.publicBaseUrl })),
    );
  }
  return { at: at.toISOString(), reminderHour: context.reminderHour, zones, reminders };
}

export interface PlannedTick extends ReminderPreview {
  /** Notifications created by this tick. */
  created: number;
  /** Pending notifications of this tick to send: new ones, and ones a crashed run left unsent. */
  pendingIds: string[];
}

/** Plans the tick at `at`: records pending notifications and returns those to send. */
export async function planReminders(db: Db, context: PlanContext, at = new Date()): Promise<PlannedTick> {
  const preview = await reminderPreview(db, context, at);
  if (preview.reminders.length === 0) return { ...preview, created: 0, pendingIds: [] };
  const pairs = JSON.stringify(preview.reminders.map((r) => ({ user_id: r.userId, lesson_id: r.lessonId })));
  const created = await queryRows<{ id: string }>(
    db,
    sql`insert into notifications (user_id, lesson_id, channel, status)
        select p.user_id, p.lesson_id, 'email', 'pending'
        from jsonb_to_recordset(${pairs}::jsonb) as p(user_id uuid, lesson_id uuid)
        on conflict (user_id, lesson_id, channel) do nothing
        returning id`,
  );
  // Pending notifications of this tick's lessons (indexed by lesson), kept when their pair is
  // planned now: the new ones, and any a crashed run left unsent.
  const lessonIds = JSON.stringify([...new Set(preview.reminders.map((r) => r.lessonId))]);
  const pendingOfLessons = await queryRows<{ id: string; user_id: string; lesson_id: string }>(
    db,
    sql`select id, user_id, lesson_id from notifications
        where channel = 'email' and status = 'pending'
          and lesson_id in (select jsonb_array_elements_text(${lessonIds}::jsonb)::uuid)`,
  );
  const planned = new Set(preview.reminders.map((r) => `${r.userId}/${r.lessonId}`));
  const pending = pendingOfLessons.filter((row) => planned.has(`${row.user_id}/${row.lesson_id}`));
  return { ...preview, created: created.length, pendingIds: pending.map((row) => row.id) };
}

/** How far back a tick catches up missed hours (the scheduler was down). */
export const CATCH_UP_HOURS = 23;

/**
 * The hours to plan at `now`: every UTC hour after the last planned one, up to the current one,
 * at most CATCH_UP_HOURS back (a scheduler down for less than a day misses nothing).
 */
export function hoursToPlan(lastPlanned: Date | undefined, now: Date): Date[] {
  const current = startOfHour(now);
  const earliest = new Date(current.getTime() - CATCH_UP_HOURS * 3_600_000);
  let next = lastPlanned ? new Date(startOfHour(lastPlanned).getTime() + 3_600_000) : current;
  if (next < earliest) next = earliest;
  const hours: Date[] = [];
  for (; next <= current; next = new Date(next.getTime() + 3_600_000)) hours.push(next);
  return hours;
}

/** The last hour a scheduled tick planned successfully (from task_status). */
export async function lastPlannedHour(db: Db, taskName: string): Promise<Date | undefined> {
  const [row] = await queryRows<{ hour: string | null }>(
    db,
    sql`select max(detail->>'hour') as hour from task_status
        where task_name = ${taskName} and status = 'succeeded' and detail ? 'hour'`,
  );
  return row?.hour ? new Date(row.hour) : undefined;
}

/**
 * Notifications whose send job was lost: `pending` for longer than `olderThanMs` (a crash
 * between planning and queueing), or `sending` past their lease (the attempt died and its job is
 * gone too). The hourly tick queues them again; the job decides whether to send.
 */
export async function staleNotifications(
  db: Db,
  sendLeaseMs: number,
  olderThanMs = 10 * 60_000,
  limit = 5_000,
): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`select id from notifications
        where (status = 'pending' and created_at < now() - make_interval(secs => ${olderThanMs / 1000}))
           or (status = 'sending' and attempted_at < now() - make_interval(secs => ${sendLeaseMs / 1000}))
        order by created_at limit ${limit}`,
  );
  return rows.map((row) => row.id);
}
