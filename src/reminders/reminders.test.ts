/**
 * Reminders end to end on real PostgreSQL, Redis and an SMTP listener: who is due, in which time
 * zone, what arrives, retries, refusals, exactly-once under re-runs and concurrent schedulers,
 * the unsubscribe link each email carries, and catching up missed ticks.
 */
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp, SIGNING_SECRET, testConfig } from "../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "../../test/helpers/db.ts";
import { createTestRedis, type TestRedis, waitFor } from "../../test/helpers/redis.ts";
import { startSmtp, type TestSmtp } from "../../test/helpers/smtp.ts";
import { recordStatements, statement } from "../../test/helpers/xapi.ts";
import { TEST_REDIS_URL } from "../../test/services.ts";
import type { App } from "../app.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { getIncompleteUsers } from "../data/getIncompleteUsers.ts";
import { queryRows } from "../db/client.ts";
import { BullMqRunner, JOB_QUEUE } from "../jobs/bullmqRunner.ts";
import { DAILY_REMINDERS, type JobServices } from "../jobs/definitions.ts";
import { InProcessRunner } from "../jobs/inProcessRunner.ts";
import { runAttempt } from "../jobs/runAttempt.ts";
import { smtpEmailClient } from "../mail/emailClient.ts";
import type { Statement } from "../xapi/validateStatement.ts";
import { hoursToPlan, planReminders, reminderPreview } from "./plan.ts";
import { sendAgain } from "./sendAgain.ts";
import { type SendContext, sendReminder, UNCONFIRMED, unsubscribeUrl } from "./sendReminder.ts";

const BASE_URL = "https://course.example.com";
const DAY = "2026-03-02";
const LESSON_IRI = "https://lessons.example.com/day-1";
const log = pino({ level: "silent" });

let database: TestDatabase;
let smtp: TestSmtp;
let testRedis: TestRedis;
let app: App;
let context: JobServices;
const runners: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtp();
  testRedis = createTestRedis();
  const config = testConfig({ PUBLIC_BASE_URL: BASE_URL, REMINDER_HOUR: "18", SMTP_URL: smtp.url });
  context = {
    db: database.db,
    log,
    config,
    email: smtpEmailClient(smtp.url, "Course <course@example.com>"),
    signingSecret: SIGNING_SECRET,
  };
  app = await buildApp(database, { PUBLIC_BASE_URL: BASE_URL });
});
afterAll(async () => {
  await app.close();
  context.email.close();
  await smtp.close();
  await testRedis.drop();
  await database.drop();
});
beforeEach(async () => {
  await truncateAll(database);
  smtp.received.length = 0;
  smtp.attempts.clear();
  smtp.refuse = () => undefined;
  smtp.refuseMessage = () => undefined;
  smtp.release();
  smtp.hold = () => false;
  smtp.keepWhenClientLeft = () => false;
  smtp.delayMs = 0;
});
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
});

const learner = (avatar: string, overrides: { cohortId?: string; timezone?: string; email?: string } = {}) =>
  signUp(
    database.db,
    {
      name: avatar,
      email: overrides.email ?? `${avatar}@example.com`,
      avatar,
      cohortId: overrides.cohortId ?? "c1",
      timezone: overrides.timezone ?? "UTC",
    },
    BASE_URL,
  );

const lesson = (
  overrides: { cohortId?: string; lessonDate?: string; activityId?: string; title?: string } = {},
) =>
  createLesson(database.db, {
    cohortId: overrides.cohortId ?? "c1",
    activityId: overrides.activityId ?? LESSON_IRI,
    title: overrides.title ?? "Day 1: Variables",
    url: "https://lessons.example.com/day-1/index.html",
    lessonDate: overrides.lessonDate ?? DAY,
  });

/** Stores statements as the LRS would, then flattens them. */
const record = (statements: Statement[]) => recordStatements(database.db, statements, BASE_URL);

const completes = (actor: Record<string, unknown>, activity = LESSON_IRI) =>
  statement({ actor, object: { id: activity }, result: { completion: true } });

async function notifications() {
  return queryRows<{ email: string; status: string; attempts: number; error: string | null }>(
    database.db,
    sql`select u.email, n.status, n.attempts, n.error from notifications n join users u on u.id = n.user_id order by u.email`,
  );
}

