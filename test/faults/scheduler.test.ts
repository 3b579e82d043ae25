/**
 * Reminder sending under faults, with real `scheduler` processes on a private Redis (BullMQ) and a
 * real SMTP listener counting what arrives. The listener holds its replies until the test has
 * killed a scheduler, so each kill lands at a known point of the SMTP conversation:
 *
 * - before DATA (RCPT TO unanswered): the server cannot have the message; it is sent again;
 * - while the server holds the whole message (after the final ".", before its 250), and after the
 *   250 but before `sent` is recorded: the server may have accepted it (and mail servers do keep
 *   it), so it is not sent again: `unconfirmed`, for the operator (docs/decisions.md).
 *
 * And three schedulers at once, with 451 refusals and one of them killed. Each test asserts the
 * emails each learner got and each notification's status, exactly.
 */
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.ts";
import { UNCONFIRMED } from "../../src/reminders/sendReminder.ts";
import { runCli, type Server, startServer } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/redis.ts";
import { startSmtp, type TestSmtp } from "../helpers/smtp.ts";
import { type PrivateRedis, privateRedis, schedulerEnv, seedCohort } from "./harness.ts";

const AT = "2026-03-02T18:00:00Z";
/** BullMQ gives a killed worker's jobs to another after their lock (30 s) and a stall check (every 30 s). */
const STALLED_JOBS_BACK_MS = 150_000;

let database: TestDatabase;
let redis: PrivateRedis;
let smtp: TestSmtp;
let schedulers: Server[] = [];

/** `name` is the scheduler's EHLO name, so the mail server can tell the schedulers apart. */
function env(name = "scheduler"): Record<string, string> {
  return {
    ...schedulerEnv({ database: database.url, redis: redis.url, smtp: `${smtp.url}?name=${name}` }),
    WORKER_CLAIM_IDLE: "2s",
    // A send cut off by the kill is looked at again once its claim lapses (default 10 min).
    REMINDER_SEND_LEASE: "5s",
  };
}

async function scheduler(name?: string): Promise<Server> {
  const server = await startServer(["scheduler"], env(name), 60_000, /role scheduler/);
  schedulers.push(server);
  return server;
}

async function kill(server: Server): Promise<void> {
  const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
  server.child.kill("SIGKILL");
  await exited;
  schedulers = schedulers.filter((s) => s !== server);
}

async function statusCounts(): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: number }>(
    database.db,
    sql`select status, count(*)::int as n from notifications group by status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** Each learner's notification status, by email. */
async function statuses(): Promise<Record<string, string>> {
  const rows = await queryRows<{ email: string; status: string }>(
    database.db,
    sql`select u.email, n.status from notifications n join users u on u.id = n.user_id`,
  );
  return Object.fromEntries(rows.map((row) => [row.email, row.status]));
}

/** How many emails each recipient got. */
function emailsPerLearner(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const mail of smtp.received) counts[mail.to[0]!] = (counts[mail.to[0]!] ?? 0) + 1;
  return counts;
}

/** Waits until no notification is waiting or being sent. */
async function settled(learners: number): Promise<void> {
  await waitFor(
    async () => {
      const counts = await statusCounts();
      return (
        !counts.pending && !counts.sending && Object.values(counts).reduce((a, b) => a + b, 0) === learners
      );
    },
    STALLED_JOBS_BACK_MS,
    "every notification settled",
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // a duplicate would arrive now
}

async function queueTheTick(times = 1): Promise<void> {
  const runs = await Promise.all(
    Array.from({ length: times }, () => runCli(["run-task", "daily-reminders", "--at", AT], env())),
  );
  for (const run of runs) expect(run.code).toBe(0);
}

const email = (i: number) => `learner${i}@example.com`;

beforeEach(async () => {
  database = await createTestDatabase();
  redis = await privateRedis();
  smtp = await startSmtp();
});
afterEach(async () => {
  smtp.hold = () => false;
  smtp.release();
  for (const server of schedulers.splice(0)) await server.stop();
  await smtp.close();
  await redis.stop();
  await database.drop();
});

describe("a scheduler killed at each point of the SMTP conversation", () => {
  it("sends again what the server cannot have, and marks unconfirmed what it may have", async () => {
    // Five learners, one per send slot of the scheduler (its job concurrency), each stopped at
    // a different point when the scheduler is killed.
    await seedCohort(database.db, 5);
    const beforeData = [email(0), email(1)];
    const serverHolds = { kept: email(2), dropped: email(3) };
    const after250 = email(4);
    smtp.hold = (stage, recipient) => (beforeData.includes(recipient) ? stage === "rcpt" : stage === "data");
    // A mail server that has the whole message queues it before its 250 and delivers it even if
    // the client has gone (Postfix, Exim...); one that drops it is the worst case for a loss.
    smtp.keepWhenClientLeft = (recipient) => recipient !== serverHolds.dropped;

    const first = await scheduler();
    await queueTheTick();
    await waitFor(async () => smtp.held.length === 5, 30_000, "five sends held by the mail server");
    expect(smtp.held.map((held) => `${held.stage} ${held.recipient}`).sort()).toEqual([
      `data ${email(2)}`,
      `data ${email(3)}`,
      `data ${email(4)}`,
      `rcpt ${email(0)}`,
      `rcpt ${email(1)}`,
    ]);

    // After the 250, before the record: the test holds the notification's row, lets the 250 go,
    // and kills the scheduler once its `sent` update is waiting for the row.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query(
        "select n.id from notifications n join users u on u.id = n.user_id where u.email = $1 for update of n",
        [after250],
      );
      smtp.release((held) => held.recipient === after250);
      await waitFor(async () => smtp.received.length === 1, 10_000, "the 250 to the fifth send");
      await waitFor(
        async () =>
          (
            await queryRows<{ n: number }>(
              database.db,
              sql`select count(*)::int as n from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock'`,
            )
          )[0]!.n === 1,
        10_000,
        "the scheduler recording `sent`",
      );
      await kill(first);
      // Its update is still queued in PostgreSQL and would run once the row is free: end it too,
      // so that, as for a process that died a moment earlier, `sent` is never recorded.
      await locker.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock'`,
      );
    } finally {
      await locker.query("rollback");
      await locker.end();
    }
    // The server sees each of the four held conversations end, then answers into the void.
    await waitFor(async () => smtp.held.every((held) => held.clientGone), 10_000, "the connections closed");
    smtp.hold = () => false;
    smtp.release();

    await scheduler();
    await settled(5);
    expect(emailsPerLearner()).toEqual({
      [email(0)]: 1, // killed before DATA: sent again, once
      [email(1)]: 1,
      [serverHolds.kept]: 1, // killed while the server held the message: delivered, not sent again
      // serverHolds.dropped: a server that drops a message whose client left: lost, and shown
      [after250]: 1, // killed after the 250: delivered once
    });
    expect(await statuses()).toEqual({
      [email(0)]: "sent",
      [email(1)]: "sent",
      [serverHolds.kept]: "unconfirmed",
      [serverHolds.dropped]: "unconfirmed",
      [after250]: "unconfirmed",
    });
    // Each unconfirmed send's job says so in task_status, and was not retried.
    const runs = await queryRows<{ status: string; error: string | null }>(
      database.db,
      sql`select status, error from task_status where task_name = 'send-reminder' and status = 'failed'`,
    );
    expect(runs).toHaveLength(3);
    for (const run of runs) expect(run.error).toMatch(new RegExp(`^${UNCONFIRMED}: `));
  });
});

