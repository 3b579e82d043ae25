/**
 * DESIGN §6, the completion rule, pinned once for every place that applies it: the reports
 * (JSON pages and CSV streams), the reminders (the day's set and the check before sending), the
 * dashboard, the DB terminal's vetted queries, the flattener's learner resolution and signup's
 * attribution of earlier statements. One cohort, one lesson, one learner per case; every consumer
 * must name the same learners as having completed it.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/db.ts";
import { recordStatements, statement } from "../../test/helpers/xapi.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { DEFAULT_COMPLETION_VERBS } from "../config.ts";
import { queryRows } from "../db/client.ts";
import { type Lesson, type User, users } from "../db/schema.ts";
import { executeSafeQuery } from "../dbTerminal/executeSafeQuery.ts";
import { VOIDED_VERB } from "../names.ts";
import type { Statement } from "../xapi/validateStatement.ts";
import { isCompletionStatement } from "./completion.ts";
import {
  getCohortCompletions,
  getIncompleteLearners,
  streamCohortCompletions,
  streamIncompleteLearners,
} from "./completionReports.ts";
import { completionRates } from "./dashboard.ts";
import { getIncompleteUsers, hasCompleted } from "./getIncompleteUsers.ts";

const BASE_URL = "https://course.example.com";
const LESSON = "https://lessons.example.com/rule/day-1";
const OTHER_ACTIVITY = "https://lessons.example.com/rule/day-2";
const DAY = "2026-04-01";
const COMPLETED = "http://adlnet.gov/expapi/verbs/completed";
const PASSED = "http://adlnet.gov/expapi/verbs/passed";
const EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced";
const ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted";

/** The learners of cohort c1 that the rule says completed LESSON, and those it says did not. */
const COMPLETERS = ["ada", "bob", "eve", "gus", "ivy", "kay"];
const NOT_COMPLETERS = ["cyd", "dee", "fay", "hal"];

let database: TestDatabase;
let lesson: Lesson;
const learners: Record<string, User> = {};
const statementIds: Record<string, string> = {};

const verb = (id: string) => ({ id, display: { "en-US": id.split("/").at(-1)! } });
/** A statement about LESSON; an override of `undefined` removes that property. */
function sent(
  actor: Record<string, unknown>,
  verbId: string,
  overrides: Record<string, unknown> = {},
): Statement {
  const built: Record<string, unknown> = {
    ...statement({ actor, verb: verb(verbId), object: { id: LESSON }, timestamp: `${DAY}T09:00:00Z` }),
    ...overrides,
  };
  for (const key of Object.keys(built)) if (built[key] === undefined) delete built[key];
  return built as unknown as Statement;
}
const mbox = (email: string) => ({ mbox: `mailto:${email}` });

async function join(avatar: string, cohortId = "c1"): Promise<void> {
  learners[avatar] = await signUp(
    database.db,
    { name: avatar.toUpperCase(), email: `${avatar}@example.com`, avatar, cohortId },
    BASE_URL,
  );
}

/** A learner row written directly (no signup), its email with capitals: `Ivy@Example.com`. */
async function insertLearner(avatar: string): Promise<void> {
  const email = `${avatar[0]!.toUpperCase()}${avatar.slice(1)}@Example.com`;
  const [row] = await database.db
    .insert(users)
    .values({ name: avatar.toUpperCase(), email, avatar, cohortId: "c1" })
    .returning();
  learners[avatar] = row!;
}