function inProcess(scheduled: ("daily-reminders" | "incremental-etl")[] = []) {
  const runner = new InProcessRunner(context, { scheduled, backoffScale: 0.01 });
  runners.push(runner);
  return runner;
}

/** A started BullMQ runner on this file's Redis prefix, working the queue (a scheduler). */
async function bullMq(services: JobServices = context) {
  // BullMQ takes its key prefix as an option, not from the connection.
  const plain = new Redis(TEST_REDIS_URL);
  runners.push({ stop: async () => plain.disconnect() });
  const runner = new BullMqRunner(services, plain, {
    scheduled: [],
    work: true,
    prefix: `${testRedis.prefix}bull`,
    backoffScale: 0.01,
  });
  runners.push(runner);
  await runner.start();
  return runner;
}

/**
 * Runs the daily-reminders job through `runner` and waits for its sends: for the instant `at`
 * (as run-task does), or without one, as the hourly schedule does (catching up missed hours).
 */
async function tick(at?: Date, runner = inProcess()) {
  const result = await runAttempt(
    {
      ...context,
      enqueue: (n, d, o) => runner.enqueue(n, d, o),
      enqueueBulk: (n, jobs) => runner.enqueueBulk(n, jobs),
    },
    DAILY_REMINDERS,
    at ? { at: at.toISOString() } : {},
    { number: 1, max: 1, final: true },
    randomUUID(),
  );
  await runner.drain();
  return result;
}

// 18:00 in UTC on DAY.
const SIX_PM_UTC = new Date(`${DAY}T18:00:00Z`);

describe("getIncompleteUsers", () => {
  it("returns exactly the learners of the lesson's cohort who have not completed it", async () => {
    const day1 = await lesson();
    await lesson({
      cohortId: "c1",
      lessonDate: "2026-03-03",
      activityId: "https://lessons.example.com/day-2",
    });
    const ada = await learner("ada");
    await learner("grace");
    await learner("alan");
    const opted = await learner("optout");
    await database.db.execute(sql`update users set reminders_enabled = false where id = ${opted.id}`);
    await learner("other", { cohortId: "c2" });

    // ada completed; grace completed but the statement was voided; a late learner completed before signing up.
    const [graceCompletion] = await record([completes({ mbox: "mailto:grace@example.com" })]);
    await record([
      completes({ mbox: "mailto:ADA@example.com" }),
      statement({
        verb: { id: "http://adlnet.gov/expapi/verbs/voided" },
        object: { objectType: "StatementRef", id: graceCompletion },
        result: undefined,
      }),
      completes({ account: { homePage: BASE_URL, name: "late" } }),
      // Passing another lesson, and "attempting" this one, complete nothing here.
      completes({ mbox: "mailto:alan@example.com" }, "https://lessons.example.com/day-2"),
      statement({
        actor: { mbox: "mailto:alan@example.com" },
        verb: { id: "http://adlnet.gov/expapi/verbs/attempted" },
        object: { id: LESSON_IRI },
        result: undefined,
      }),
    ]);
    await learner("late");

    const due = await getIncompleteUsers(database.db, DAY, { publicBaseUrl: BASE_URL });
    expect(due.map((row) => row.avatar).sort()).toEqual(["alan", "grace"]);
    expect(due[0]).toMatchObject({
      lessonId: day1.id,
      lessonTitle: "Day 1: Variables",
      lessonDate: DAY,
      cohortId: "c1",
    });
    expect(due.some((row) => row.userId === ada.id)).toBe(false);
    // A passed verb (in COMPLETION_VERBS) or result.completion alone both count.
    await record([
      statement({
        actor: { mbox: "mailto:alan@example.com" },
        verb: { id: "http://adlnet.gov/expapi/verbs/passed" },
        object: { id: LESSON_IRI },
        result: undefined,
      }),
    ]);
    const after = await getIncompleteUsers(database.db, DAY, { publicBaseUrl: BASE_URL });
    expect(after.map((row) => row.avatar)).toEqual(["grace"]);
  });
});

