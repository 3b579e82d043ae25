/**
 * The DB terminal core on real PostgreSQL and on the embedded PGlite: every prebuilt query on
 * seeded data, strict parameter validation, hostile strings staying data, the read-only
 * transaction, the statement timeout and the row cap.
 */
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/helpers/db.ts";
import { statement } from "../../test/helpers/xapi.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { DEFAULT_COMPLETION_VERBS } from "../config.ts";
import { logTaskStatus } from "../data/taskStatus.ts";
import { type Database, type Db, driverError, openMemoryPglite, queryRows } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { notifications } from "../db/schema.ts";
import { AppError } from "../errors.ts";
import { runIncrementalEtl } from "../etl/runIncrementalEtl.ts";
import { prepareStatement } from "../xapi/prepareStatement.ts";
import { storeStatements } from "../xapi/storeStatements.ts";
import type { Statement } from "../xapi/validateStatement.ts";
import {
  type ExecuteOptions,
  executeSafeQuery,
  paramsFromForm,
  type QueryResult,
  QueryTimeout,
  resolveParams,
  runReadOnly,
} from "./executeSafeQuery.ts";
import {
  getPrebuiltQueries,
  getQueryDescriptors,
  type ParamDescriptor,
  type PrebuiltQuery,
  type QueryParams,
} from "./vettedQueries.ts";

const BASE_URL = "https://course.example.com";
const DAY_1 = "https://lessons.example.com/course/day-1";
const DAY_2 = "https://lessons.example.com/course/day-2";
const EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced";

/** Strings that would do damage if they reached the SQL text. */
const HOSTILE = [
  "'; drop table users; --",
  "1; select pg_sleep(10)",
  "$$",
  "$$; drop table users; $$",
  "x'); with gone as (delete from users returning *) select * from gone; --",
  "COPY users TO PROGRAM 'touch /tmp/cohort-lrs-pwned'",
  "\\'; drop table lessons; --",
  "c1' or '1'='1",
  'c1" or 1=1 --',
  "') union select id::text, key, secret_hash from api_credentials --",
];

interface Seeded {
  adaId: string;
  graceId: string;
  alanId: string;
  day1Id: string;
  day2Id: string;
  rawIds: string[];
}

/**
 * Cohort c1: ada and grace, lessons day-1 (2026-03-02) and day-2 (2026-03-03). Cohort c2: alan
 * (reminders off), a lesson on day-1's activity. Ada completes day-1 by mailbox, grace by
 * account, a stranger by mailbox, and ada only experiences day-2; one more statement stays
 * unflattened. Two notifications, two task runs.
 */
async function seed(db: Db): Promise<Seeded> {
  const learner = (avatar: string, cohortId: string, remindersEnabled = true) =>
    signUp(db, { name: avatar, email: `${avatar}@example.com`, avatar, cohortId }, BASE_URL).then(
      async (user) => {
        if (!remindersEnabled)
          await db.execute(sql`update users set reminders_enabled = false where id = ${user.id}`);
        return user;
      },
    );
  const ada = await learner("ada", "c1");
  const grace = await learner("grace", "c1");
  const alan = await learner("alan", "c2", false);
  const lesson = (cohortId: string, activityId: string, title: string, lessonDate: string) =>
    createLesson(db, { cohortId, activityId, title, lessonDate });
  const day1 = await lesson("c1", DAY_1, "Day 1", "2026-03-02");
  const day2 = await lesson("c1", DAY_2, "Day 2", "2026-03-03");
  await lesson("c2", DAY_1, "Day 1 (c2)", "2026-03-02");

  const client = { credentialId: "", key: "k", name: "content", scopes: ["all"] };
  let minute = 0;
  const store = async (statements: Statement[]) => {
    const ids: string[] = [];
    for (const s of statements) {
      minute += 1;
      const stored = new Date(Date.UTC(2026, 2, 2, 10, minute));
      const prepared = prepareStatement(s, { client, version: "1.0.3", stored, publicBaseUrl: BASE_URL });
      await storeStatements(db, [prepared], null);
      ids.push(prepared.id);
    }
    return ids;
  };
  const completes = (actor: Record<string, unknown>, activity = DAY_1) =>
    statement({ actor: { objectType: "Agent", ...actor }, object: { id: activity } });
  const flattened = await store([
    completes({ mbox: "mailto:ada@example.com" }),
    completes({ account: { homePage: BASE_URL, name: "grace" } }),
    completes({ mbox: "mailto:stranger@example.com" }),
    statement({
      actor: { objectType: "Agent", mbox: "mailto:ada@example.com" },
      verb: { id: EXPERIENCED },
      object: { id: DAY_2 },
      result: { completion: false },
    }),
  ]);
  await runIncrementalEtl(db, {
    completionVerbs: new Set(DEFAULT_COMPLETION_VERBS),
    publicBaseUrl: BASE_URL,
  });
  const pending = await store([completes({ mbox: "mailto:grace@example.com" }, DAY_2)]);

  await db.insert(notifications).values([
    { userId: ada.id, lessonId: day2.id, status: "pending" },
    { userId: grace.id, lessonId: day2.id, status: "failed", attempts: 3, error: "550 mailbox unavailable" },
  ]);
  await logTaskStatus(db, "incremental-etl", "succeeded", { flattened: 4 });
  await logTaskStatus(db, "daily-reminders", "failed", undefined, { error: "SMTP down" });

  return {
    adaId: ada.id,
    graceId: grace.id,
    alanId: alan.id,
    day1Id: day1.id,
    day2Id: day2.id,
    rawIds: [...flattened, ...pending],
  };
}