async function record(cases: Record<string, Statement>): Promise<void> {
  const ids = await recordStatements(database.db, Object.values(cases), BASE_URL);
  Object.keys(cases).forEach((name, i) => {
    statementIds[name] = ids[i]!;
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  for (const avatar of ["ada", "bob", "cyd", "dee", "eve", "fay", "hal"]) await join(avatar);
  await join("jon", "c2");
  // A learner row whose email kept its capitals (written before emails were lower-cased, or by
  // hand): the flattener still resolves her statements to her.
  await insertLearner("kay");

  // Every statement arrives before the lesson is registered, and gus's before he signs up.
  await record({
    // The mailbox in another case than the learner typed it.
    ada: sent(mbox("ADA@Example.COM"), COMPLETED, { result: undefined }),
    // An account under PUBLIC_BASE_URL named by the avatar, a completion verb, no result.
    bob: sent({ account: { homePage: BASE_URL, name: "bob" } }, PASSED, { result: undefined }),
    // The same account name under another homePage is someone else.
    cyd: sent({ account: { homePage: "https://elsewhere.example.com", name: "cyd" } }, COMPLETED),
    dee: sent(mbox("dee@example.com"), COMPLETED),
    // Not a completion verb, but result.completion is true.
    eve: sent(mbox("eve@example.com"), EXPERIENCED, { result: { completion: true } }),
    // Neither a completion verb nor result.completion true.
    fay: sent(mbox("fay@example.com"), EXPERIENCED, { result: { completion: false } }),
    fay2: sent(mbox("fay@example.com"), ATTEMPTED, { result: undefined }),
    gus: sent(mbox("gus@example.com"), COMPLETED),
    // A completion of another activity.
    hal: sent(mbox("hal@example.com"), COMPLETED, { object: { id: OTHER_ACTIVITY } }),
    ivy: sent(mbox("ivy@example.com"), COMPLETED),
    kay: sent(mbox("kay@example.com"), COMPLETED),
    // A learner of another cohort completing the same activity.
    jon: sent(mbox("jon@example.com"), COMPLETED),
  });
  // dee's completion is voided afterwards.
  await record({
    voidDee: sent(mbox("admin@example.com"), VOIDED_VERB, {
      object: { objectType: "StatementRef", id: statementIds.dee },
      result: undefined,
    }),
  });
  await join("gus");
  // Another such row, written after her statement and not through signup, so no flat row names
  // her: only the case-insensitive mailbox match finds her completion.
  await insertLearner("ivy");
  lesson = await createLesson(database.db, {
    cohortId: "c1",
    activityId: LESSON,
    title: "Day 1",
    lessonDate: DAY,
  });
});

afterAll(async () => {
  await database?.drop();
});

const sorted = (avatars: Iterable<string>) => [...avatars].sort();
const avatarOf = (userId: string) => Object.values(learners).find((u) => u.id === userId)!.avatar;

describe("DESIGN §6 completion rule", () => {
  it("is a completion verb or result.completion true (the TypeScript predicate the flattener uses)", () => {
    const verbs = new Set(DEFAULT_COMPLETION_VERBS);
    expect(isCompletionStatement(COMPLETED, undefined, verbs)).toBe(true);
    expect(isCompletionStatement(PASSED, false, verbs)).toBe(true);
    expect(isCompletionStatement(EXPERIENCED, true, verbs)).toBe(true);
    expect(isCompletionStatement(EXPERIENCED, false, verbs)).toBe(false);
    expect(isCompletionStatement(ATTEMPTED, null, verbs)).toBe(false);
    expect(isCompletionStatement(COMPLETED, undefined, new Set([PASSED]))).toBe(false);
  });

  it("the flattener and signup resolve actors to learners by mailbox (any case) and account", async () => {
    const rows = await queryRows<{ statement_id: string; user_id: string | null }>(
      database.db,
      sql`select statement_id, user_id from statements_flat`,
    );
    const userOf = new Map(rows.map((row) => [row.statement_id, row.user_id]));
    for (const name of ["ada", "bob", "dee", "eve", "fay", "hal", "jon", "kay"]) {
      expect(userOf.get(statementIds[name]!), name).toBe(learners[name]!.id);
    }
    // Sent before gus signed up: signup points it at him.
    expect(userOf.get(statementIds.gus!)).toBe(learners.gus!.id);
    // An account under another homePage is nobody; ivy's row came after her statement.
    expect(userOf.get(statementIds.cyd!)).toBeNull();
    expect(userOf.get(statementIds.ivy!)).toBeNull();
  });

  it("reports: the completions page and the CSV stream name exactly the completers", async () => {
    const page = await getCohortCompletions(database.db, "c1", {}, { limit: 100, offset: 0 }, BASE_URL);
    expect(sorted(page.items.map((row) => row.avatar))).toEqual(COMPLETERS);
    const streamed: string[] = [];
    for await (const rows of await streamCohortCompletions(database.db, "c1", {}, BASE_URL, 2)) {
      streamed.push(...rows.map((row) => row.avatar));
    }
    expect(sorted(streamed)).toEqual(COMPLETERS);
  });

  it("reports: the incomplete page and the CSV stream name exactly the others", async () => {
    const page = await getIncompleteLearners(database.db, lesson, { limit: 100, offset: 0 }, BASE_URL);
    expect(sorted(page.items.map((row) => row.avatar))).toEqual(NOT_COMPLETERS);
    const streamed: string[] = [];
    for await (const rows of streamIncompleteLearners(database.db, lesson, BASE_URL, 3)) {
      streamed.push(...rows.map((row) => row.avatar));
    }
    expect(sorted(streamed)).toEqual(NOT_COMPLETERS);
  });

  it("reminders: the day's set and the check before sending agree with the reports", async () => {
    const due = await getIncompleteUsers(database.db, DAY, { publicBaseUrl: BASE_URL, cohortId: "c1" });
    expect(sorted(due.map((row) => row.avatar))).toEqual(NOT_COMPLETERS);
    for (const avatar of [...COMPLETERS, ...NOT_COMPLETERS]) {
      const user = learners[avatar]!;
      expect(await hasCompleted(database.db, user, LESSON, BASE_URL), avatar).toBe(
        COMPLETERS.includes(avatar),
      );
    }
  });

  it("the dashboard counts the completers", async () => {
    const [rate] = await completionRates(database.db, "c1", BASE_URL);
    expect(rate).toMatchObject({ lessonId: lesson.id, completed: COMPLETERS.length, learners: 10 });
  });

  it("the DB terminal's vetted queries agree", async () => {
    const byLesson = await executeSafeQuery(
      database.db,
      "completions-by-lesson",
      { cohortId: "c1" },
      {
        publicBaseUrl: BASE_URL,
      },
    );
    const [row] = byLesson.rows.map((r) => Object.fromEntries(byLesson.columns.map((c, i) => [c, r[i]])));
    expect(row).toMatchObject({
      learners: 10,
      completed: COMPLETERS.length,
      incomplete: NOT_COMPLETERS.length,
    });
    const forDate = await executeSafeQuery(
      database.db,
      "incomplete-learners-for-date",
      { date: DAY },
      {
        publicBaseUrl: BASE_URL,
      },
    );
    const userColumn = forDate.columns.indexOf("user_id");
    expect(sorted(forDate.rows.map((r) => avatarOf(r[userColumn] as string)))).toEqual(NOT_COMPLETERS);
  });

  it("a learner of another cohort does not complete this cohort's lesson, but completes it in theirs", async () => {
    const other = await createLesson(database.db, {
      cohortId: "c2",
      activityId: LESSON,
      title: "Day 1",
      lessonDate: DAY,
    });
    try {
      const c2 = await getCohortCompletions(database.db, "c2", {}, { limit: 100, offset: 0 }, BASE_URL);
      expect(c2.items.map((row) => row.avatar)).toEqual(["jon"]);
      const c1 = await getCohortCompletions(database.db, "c1", {}, { limit: 100, offset: 0 }, BASE_URL);
      expect(c1.items.map((row) => row.avatar)).not.toContain("jon");
    } finally {
      await database.db.execute(sql`delete from lessons where id = ${other.id}`);
    }
  });
});