describe("time zones", () => {
  it("reminds each learner at their own REMINDER_HOUR, for the lesson of their own local date", async () => {
    await lesson({ lessonDate: DAY, title: "Day 1" });
    await lesson({
      lessonDate: "2026-03-03",
      activityId: "https://lessons.example.com/day-2",
      title: "Day 2",
    });
    await learner("tokyo", { timezone: "Asia/Tokyo" });
    await learner("berlin", { timezone: "Europe/Berlin" });
    await learner("losangeles", { timezone: "America/Los_Angeles" });
    const who = async (at: string) =>
      (
        await reminderPreview(database.db, { reminderHour: 18, publicBaseUrl: BASE_URL }, new Date(at))
      ).reminders.map((r) => `${r.avatar}:${r.lessonTitle}`);
    expect(await who("2026-03-02T09:00:00Z")).toEqual(["tokyo:Day 1"]); // 18:00 JST
    expect(await who("2026-03-02T17:00:00Z")).toEqual(["berlin:Day 1"]); // 18:00 CET
    expect(await who("2026-03-03T02:00:00Z")).toEqual(["losangeles:Day 1"]); // 18:00 PST, still 2 March there
    expect(await who("2026-03-03T09:00:00Z")).toEqual(["tokyo:Day 2"]);
    expect(await who("2026-03-02T12:00:00Z")).toEqual([]);
  });
});