/** The rows of a result as objects keyed by column, for readable assertions. */
function records(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column, row[i]])));
}

async function counts(db: Db) {
  const [row] = await queryRows<Record<string, number>>(
    db,
    sql`select (select count(*) from users)::int as users, (select count(*) from lessons)::int as lessons,
               (select count(*) from statements_raw)::int as raw, (select count(*) from api_credentials)::int as credentials`,
  );
  return row;
}

async function rejection(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(["postgres", "pglite"] as const)("the DB terminal on %s", (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let seeded: Seeded;
  let db: Db;
  const run = (name: string, params: unknown = {}, options: ExecuteOptions = {}) =>
    executeSafeQuery(db, name, params, { publicBaseUrl: BASE_URL, ...options });

  beforeAll(async () => {
    if (kind === "postgres") {
      const testDatabase = await createTestDatabase();
      database = testDatabase;
      drop = () => testDatabase.drop();
    } else {
      database = await openMemoryPglite();
      await migrate(database.db);
      drop = () => database.close();
    }
    db = database.db;
    seeded = await seed(db);
  });
  afterAll(() => drop());

  describe("every prebuilt query on seeded data", () => {
    it("recent-statements: the newest raw statements first, with whether each is flattened", async () => {
      const result = await run("recent-statements");
      expect(result.columns).toEqual(["id", "stored", "actor", "verb", "object", "flattened"]);
      expect(result.truncated).toBe(false);
      const rows = records(result);
      expect(rows.map((row) => row.id)).toEqual([...seeded.rawIds].reverse());
      expect(rows[0]).toEqual({
        id: seeded.rawIds[4],
        stored: "2026-03-02T10:05:00.000Z",
        actor: "mailto:grace@example.com",
        verb: "http://adlnet.gov/expapi/verbs/completed",
        object: DAY_2,
        flattened: false,
      });
      expect(rows[3]).toMatchObject({ actor: `${BASE_URL}#grace`, flattened: true });
      expect((await run("recent-statements", { limit: 2 })).rows).toHaveLength(2);
    });

    it("learner-flat-rows: by email, by avatar (account), and for a mailbox nobody signed up with", async () => {
      const byEmail = records(await run("learner-flat-rows", { email: "ADA@example.com" }));
      expect(byEmail.map((row) => row.object_id)).toEqual([DAY_2, DAY_1]);
      expect(byEmail.every((row) => row.user_id === seeded.adaId)).toBe(true);
      expect(byEmail.find((row) => row.object_id === DAY_1)).toMatchObject({
        is_completion: true,
        voided: false,
        result_score_scaled: 0.9,
        actor_mbox: "mailto:ada@example.com",
      });

      const byAvatar = records(await run("learner-flat-rows", { avatar: "grace" }));
      expect(byAvatar).toHaveLength(1);
      expect(byAvatar[0]).toMatchObject({
        user_id: seeded.graceId,
        actor_account_homepage: BASE_URL,
        actor_account_name: "grace",
      });
      expect(byAvatar[0]!.timestamp).toMatch(ISO);

      const stranger = records(await run("learner-flat-rows", { email: "stranger@example.com" }));
      expect(stranger).toEqual([expect.objectContaining({ user_id: null, object_id: DAY_1 })]);
      expect((await run("learner-flat-rows", { avatar: "nobody" })).rows).toEqual([]);
    });

    it("completions-by-lesson: learners, completed and incomplete per lesson of a cohort", async () => {
      const result = await run("completions-by-lesson", { cohortId: "c1" });
      expect(result.columns).toEqual([
        "lesson_id",
        "lesson_date",
        "title",
        "activity_id",
        "learners",
        "completed",
        "incomplete",
      ]);
      expect(records(result)).toEqual([
        {
          lesson_id: seeded.day1Id,
          lesson_date: "2026-03-02",
          title: "Day 1",
          activity_id: DAY_1,
          learners: 2,
          completed: 2,
          incomplete: 0,
        },
        {
          lesson_id: seeded.day2Id,
          lesson_date: "2026-03-03",
          title: "Day 2",
          activity_id: DAY_2,
          learners: 2,
          completed: 0,
          incomplete: 2,
        },
      ]);
      const oneDay = records(
        await run("completions-by-lesson", { cohortId: "c1", lessonDate: "2026-03-03" }),
      );
      expect(oneDay.map((row) => row.title)).toEqual(["Day 2"]);
      // The same activity in c2: alan has not completed it, ada's completion does not count there.
      expect(records(await run("completions-by-lesson", { cohortId: "c2" }))).toEqual([
        expect.objectContaining({ learners: 1, completed: 0, incomplete: 1 }),
      ]);
    });

    it("completions-by-lesson without PUBLIC_BASE_URL counts accounts only through user_id", async () => {
      const result = await executeSafeQuery(db, "completions-by-lesson", { cohortId: "c1" });
      expect(records(result)[0]).toMatchObject({ completed: 2 });
    });

    it("incomplete-learners-for-date: who has not completed a lesson due that day, reminders or not", async () => {
      const day1 = records(await run("incomplete-learners-for-date", { date: "2026-03-02" }));
      expect(day1).toEqual([
        expect.objectContaining({
          cohort_id: "c2",
          lesson_date: "2026-03-02",
          lesson_title: "Day 1 (c2)",
          user_id: seeded.alanId,
          avatar: "alan",
          reminders_enabled: false,
        }),
      ]);
      const day2 = records(await run("incomplete-learners-for-date", { date: "2026-03-03", cohortId: "c1" }));
      expect(day2.map((row) => row.avatar)).toEqual(["ada", "grace"]);
      expect(
        (await run("incomplete-learners-for-date", { date: "2026-03-02", cohortId: "c1" })).rows,
      ).toEqual([]);
      expect((await run("incomplete-learners-for-date", { date: "2030-01-01" })).rows).toEqual([]);
    });

    it("notifications-by-status: one status or any, optionally one lesson, with learner and lesson", async () => {
      const failed = records(await run("notifications-by-status", { status: "failed" }));
      expect(failed).toEqual([
        expect.objectContaining({
          status: "failed",
          attempts: 3,
          error: "550 mailbox unavailable",
          avatar: "grace",
          lesson_id: seeded.day2Id,
          lesson_title: "Day 2",
          lesson_date: "2026-03-03",
          data_sent_at: null,
          sent_at: null,
        }),
      ]);
      expect(failed[0]!.created_at).toMatch(ISO);
      const pending = await run("notifications-by-status", {
        status: "pending",
        lessonId: seeded.day2Id.toUpperCase(),
      });
      expect(records(pending).map((row) => row.avatar)).toEqual(["ada"]);
      expect(
        (await run("notifications-by-status", { status: "pending", lessonId: seeded.day1Id })).rows,
      ).toEqual([]);
      expect((await run("notifications-by-status", { status: "sent" })).rows).toEqual([]);
      expect((await run("notifications-by-status", { status: "unconfirmed" })).rows).toEqual([]);
      // Without a status (the form's first run): every notification, newest first.
      const any = records(await run("notifications-by-status", {}));
      expect(any.map((row) => row.status).sort()).toEqual(["failed", "pending"]);
    });

    it("task-runs: newest attempts, filtered by task or state, with their duration", async () => {
      const all = records(await run("task-runs"));
      expect(all.map((row) => row.task_name)).toEqual(["daily-reminders", "incremental-etl"]);
      expect(all[1]).toMatchObject({
        status: "succeeded",
        attempt: 1,
        detail: { flattened: 4 },
        error: null,
        duration_ms: expect.any(Number),
      });
      expect(all[0]).toMatchObject({ status: "failed", error: "SMTP down" });
      expect(records(await run("task-runs", { taskName: "incremental-etl" }))).toHaveLength(1);
      expect(records(await run("task-runs", { status: "failed" })).map((row) => row.task_name)).toEqual([
        "daily-reminders",
      ]);
    });

    it("etl-backlog: counts and newest times in one row", async () => {
      const result = await run("etl-backlog");
      expect(records(result)).toEqual([
        {
          raw_count: 5,
          flat_count: 4,
          unflattened_count: 1,
          oldest_unflattened_stored: "2026-03-02T10:05:00.000Z",
          newest_raw_stored: "2026-03-02T10:05:00.000Z",
          newest_flat_stored: "2026-03-02T10:04:00.000Z",
          newest_flattened_at: expect.stringMatching(ISO),
        },
      ]);
    });

    it("runs every query in the registry with its defaults or a sample value, naming columns uniquely", async () => {
      const sample: Record<string, Record<string, unknown>> = {
        "learner-flat-rows": { email: "ada@example.com" },
        "completions-by-lesson": { cohortId: "c1" },
        "incomplete-learners-for-date": { date: "2026-03-03" },
        "notifications-by-status": { status: "pending" },
      };
      for (const query of getPrebuiltQueries()) {
        const result = await run(query.name, sample[query.name] ?? {});
        expect(result.columns.length, query.name).toBeGreaterThan(0);
        expect(new Set(result.columns).size, query.name).toBe(result.columns.length);
        expect(result.rows.length, query.name).toBeGreaterThan(0);
        expect(result.ms, query.name).toBeGreaterThanOrEqual(0);
        expect(JSON.parse(JSON.stringify(result)), query.name).toEqual(result);
      }
    });
  });

  describe("hostile strings", () => {
    it.each(HOSTILE)("treats %j in string parameters as data", async (value) => {
      const before = await counts(db);
      const started = Date.now();
      expect((await run("task-runs", { taskName: value })).rows).toEqual([]);
      expect((await run("completions-by-lesson", { cohortId: value.slice(0, 64) })).rows).toEqual([]);
      expect(
        (await run("incomplete-learners-for-date", { date: "2026-03-03", cohortId: value.slice(0, 64) }))
          .rows,
      ).toEqual([]);
      expect((await run("learner-flat-rows", { avatar: value.slice(0, 32) })).rows).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await counts(db)).toEqual(before);
    });

    it.each([
      ["learner-flat-rows", { email: "'; drop table users; --" }, "email"],
      ["learner-flat-rows", { email: "a@b.c'; drop table users; --" }, "email"],
      ["recent-statements", { limit: "1; select pg_sleep(10)" }, "limit"],
      ["notifications-by-status", { status: "sent' or '1'='1" }, "status"],
      ["notifications-by-status", { status: "sent", lessonId: "'; drop table lessons; --" }, "lessonId"],
      ["incomplete-learners-for-date", { date: "2026-03-02'; drop table lessons; --" }, "date"],
      ["completions-by-lesson", { cohortId: { sql: "select 1" } }, "cohortId"],
      ["completions-by-lesson", { cohortId: ["c1", "c2"] }, "cohortId"],
    ])("refuses %s %j by validation, naming %s", async (name, params, field) => {
      const error = await rejection(run(name, params));
      expect(error).toMatchObject({ status: 400, code: "validation_error" });
      expect(error.details?.map((detail) => detail.field)).toEqual([`params.${field}`]);
    });

    it("binds every parameter value: no value appears in the SQL text of any query", () => {
      const dialect = new PgDialect();
      const marker: Record<ParamDescriptor["type"], (param: ParamDescriptor) => string | number> = {
        string: (param) => `MARK'${param.name}`,
        email: (param) => `mark-${param.name.toLowerCase()}@example.com`,
        uuid: () => "0b7c3a58-2f4e-4f6b-9a57-3b9d4d8e1f10",
        date: () => "2031-07-19",
        enum: (param) => param.values![0]!,
        integer: () => 4242,
      };
      const baseUrl = "https://MARK.example";
      for (const query of getPrebuiltQueries()) {
        const params: Record<string, string | number> = {};
        for (const param of query.params) params[param.name] = marker[param.type](param);
        const rendered = dialect.sqlToQuery(query.sql(params as QueryParams, { publicBaseUrl: baseUrl }));
        for (const param of query.params) {
          expect(rendered.params, `${query.name}.${param.name}`).toContain(params[param.name]);
          if (param.type !== "enum") {
            expect(rendered.sql, `${query.name}.${param.name}`).not.toContain(String(params[param.name]));
          }
        }
        expect(rendered.sql, query.name).not.toContain(baseUrl);
      }
    });
  });

  describe("the read-only transaction", () => {
    it("refuses an insert with SQLSTATE 25006 and writes nothing", async () => {
      const before = await counts(db);
      const error = await runReadOnly(
        db,
        sql`insert into users (name, email, avatar, cohort_id) values ('eve', 'eve@example.com', 'eve', 'c1')`,
      ).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(driverError(error)?.code).toBe("25006");
      expect(await counts(db)).toEqual(before);
    });

    it.each([
      ["a data-modifying CTE", sql`with gone as (delete from users returning id) select count(*) from gone`],
      ["an update", sql`update lessons set title = 'x'`],
      ["DDL", sql`drop table notifications`],
      ["a sequence bump", sql`select nextval(pg_get_serial_sequence('task_status', 'id'))`],
    ])("refuses %s with SQLSTATE 25006", async (_, query: SQL) => {
      const before = await counts(db);
      const error = await runReadOnly(db, query).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(driverError(error)?.code).toBe("25006");
      expect(await counts(db)).toEqual(before);
      expect((await run("notifications-by-status", { status: "failed" })).rows).toHaveLength(1);
    });

    it("sets statement_timeout for its own transaction only", async () => {
      const inside = await runReadOnly(db, sql`select current_setting('statement_timeout') as timeout`, {
        timeoutMs: 1234,
      });
      expect(inside.rows).toEqual([["1234ms"]]);
      const [after] = await queryRows<{ timeout: string }>(
        db,
        sql`select current_setting('statement_timeout') as timeout`,
      );
      expect(after?.timeout).toBe("0");
    });

    // PGlite runs PostgreSQL single-threaded in WebAssembly, without the timer signal that
    // enforces statement_timeout: there the setting is accepted and not enforced.
    it.skipIf(kind === "pglite")("cancels a query at the statement timeout with query_timeout", async () => {
      const started = Date.now();
      const error = await rejection(runReadOnly(db, sql`select pg_sleep(2)`, { timeoutMs: 200 }));
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(error).toBeInstanceOf(QueryTimeout);
      expect(error).toMatchObject({ status: 422, code: "query_timeout" });
      expect(error.message).toContain("200 ms");
      // The connection is usable afterwards, with no timeout left behind.
      expect((await run("etl-backlog")).rows).toHaveLength(1);
    });
  });

  describe("the row cap", () => {
    it("returns at most maxRows rows and says when there were more", async () => {
      const capped = await run("recent-statements", {}, { maxRows: 2 });
      expect(capped.rows).toHaveLength(2);
      expect(capped.truncated).toBe(true);
      expect(capped.rows.map((row) => row[0])).toEqual([seeded.rawIds[4], seeded.rawIds[3]]);
      const exact = await run("recent-statements", {}, { maxRows: 5 });
      expect(exact).toMatchObject({ truncated: false });
      expect(exact.rows).toHaveLength(5);
    });

    it("applies to runReadOnly as well", async () => {
      const result = await runReadOnly(db, sql`select n from generate_series(1, 2500) as n`);
      expect(result.rows).toHaveLength(1_000);
      expect(result.truncated).toBe(true);
      expect(result.rows.at(-1)).toEqual([1000]);
    });
  });
});