describe("several schedulers", () => {
  it("three schedulers at once: each email once", async () => {
    const LEARNERS = 60;
    await seedCohort(database.db, LEARNERS);
    await Promise.all([scheduler(), scheduler(), scheduler()]);
    // Two operators run the tick at the same moment, too.
    await queueTheTick(2);
    await settled(LEARNERS);
    expect(await statusCounts()).toEqual({ sent: LEARNERS });
    expect(Object.values(emailsPerLearner())).toEqual(Array(LEARNERS).fill(1));
  });

  it("three schedulers, 451 refusals and one killed: none twice, none lost", async () => {
    const LEARNERS = 30;
    await seedCohort(database.db, LEARNERS);
    // The victim takes the first five sends (it runs alone when they are queued): the first three
    // are held once the server has them whole, the other two at RCPT TO.
    const victimName = "scheduler-b";
    const victimTook = new Set<string>();
    const toData = new Set<string>();
    smtp.hold = (stage, recipient, client) => {
      if (client !== victimName) return false;
      if (stage === "data") return toData.has(recipient);
      victimTook.add(recipient);
      if (toData.size < 3) {
        toData.add(recipient);
        return false;
      }
      return true;
    };
    // Every third learner (of those the victim did not take) is refused with a 451 twice.
    const refused = (recipient: string) =>
      Number(/\d+/.exec(recipient)![0]) % 3 === 0 && !victimTook.has(recipient);
    smtp.refuse = (recipient, attempt) => (refused(recipient) && attempt <= 2 ? "transient" : undefined);
    smtp.keepWhenClientLeft = () => true;
    // The victim runs alone when the sends are queued, so its five send slots fill at once.
    const victim = await scheduler(victimName);
    await queueTheTick(2);
    await waitFor(async () => smtp.held.length === 5, 30_000, "the victim's five sends held");
    await Promise.all([scheduler("scheduler-a"), scheduler("scheduler-c")]);
    // The other two send everything else, through the refusals.
    await waitFor(
      async () => (await statusCounts()).sent === LEARNERS - 5,
      60_000,
      "every other notification sent",
    );
    await kill(victim);
    await waitFor(async () => smtp.held.every((held) => held.clientGone), 10_000, "the connections closed");
    expect(smtp.held.filter((held) => held.stage === "data").map((held) => held.recipient)).toEqual(
      expect.arrayContaining([...toData]),
    );
    expect(smtp.held.map((held) => held.stage).sort()).toEqual(["data", "data", "data", "rcpt", "rcpt"]);
    smtp.hold = () => false;
    smtp.release();

    await settled(LEARNERS);
    const perLearner = emailsPerLearner();
    expect(Object.keys(perLearner)).toHaveLength(LEARNERS); // none lost
    expect(Object.values(perLearner)).toEqual(Array(LEARNERS).fill(1)); // none twice
    const stored = await statuses();
    for (const [recipient, status] of Object.entries(stored)) {
      expect([recipient, status]).toEqual([recipient, toData.has(recipient) ? "unconfirmed" : "sent"]);
    }
    // The refusals were really met, and retried: three RCPT attempts for each refused learner.
    const refusedLearners = Object.keys(perLearner).filter(refused);
    expect(refusedLearners.length).toBeGreaterThanOrEqual(10 - 5);
    for (const recipient of refusedLearners) expect(smtp.attempts.get(recipient)).toBe(3);
  });
});