describe("sending", () => {
  it("emails exactly the incomplete learners, records notifications and task runs", async () => {
    await lesson();
    await learner("ada");
    await learner("alan");
    await learner("grace", { cohortId: "c2" });
    await record([completes({ mbox: "mailto:ada@example.com" })]);

    const result = await tick(SIX_PM_UTC);
    expect(result).toMatchObject({
      outcome: "succeeded",
      detail: { learnersDue: 1, notificationsCreated: 1, sendsQueued: 1 },
    });
    expect(smtp.received.map((mail) => mail.to)).toEqual([["alan@example.com"]]);
    const [mail] = smtp.received;
    expect(mail!.subject).toBe("Reminder: Day 1: Variables");
    expect(mail!.text).toContain("https://lessons.example.com/day-1/index.html");
    expect(mail!.html).toContain('href="https://lessons.example.com/day-1/index.html"');
    const unsubscribe = /https:\/\/course\.example\.com\/unsubscribe\?token=\S+/.exec(mail!.text)![0];
    expect(mail!.header("list-unsubscribe")).toBe(`<${unsubscribe}>`);
    expect(mail!.header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");

    expect(await notifications()).toEqual([
      { email: "alan@example.com", status: "sent", attempts: 1, error: null },
    ]);
    const runs = await queryRows<{ task_name: string; status: string }>(
      database.db,
      sql`select task_name, status from task_status order by id`,
    );
    expect(runs).toContainEqual({ task_name: "daily-reminders", status: "succeeded" });
    expect(runs).toContainEqual({ task_name: "send-reminder", status: "succeeded" });
  });

  it("retries a transient refusal and delivers once; a permanent one fails, others unaffected", async () => {
    await lesson();
    await learner("flaky");
    await learner("bounce");
    await learner("fine");
    smtp.refuse = (recipient, attempt) =>
      recipient === "flaky@example.com" && attempt < 3
        ? "transient"
        : recipient === "bounce@example.com"
          ? "permanent"
          : undefined;

    await tick(SIX_PM_UTC);
    expect(smtp.received.map((mail) => mail.to[0]).sort()).toEqual(["fine@example.com", "flaky@example.com"]);
    const rows = await notifications();
    expect(rows).toEqual([
      { email: "bounce@example.com", status: "failed", attempts: 1, error: expect.stringContaining("550") },
      { email: "fine@example.com", status: "sent", attempts: 1, error: null },
      { email: "flaky@example.com", status: "sent", attempts: 3, error: null },
    ]);
    const flakyRuns = await queryRows<{ status: string; attempt: number }>(
      database.db,
      sql`select status, attempt from task_status where task_name = 'send-reminder'
          and detail->'data'->>'notificationId' in (select n.id::text from notifications n join users u on u.id = n.user_id where u.avatar = 'flaky')
          order by attempt`,
    );
    expect(flakyRuns).toEqual([
      { status: "retrying", attempt: 1 },
      { status: "retrying", attempt: 2 },
      { status: "succeeded", attempt: 3 },
    ]);
  });

  it("fails a notification after the last attempt when the refusal never clears", async () => {
    await lesson();
    await learner("busy");
    smtp.refuse = () => "transient";
    await tick(SIX_PM_UTC);
    expect(await notifications()).toEqual([
      { email: "busy@example.com", status: "failed", attempts: 5, error: expect.stringContaining("451") },
    ]);
    expect(smtp.received).toEqual([]);
  });

  it("does not email a learner who completed the lesson between planning and sending", async () => {
    await lesson();
    await learner("quick");
    const planned = await planReminders(
      database.db,
      { reminderHour: 18, publicBaseUrl: BASE_URL },
      SIX_PM_UTC,
    );
    expect(planned.pendingIds).toHaveLength(1);
    await record([completes({ mbox: "mailto:quick@example.com" })]);
    // The send job queued at planning runs now, after the completion arrived.
    const runner = inProcess();
    await runner.enqueue("send-reminder", { notificationId: planned.pendingIds[0]! });
    await runner.drain();
    expect(smtp.received).toEqual([]);
    expect(await notifications()).toEqual([
      {
        email: "quick@example.com",
        status: "skipped",
        attempts: 0,
        error: "the learner completed the lesson before sending",
      },
    ]);
  });

  it("sends each email once when the tick runs twice", async () => {
    await lesson();
    await learner("alan");
    await learner("grace");
    await tick(SIX_PM_UTC);
    await tick(SIX_PM_UTC);
    expect(smtp.received).toHaveLength(2);
    expect((await notifications()).every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
  });

  it("sends each email once with two schedulers (BullMQ on Redis) running the tick at once", async () => {
    await lesson();
    for (let i = 0; i < 10; i++) await learner(`learner${i}`);
    const schedulers = await Promise.all([bullMq(), bullMq()]);
    await Promise.all(
      schedulers.map((runner) =>
        runAttempt(
          {
            ...context,
            enqueue: (n, d, o) => runner.enqueue(n, d, o),
            enqueueBulk: (n, jobs) => runner.enqueueBulk(n, jobs),
          },
          DAILY_REMINDERS,
          { at: SIX_PM_UTC.toISOString() },
          { number: 1, max: 1, final: true },
          randomUUID(),
        ),
      ),
    );
    await waitFor(
      async () => (await notifications()).every((row) => row.status === "sent"),
      10_000,
      "all sent",
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // any duplicate would arrive now
    expect(smtp.received).toHaveLength(10);
    expect(new Set(smtp.received.map((mail) => mail.to[0])).size).toBe(10);
  });
});

describe("claims: no transaction held while the mail server talks", () => {
  const LEASE_MS = 5_000;
  const sendContext = (): SendContext => ({
    db: database.db,
    email: context.email,
    publicBaseUrl: BASE_URL,
    signingSecret: SIGNING_SECRET,
    sendLeaseMs: LEASE_MS,
  });
  /** The context of jobs whose claims last LEASE_MS. */
  const shortLease = (): JobServices => ({
    ...context,
    config: { ...context.config, reminderSendLeaseMs: LEASE_MS },
  });
  const plannedId = async () => {
    await lesson();
    await learner("ada");
    const planned = await planReminders(
      database.db,
      { reminderHour: 18, publicBaseUrl: BASE_URL },
      SIX_PM_UTC,
    );
    return planned.pendingIds[0]!;
  };
  const row = async (id: string) =>
    (
      await queryRows<{ status: string; attempts: number; attempted_at: string | null }>(
        database.db,
        sql`select status, attempts, attempted_at::text from notifications where id = ${id}`,
      )
    )[0]!;
  /** A claim taken `agoMs` ago by an attempt that then died. */
  const abandonedClaim = (id: string, agoMs: number) =>
    database.db.execute(sql`
      update notifications set status = 'sending', attempts = 1,
             attempted_at = now() - make_interval(secs => ${agoMs / 1000})
      where id = ${id}`);
  const sendRuns = () =>
    queryRows<{ status: string; attempt: number; wait_until: string | null }>(
      database.db,
      sql`select status, attempt, detail->>'waitUntil' as wait_until from task_status
          where task_name = 'send-reminder' and status <> 'started' order by id`,
    );

  it("marks the row sending and leaves it unlocked during the SMTP conversation", async () => {
    const id = await plannedId();
    smtp.delayMs = 400;
    const sending = sendReminder(sendContext(), id, false);
    await waitFor(async () => (await row(id)).status === "sending", 5_000, "the claim");
    // Another session can lock the row at once: no transaction of the send holds it.
    const locked = await database.db.transaction((tx) =>
      queryRows<{ id: string }>(
        tx as unknown as typeof database.db,
        sql`select id from notifications where id = ${id} for update nowait`,
      ),
    );
    expect(locked).toHaveLength(1);
    expect(smtp.received).toHaveLength(0);
    expect(await sending).toMatchObject({ status: "sent" });
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(smtp.received).toHaveLength(1);
  });

  it("a second attempt during a send finds it in flight, until when, and sends nothing", async () => {
    const id = await plannedId();
    smtp.delayMs = 400;
    const first = sendReminder(sendContext(), id, false);
    await waitFor(async () => (await row(id)).status === "sending", 5_000, "the claim");
    const second = await sendReminder(sendContext(), id, false);
    expect(second.status).toBe("in_flight");
    const { attempted_at } = await row(id);
    expect(new Date((second as { leaseEndsAt: string }).leaseEndsAt).getTime()).toBe(
      new Date(attempted_at!).getTime() + LEASE_MS,
    );
    expect(await first).toMatchObject({ status: "sent" });
    expect(smtp.received).toHaveLength(1);
  });

  it("gives the claim back when the server refuses, and fails it on a permanent refusal", async () => {
    const id = await plannedId();
    smtp.refuse = (_recipient, attempt) => (attempt === 1 ? "transient" : "permanent");
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({ status: "retry" });
    expect(await row(id)).toMatchObject({ status: "pending", attempts: 1 });
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({ status: "failed" });
    expect(await row(id)).toMatchObject({ status: "failed", attempts: 2 });
    expect(smtp.received).toHaveLength(0);
  });

  it("sends again once the lease of an attempt that died has run out, and not before", async () => {
    const id = await plannedId();
    await abandonedClaim(id, LEASE_MS - 1_000); // 1 s of its lease left
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({ status: "in_flight" });
    await abandonedClaim(id, LEASE_MS + 1_000);
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({ status: "sent" });
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
    expect(smtp.received).toHaveLength(1);
  });

  const handedOver = async (id: string) =>
    (
      await queryRows<{ data_sent_at: string | null }>(
        database.db,
        sql`select data_sent_at::text from notifications where id = ${id}`,
      )
    )[0]!.data_sent_at;

  it("records that the message was handed over before ending it, and not before its data", async () => {
    const id = await plannedId();
    smtp.hold = () => true; // at RCPT TO, then at the end of DATA
    const sending = sendReminder(sendContext(), id, false);
    await waitFor(async () => smtp.held[0]?.stage === "rcpt", 5_000, "the held RCPT TO");
    expect(await handedOver(id)).toBeNull();
    smtp.release();
    // The server has the whole message, ended: the row said so first.
    await waitFor(async () => smtp.held[0]?.stage === "data", 5_000, "the held end of DATA");
    expect(await row(id)).toMatchObject({ status: "sending" });
    expect(await handedOver(id)).not.toBeNull();
    smtp.hold = () => false;
    smtp.release();
    expect(await sending).toMatchObject({ status: "sent" });
    expect(smtp.received).toHaveLength(1);
  });

  it("marks a lapsed claim whose message was handed over unconfirmed, and sends nothing", async () => {
    const id = await plannedId();
    await abandonedClaim(id, LEASE_MS + 1_000);
    await database.db.execute(
      sql`update notifications set data_sent_at = attempted_at + interval '1 second' where id = ${id}`,
    );
    const outcome = await sendReminder(sendContext(), id, false);
    expect(outcome).toMatchObject({ status: "unconfirmed" });
    const [stored] = await notifications();
    expect(stored).toMatchObject({ status: "unconfirmed", attempts: 1 });
    expect(stored!.error).toMatch(
      new RegExp(`^${UNCONFIRMED}: the message was handed to the mail server at `),
    );
    expect(smtp.received).toHaveLength(0);
    // Settled: a later attempt leaves it alone.
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({
      status: "already",
      current: "unconfirmed",
    });
  });

  it("marks a send unconfirmed when the server's reply to the ended message never comes", async () => {
    const id = await plannedId();
    const impatient = smtpEmailClient(`${smtp.url}?socketTimeout=500`, "Course <course@example.com>");
    try {
      smtp.hold = (stage) => stage === "data";
      smtp.keepWhenClientLeft = () => true; // as mail servers do
      const outcome = await sendReminder({ ...sendContext(), email: impatient }, id, false);
      expect(outcome).toMatchObject({ status: "unconfirmed" });
      expect((await notifications())[0]).toMatchObject({ status: "unconfirmed", attempts: 1 });
      smtp.release();
      // It was delivered after all: which is why it is not sent again.
      await waitFor(async () => smtp.received.length === 1, 5_000, "the delivery");
    } finally {
      impatient.close();
    }
  });

  it("retries a message the server refused at the end of DATA: its reply says it was not accepted", async () => {
    const id = await plannedId();
    smtp.refuseMessage = (_recipient, attempt) => (attempt === 1 ? "transient" : undefined);
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({ status: "retry" });
    expect(await row(id)).toMatchObject({ status: "pending", attempts: 1 });
    expect(await sendReminder(sendContext(), id, false)).toMatchObject({ status: "sent" });
    expect(await handedOver(id)).not.toBeNull();
    expect(smtp.received).toHaveLength(1);
  });

  it("abandons the message unfinished when the hand-over cannot be recorded", async () => {
    const id = await plannedId();
    smtp.hold = (stage) => stage === "rcpt";
    const sending = sendReminder(sendContext(), id, false);
    await waitFor(async () => smtp.held.length === 1, 5_000, "the held RCPT TO");
    // The claim is no longer this attempt's (as if its lease had been taken over).
    await database.db.execute(sql`update notifications set attempted_at = now() where id = ${id}`);
    smtp.release();
    expect(await sending).toMatchObject({ status: "retry" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received).toHaveLength(0);
    expect(await handedOver(id)).toBeNull();
  });

  it("a send job that finds its message unconfirmed fails at once, saying why, and is not retried", async () => {
    const id = await plannedId();
    await abandonedClaim(id, LEASE_MS + 1_000);
    await database.db.execute(sql`update notifications set data_sent_at = attempted_at where id = ${id}`);
    const runner = new InProcessRunner(shortLease(), { scheduled: [], backoffScale: 0.01 });
    runners.push(runner);
    await runner.enqueue("send-reminder", { notificationId: id });
    await runner.drain();
    const runs = await queryRows<{ status: string; attempt: number; error: string }>(
      database.db,
      sql`select status, attempt, error from task_status
          where task_name = 'send-reminder' and status <> 'started' order by id`,
    );
    expect(runs).toEqual([
      { status: "failed", attempt: 1, error: expect.stringMatching(`^${UNCONFIRMED}: `) },
    ]);
    expect(smtp.received).toHaveLength(0);
    expect((await notifications())[0]).toMatchObject({ status: "unconfirmed" });
  });

  /** When notification `id` was sent, in ms since the epoch. */
  const sentAt = async (id: string) =>
    Number(
      (
        await queryRows<{ ms: string }>(
          database.db,
          sql`select extract(epoch from sent_at) * 1000 as ms from notifications where id = ${id}`,
        )
      )[0]!.ms,
    );
  /** When the abandoned claim on `id` ends. */
  const leaseEnd = async (id: string) => new Date((await row(id)).attempted_at!).getTime() + LEASE_MS;

  it("in process: the job waits for the claim to end, without using up an attempt", async () => {
    const id = await plannedId();
    await abandonedClaim(id, LEASE_MS - 1_500);
    const claimEnds = await leaseEnd(id);
    const runner = new InProcessRunner(shortLease(), { scheduled: [], backoffScale: 0.01 });
    runners.push(runner);
    await runner.enqueue("send-reminder", { notificationId: id });
    await runner.drain();
    expect(smtp.received).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
    expect(await sentAt(id)).toBeGreaterThanOrEqual(claimEnds);
    // One attempt in all: the wait did not count as one.
    expect(await sendRuns()).toEqual([{ status: "succeeded", attempt: 1, wait_until: null }]);
  });

  it("on BullMQ: the job is delayed until the claim ends, without using up an attempt", async () => {
    const id = await plannedId();
    await abandonedClaim(id, LEASE_MS - 1_500);
    const claimEnds = await leaseEnd(id);
    const runner = await bullMq(shortLease());
    await runner.enqueue("send-reminder", { notificationId: id }, { jobId: `send-reminder-${id}` });
    // While it waits, the job's run says until when.
    await waitFor(
      async () => (await sendRuns()).some((run) => run.status === "retrying" && run.wait_until),
      5_000,
      "the waiting run",
    );
    await waitFor(async () => (await row(id)).status === "sent", 15_000, "the send after the lease");
    expect(smtp.received).toHaveLength(1);
    expect(await sentAt(id)).toBeGreaterThanOrEqual(claimEnds);
    await waitFor(
      async () => (await sendRuns())[0]?.status === "succeeded",
      5_000,
      "the run recorded as succeeded",
    );
    expect(await sendRuns()).toEqual([{ status: "succeeded", attempt: 1, wait_until: null }]);
  });

  it("on BullMQ: a job id keeps a job out only while one is queued or running", async () => {
    // A send queued again later (a lost job, found by the hourly tick) must run, although BullMQ
    // still keeps the finished job of the first time.
    const id = await plannedId();
    const runner = await bullMq();
    smtp.refuse = () => "permanent";
    await runner.enqueue("send-reminder", { notificationId: id }, { jobId: `send-reminder-${id}` });
    await waitFor(async () => (await row(id)).status === "failed", 10_000, "the first job to fail");
    // The row says failed a moment before BullMQ moves the job out of `active`: wait for that, or
    // the second enqueue below meets a job that is still running (and is rightly kept out).
    const connection = new Redis(TEST_REDIS_URL);
    const queue = new Queue(JOB_QUEUE, { connection, prefix: `${testRedis.prefix}bull` });
    runners.push({
      stop: async () => {
        await queue.close();
        connection.disconnect();
      },
    });
    await waitFor(
      async () =>
        Object.values(await queue.getJobCounts("active", "waiting", "delayed")).every((n) => n === 0),
      10_000,
      "the first job to leave the queue",
    );
    smtp.refuse = () => undefined;
    await database.db.execute(sql`update notifications set status = 'pending' where id = ${id}`);
    await runner.enqueue("send-reminder", { notificationId: id }, { jobId: `send-reminder-${id}` });
    await waitFor(async () => (await row(id)).status === "sent", 10_000, "the second job");
    expect(smtp.received).toHaveLength(1);
  });
});

describe("lost send jobs", () => {
  it("queues again a notification left pending by a crash between planning and queueing", async () => {
    await lesson();
    await learner("stuck");
    await planReminders(database.db, { reminderHour: 18, publicBaseUrl: BASE_URL }, SIX_PM_UTC); // …and then the process died
    await database.db.execute(sql`update notifications set created_at = now() - interval '11 minutes'`);
    const runner = inProcess();
    const result = await tick(undefined, runner);
    expect(result).toMatchObject({ detail: { staleRequeued: 1 } });
    expect(smtp.received.map((mail) => mail.to[0])).toEqual(["stuck@example.com"]);
  });

  it("an unconfirmed reminder an operator sends again goes out with the next scheduled tick, once", async () => {
    await lesson();
    await learner("unsure");
    await planReminders(database.db, { reminderHour: 18, publicBaseUrl: BASE_URL }, SIX_PM_UTC);
    const [row] = await queryRows<{ id: string }>(
      database.db,
      sql`update notifications set status = 'unconfirmed', attempts = 1, attempted_at = now(), data_sent_at = now(),
                 created_at = now() - interval '1 hour'
          returning id`,
    );
    // Unconfirmed is settled: the tick leaves it alone…
    expect(await tick(undefined, inProcess())).toMatchObject({ detail: { staleRequeued: 0 } });
    expect(smtp.received).toEqual([]);
    // …until the operator asks for it again.
    expect(await sendAgain(database.db, row!.id)).toBe(true);
    expect(await sendAgain(database.db, row!.id)).toBe(false);
    expect(await tick(undefined, inProcess())).toMatchObject({ detail: { staleRequeued: 1 } });
    expect(smtp.received.map((mail) => mail.to[0])).toEqual(["unsure@example.com"]);
    expect((await notifications())[0]).toMatchObject({ status: "sent", attempts: 2, error: null });
  });
});

describe("unsubscribe links", () => {
  // The pages behind the link are the unsubscribe route's (src/routes/unsubscribe/unsubscribe.test.ts).
  it("each email carries the learner's own signed link, and the button's POST stops the next reminders", async () => {
    await lesson();
    const learners = [await learner("ada"), await learner("bea")];
    await tick(SIX_PM_UTC);
    for (const who of learners) {
      const mail = smtp.received.find((received) => received.to[0] === who.email)!;
      const link = /https:\/\/course\.example\.com\/unsubscribe\?token=\S+/.exec(mail.text)![0];
      expect(link).toBe(unsubscribeUrl(BASE_URL, SIGNING_SECRET, who.id));
    }
    const clicked = await app.inject({
      method: "POST",
      url: unsubscribeUrl(BASE_URL, SIGNING_SECRET, learners[0]!.id).slice(BASE_URL.length),
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "List-Unsubscribe=One-Click",
    });
    expect(clicked.body).toContain("You are unsubscribed");
    // An unsubscribed learner gets nothing more.
    await lesson({ lessonDate: "2026-03-03", activityId: "https://lessons.example.com/day-2" });
    const dee = await learner("dee");
    smtp.received.length = 0;
    await tick(new Date("2026-03-03T18:00:00Z"));
    expect(smtp.received.map((mail) => mail.to[0]).sort()).toEqual([learners[1]!.email, dee.email].sort());
  });
});

describe("catching up missed ticks", () => {
  it("lists the hours since the last planned one, at most 23 back", () => {
    const now = new Date("2026-03-02T18:20:00Z");
    expect(hoursToPlan(undefined, now).map((h) => h.toISOString())).toEqual(["2026-03-02T18:00:00.000Z"]);
    expect(hoursToPlan(new Date("2026-03-02T15:00:00Z"), now).map((h) => h.toISOString())).toEqual([
      "2026-03-02T16:00:00.000Z",
      "2026-03-02T17:00:00.000Z",
      "2026-03-02T18:00:00.000Z",
    ]);
    expect(hoursToPlan(new Date("2026-03-02T18:00:00Z"), now)).toEqual([]);
    expect(hoursToPlan(new Date("2026-02-20T00:00:00Z"), now)).toHaveLength(24);
  });

  it("a scheduled tick reminds learners whose hour passed while the scheduler was down, once", async () => {
    const now = new Date();
    const threeHoursAgo = new Date(now.getTime() - 3 * 3_600_000);
    // A learner whose REMINDER_HOUR was two hours ago, in a zone chosen to make it so.
    const twoHoursAgo = new Date(now.getTime() - 2 * 3_600_000);
    const offset = 18 - twoHoursAgo.getUTCHours();
    const zone = `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`; // Etc/GMT-5 is UTC+5
    if (Math.abs(offset) > 12) return; // no Etc zone that far: the check is meaningless this hour
    const localDate = new Date(twoHoursAgo.getTime() + offset * 3_600_000).toISOString().slice(0, 10);
    await lesson({ lessonDate: localDate });
    await learner("missed", { timezone: zone });
    await database.db.execute(sql`
      insert into task_status (task_name, run_id, status, detail, finished_at)
      values ('daily-reminders', 'earlier', 'succeeded', ${JSON.stringify({ hour: threeHoursAgo.toISOString() })}::jsonb, now())`);
    const runner = inProcess();
    const result = await tick(undefined, runner);
    expect(result).toMatchObject({ outcome: "succeeded", detail: { hours: 3 } });
    expect(smtp.received.map((mail) => mail.to[0])).toEqual(["missed@example.com"]);
    // The next scheduled tick has nothing left to catch up.
    const again = await tick(undefined, runner);
    expect(again).toMatchObject({ detail: { hours: 0 } });
    expect(smtp.received).toHaveLength(1);
  });
});