describe("validation (no database reached)", () => {
  // A Db that fails the test if it is used: validation must refuse before any SQL runs.
  const untouchable = new Proxy({} as Db, {
    get: () => {
      throw new Error("the database was used");
    },
  });
  const validate = (name: string, params: unknown) => rejection(executeSafeQuery(untouchable, name, params));

  it.each([
    "no-such-query",
    "",
    "select * from users",
    "__proto__",
    "constructor",
    "toString",
    "recent statements",
  ])("refuses the unknown name %j with 400 unknown_query naming it", async (name) => {
    const error = await validate(name, {});
    expect(error).toMatchObject({ status: 400, code: "unknown_query" });
    expect(error.message).toContain(`"${name}"`);
    expect(error.message).toContain("recent-statements");
    expect(error.details).toEqual([{ field: "name", message: "is not a prebuilt query" }]);
  });

  it.each([
    ["recent-statements", { limit: 5, sql: "select 1" }, ["params.sql"]],
    ["etl-backlog", { verbose: true }, ["params.verbose"]],
    ["recent-statements", { limit: "50" }, ["params.limit"]],
    ["recent-statements", { limit: 1.5 }, ["params.limit"]],
    ["recent-statements", { limit: 0 }, ["params.limit"]],
    ["recent-statements", { limit: 501 }, ["params.limit"]],
    ["recent-statements", { limit: true }, ["params.limit"]],
    ["recent-statements", { limit: 2 ** 60 }, ["params.limit"]],
    ["incomplete-learners-for-date", { date: "2026-02-30" }, ["params.date"]],
    ["incomplete-learners-for-date", { date: "tomorrow" }, ["params.date"]],
    ["incomplete-learners-for-date", { date: 20260302 }, ["params.date"]],
    ["incomplete-learners-for-date", {}, ["params.date"]],
    ["notifications-by-status", { status: "deleted" }, ["params.status"]],
    ["notifications-by-status", { status: "sent", lessonId: "not-a-uuid" }, ["params.lessonId"]],
    ["learner-flat-rows", { email: "not an email" }, ["params.email"]],
    ["learner-flat-rows", {}, ["params"]],
    ["learner-flat-rows", { email: "ada@example.com", avatar: "ada" }, ["params"]],
    ["learner-flat-rows", { avatar: "a".repeat(33) }, ["params.avatar"]],
    ["task-runs", { taskName: 42 }, ["params.taskName"]],
    ["task-runs", { taskName: "" }, ["params.taskName"]],
    ["task-runs", { taskName: "etl\u0000" }, ["params.taskName"]],
    ["task-runs", { taskName: "x".repeat(101) }, ["params.taskName"]],
    ["completions-by-lesson", { cohortId: "c".repeat(65) }, ["params.cohortId"]],
    ["completions-by-lesson", {}, ["params.cohortId"]],
    [
      "task-runs",
      { taskName: 1, status: "done", limit: -1, extra: 1 },
      ["params.extra", "params.taskName", "params.status", "params.limit"],
    ],
  ])("refuses %s with %j, naming %j", async (name, params, fields) => {
    const error = await validate(name, params);
    expect(error).toMatchObject({ status: 400, code: "validation_error" });
    expect(error.details?.map((detail) => detail.field)).toEqual(fields);
    for (const field of fields) expect(error.message).toContain(field);
  });

  it.each([
    ["recent-statements", { limit: 2 ** 60 }, "params.limit", "must be an integer"],
    ["recent-statements", { limit: "50" }, "params.limit", "must be an integer"],
    ["recent-statements", { limit: 0 }, "params.limit", "must be at least 1"],
    ["recent-statements", { limit: 501 }, "params.limit", "must be at most 500"],
    [
      "recent-statements",
      { sql: "select 1" },
      "params.sql",
      "is not a parameter of recent-statements (accepted: limit)",
    ],
    [
      "etl-backlog",
      { verbose: true },
      "params.verbose",
      "is not a parameter of etl-backlog (accepted: none)",
    ],
    ["task-runs", { taskName: 42 }, "params.taskName", "must be a string (string)"],
    [
      "task-runs",
      { taskName: "" },
      "params.taskName",
      "must not be empty (leave an optional parameter out instead)",
    ],
    ["task-runs", { taskName: "etl\u0000" }, "params.taskName", "must not contain NUL characters"],
    ["task-runs", { status: "x".repeat(300) }, "params.status", "must be at most 200 characters"],
    [
      "notifications-by-status",
      { status: "deleted" },
      "params.status",
      "must be one of pending, sending, sent, failed, skipped, unconfirmed",
    ],
    ["notifications-by-status", { status: "sent", lessonId: "x" }, "params.lessonId", "must be a UUID"],
    ["incomplete-learners-for-date", {}, "params.date", "is required"],
    ["learner-flat-rows", { email: "not an email" }, "params.email", "must be an email address"],
    [
      "learner-flat-rows",
      { email: "ada@example.com", avatar: "ada" },
      "params",
      "give exactly one of email, avatar",
    ],
    ["incomplete-learners-for-date", { date: "2026-02-30" }, "params.date", "must be a date, YYYY-MM-DD"],
    [
      "incomplete-learners-for-date",
      { date: "1899-12-31" },
      "params.date",
      "must be a date from 1900-01-01 to 2999-12-31",
    ],
  ])("refuses %s with %j: %s %s", async (name, params, field, message) => {
    const error = await validate(name, params);
    expect(error.details).toEqual([{ field, message }]);
  });

  it.each([["a string"], [[1, 2]], [42], [true]])(
    "refuses params that are not an object (%j)",
    async (params) => {
      const error = await validate("recent-statements", params);
      expect(error).toMatchObject({ code: "validation_error", details: [{ field: "params" }] });
    },
  );

  it("refuses strings over 200 characters whatever a parameter declares", () => {
    const query: PrebuiltQuery = {
      name: "probe",
      title: "probe",
      description: "probe",
      params: [{ name: "text", type: "string", required: true, maxLength: 10_000, description: "text" }],
      sql: () => sql`select 1`,
    };
    expect(resolveParams(query, { text: "x".repeat(200) })).toEqual({ text: "x".repeat(200) });
    expect(() => resolveParams(query, { text: "x".repeat(201) })).toThrow(
      /params\.text: must be at most 200/,
    );
  });

  it("fills defaults and nulls, normalises case, and treats null as not given", () => {
    const byName = new Map(getPrebuiltQueries().map((query) => [query.name, query]));
    expect(resolveParams(byName.get("recent-statements")!, {})).toEqual({ limit: 50 });
    expect(resolveParams(byName.get("recent-statements")!, { limit: null })).toEqual({ limit: 50 });
    expect(resolveParams(byName.get("learner-flat-rows")!, { email: "Ada@Example.COM" })).toEqual({
      email: "ada@example.com",
      avatar: null,
      limit: 100,
    });
    expect(
      resolveParams(byName.get("notifications-by-status")!, {
        status: "sent",
        lessonId: "0B7C3A58-2F4E-4F6B-9A57-3B9D4D8E1F10",
      }),
    ).toEqual({ status: "sent", lessonId: "0b7c3a58-2f4e-4f6b-9a57-3b9d4d8e1f10", limit: 100 });
    expect(resolveParams(byName.get("etl-backlog")!, undefined)).toEqual({});
  });

  it("turns form fields into params: blanks left out, plain integers parsed, the rest left to validation", () => {
    expect(paramsFromForm("recent-statements", { limit: " 25 " })).toEqual({ limit: 25 });
    expect(paramsFromForm("recent-statements", { limit: "" })).toEqual({});
    expect(paramsFromForm("recent-statements", { limit: "1e3" })).toEqual({ limit: "1e3" });
    expect(paramsFromForm("task-runs", { taskName: "007", other: "x" })).toEqual({
      taskName: "007",
      other: "x",
    });
  });
});

describe("the registry", () => {
  it("describes every query and parameter, with defaults its own validation accepts", () => {
    const queries = getPrebuiltQueries();
    expect(queries.map((query) => query.name)).toEqual([
      "recent-statements",
      "learner-flat-rows",
      "completions-by-lesson",
      "incomplete-learners-for-date",
      "notifications-by-status",
      "task-runs",
      "etl-backlog",
    ]);
    for (const query of queries) {
      expect(query.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(query.title.length).toBeGreaterThan(0);
      expect(query.description.length).toBeGreaterThan(20);
      for (const param of query.params) {
        expect(param.description.length, `${query.name}.${param.name}`).toBeGreaterThan(0);
        if (param.type === "enum") expect(param.values?.length).toBeGreaterThan(0);
        if (param.default !== undefined) {
          expect(() =>
            resolveParams(
              { ...query, params: [param], requireOneOf: undefined },
              { [param.name]: param.default },
            ),
          ).not.toThrow();
        }
      }
    }
  });

  it("lists descriptors as plain JSON data without SQL, as copies", () => {
    const descriptors = getQueryDescriptors();
    expect(JSON.parse(JSON.stringify(descriptors))).toEqual(descriptors);
    for (const descriptor of descriptors) expect(descriptor).not.toHaveProperty("sql");
    descriptors[0]!.params.length = 0;
    expect(getQueryDescriptors()[0]!.params.length).toBeGreaterThan(0);
  });
});
