/**
 * The reports on real PostgreSQL, through `app.inject()`: who completed what (first time, best
 * score), who has not, the completion rule's edge cases (voided, late signup, another cohort,
 * mailbox without a resolved user_id), filters, paging, errors, and CSV (negotiation, quoting,
 * formula injection, streaming pages). One data set is seeded once; every test only reads.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHeaders, buildApp } from "../../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/helpers/db.ts";
import { recordStatements, statement } from "../../../test/helpers/xapi.ts";
import type { App } from "../../app.ts";
import { createLesson } from "../../commands/createLesson.ts";
import { signUp } from "../../commands/signUp.ts";
import {
  type CompletionRow,
  getCohortCompletions,
  type IncompleteRow,
  streamCohortCompletions,
  streamIncompleteLearners,
} from "../../data/completionReports.ts";
import type { Lesson, User } from "../../db/schema.ts";
import { csvField, csvLine } from "../../reports/csv.ts";
import type { Statement } from "../../xapi/validateStatement.ts";
import { wantsCsv } from "./routes.ts";

const BASE_URL = "https://course.example.com";
const DAY_1_IRI = "https://lessons.example.com/day-1";
const DAY_2_IRI = "https://lessons.example.com/day-2";
const QUIRKY_NAME = 'Lovelace, "Countess"\nof Lovelace';
const FORMULA_NAME = '=HYPERLINK("http://evil.example","click")';
const DAY_2_TITLE = '+Day 2: "Loops", part 1';

let database: TestDatabase;
let app: App;
const learners: Record<string, User> = {};
let day1: Lesson;
let day2: Lesson;
let onlyLesson: Lesson;

/** Stores statements as the LRS would, then flattens them. */
const record = (statements: Statement[]) => recordStatements(database.db, statements, BASE_URL);

const completes = (
  actor: Record<string, unknown>,
  activity: string,
  timestamp: string,
  score?: { scaled?: number; raw?: number },
) =>
  statement({
    actor,
    object: { id: activity },
    timestamp,
    result: score ? { completion: true, score } : { completion: true },
  });

const mbox = (avatar: string) => ({ mbox: `mailto:${avatar}@example.com` });

async function learner(avatar: string, name: string, options: { cohortId?: string } = {}) {
  learners[avatar] = await signUp(
    database.db,
    { name, email: `${avatar}@example.com`, avatar, cohortId: options.cohortId ?? "c1" },
    BASE_URL,
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database, { PUBLIC_BASE_URL: BASE_URL });

  day1 = await createLesson(database.db, {
    cohortId: "c1",
    activityId: DAY_1_IRI,
    title: "Day 1: Variables",
    lessonDate: "2026-03-02",
  });
  day2 = await createLesson(database.db, {
    cohortId: "c1",
    activityId: DAY_2_IRI,
    title: DAY_2_TITLE,
    lessonDate: "2026-03-03",
  });
  // Another cohort with a lesson on the same activity.
  await createLesson(database.db, {
    cohortId: "c2",
    activityId: DAY_1_IRI,
    title: "C2 Day 1",
    lessonDate: "2026-03-02",
  });
  // A cohort with a lesson and no learners yet.
  onlyLesson = await createLesson(database.db, {
    cohortId: "lessons-only",
    activityId: DAY_1_IRI,
    title: "Lonely",
    lessonDate: "2026-03-02",
  });

  await learner("ada", "Ada Lovelace");
  await learner("grace", "Grace Hopper");
  await learner("alan", "Alan Turing");
  await learner("alan-two", "Alan Turing");
  await learner("quirky", QUIRKY_NAME);
  await learner("formula", FORMULA_NAME);
  await learner("optout", "Opted Out");
  await database.db.execute(
    sql`update users set reminders_enabled = false where id = ${learners.optout!.id}`,
  );
  await learner("other", "Other Cohort", { cohortId: "c2" });
  await learner("solo", "Solo Learner", { cohortId: "learners-only" });

  // A late signup: completed day 1 (with a negative score) by account, before signing up.
  await record([
    completes({ account: { homePage: BASE_URL, name: "late" } }, DAY_1_IRI, "2026-03-01T23:30:00Z", {
      scaled: -0.2,
      raw: 4,
    }),
  ]);
  await learner("late", "Late Learner");

  const [graceCompletion] = await record([
    completes(mbox("grace"), DAY_1_IRI, "2026-03-02T09:00:00Z", { scaled: 1, raw: 100 }),
  ]);
  await record([
    // Ada: day 1 twice (the second scores better), day 2 without a score.
    completes(mbox("ada"), DAY_1_IRI, "2026-03-02T10:00:00Z", { scaled: 0.6, raw: 60 }),
    completes({ mbox: "mailto:ADA@example.com" }, DAY_1_IRI, "2026-03-02T12:00:00Z", {
      scaled: 0.9,
      raw: 90,
    }),
    completes(mbox("ada"), DAY_2_IRI, "2026-03-03T09:00:00Z"),
    // Grace's only completion is voided.
    statement({
      actor: mbox("grace"),
      verb: { id: "http://adlnet.gov/expapi/verbs/voided" },
      object: { objectType: "StatementRef", id: graceCompletion },
      result: undefined,
    }),
    // Alan only attempted; passing another activity completes none of these lessons.
    statement({
      actor: mbox("alan"),
      verb: { id: "http://adlnet.gov/expapi/verbs/attempted" },
      object: { id: DAY_1_IRI },
      result: undefined,
    }),
    completes(mbox("alan"), "https://lessons.example.com/elsewhere", "2026-03-02T10:00:00Z"),
    // Quirky's name needs quoting in CSV; the passed verb completes without result.completion.
    statement({
      actor: mbox("quirky"),
      verb: { id: "http://adlnet.gov/expapi/verbs/passed" },
      object: { id: DAY_1_IRI },
      timestamp: "2026-03-02T15:45:30.250Z",
      result: { score: { raw: 7 } },
    }),
    // A learner of c2 completes the shared activity: counts for c2 only.
    completes(mbox("other"), DAY_1_IRI, "2026-03-02T08:00:00Z", { scaled: 0.5 }),
  ]);
  // A completion whose learner was not resolved at flatten time (a signup racing the sweep)
  // still counts, by mailbox.
  await database.db.execute(
    sql`update statements_flat set user_id = null where actor_mbox = 'mailto:quirky@example.com'`,
  );
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const get = (url: string, headers: Record<string, string> = adminHeaders) =>
  app.inject({ method: "GET", url, headers });

const completionsUrl = (query = "", cohortId = "c1") =>
  `/api/reports/cohorts/${cohortId}/completions${query ? `?${query}` : ""}`;
const incompleteUrl = (lessonId: string, query = "") =>
  `/api/reports/lessons/${lessonId}/incomplete${query ? `?${query}` : ""}`;

/** A strict RFC 4180 reader: the test's independent check of what the encoder wrote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else if (char === "\n" || char === "\r") throw new Error(`bare line break at ${i}`);
    else field += char;
  }
  if (field || record.length) throw new Error("the last record has no CRLF");
  return records;
}

const ada = () => learners.ada!;
const adaDay1 = () => ({
  userId: ada().id,
  name: "Ada Lovelace",
  email: "ada@example.com",
  avatar: "ada",
  lessonId: day1.id,
  lessonTitle: "Day 1: Variables",
  lessonDate: "2026-03-02",
  completedAt: "2026-03-02T10:00:00.000Z",
  scoreScaled: 0.9,
  scoreRaw: 90,
});
const adaDay2 = () => ({
  ...adaDay1(),
  lessonId: day2.id,
  lessonTitle: DAY_2_TITLE,
  lessonDate: "2026-03-03",
  completedAt: "2026-03-03T09:00:00.000Z",
  scoreScaled: null,
  scoreRaw: null,
});
const lateDay1 = () => ({
  userId: learners.late!.id,
  name: "Late Learner",
  email: "late@example.com",
  avatar: "late",
  lessonId: day1.id,
  lessonTitle: "Day 1: Variables",
  lessonDate: "2026-03-02",
  completedAt: "2026-03-01T23:30:00.000Z",
  scoreScaled: -0.2,
  scoreRaw: 4,
});
const quirkyDay1 = () => ({
  userId: learners.quirky!.id,
  name: QUIRKY_NAME,
  email: "quirky@example.com",
  avatar: "quirky",
  lessonId: day1.id,
  lessonTitle: "Day 1: Variables",
  lessonDate: "2026-03-02",
  completedAt: "2026-03-02T15:45:30.250Z",
  scoreScaled: null,
  scoreRaw: 7,
});

describe("admin authentication", () => {
  it.each([
    ["the completions report", () => completionsUrl()],
    ["the incomplete report", () => incompleteUrl(day1.id)],
    ["a CSV download", () => completionsUrl("format=csv")],
  ])("answers 401 for %s without admin credentials", async (_, url) => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-password-123" }];
    for (const headers of attempts) {
      const response = await get(url(), headers);
      expect(response.statusCode).toBe(401);
      expect(response.headers["www-authenticate"]).toMatch(/^Basic realm="cohort-lrs admin"/);
      expect(response.json()).toMatchObject({ error: "unauthorized" });
    }
  });
});

describe("GET /api/reports/cohorts/:cohortId/completions", () => {
  it("lists each learner's completed lessons: first completion time, best score", async () => {
    const response = await get(completionsUrl());
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.headers.vary).toMatch(/Accept/);
    const body = response.json();
    expect(body).toMatchObject({ cohortId: "c1", total: 4, limit: 100, offset: 0 });
    // Voided (grace), only attempted (alan), never completed, and the other cohort's learner are absent.
    expect(body.items).toHaveLength(4);
    expect(body.items).toEqual(expect.arrayContaining([adaDay1(), adaDay2(), lateDay1(), quirkyDay1()]));
  });

  it("orders rows by learner name, then lesson date", async () => {
    const items: CompletionRow[] = (await get(completionsUrl())).json().items;
    const names = items.map((row) => row.name);
    expect(names).toEqual([...names].sort());
    const adaRows = items.filter((row) => row.avatar === "ada").map((row) => row.lessonDate);
    expect(adaRows).toEqual(["2026-03-02", "2026-03-03"]);
  });

  it("reports another cohort's completions of a shared activity in that cohort only", async () => {
    const body = (await get(completionsUrl("", "c2"))).json();
    expect(body.items.map((row: CompletionRow) => [row.avatar, row.lessonTitle, row.scoreScaled])).toEqual([
      ["other", "C2 Day 1", 0.5],
    ]);
  });

  it("filters by lesson", async () => {
    const body = (await get(completionsUrl(`lessonId=${day2.id}`))).json();
    expect(body).toMatchObject({ total: 1, items: [adaDay2()] });
    // A lesson of another cohort gives nothing.
    const elsewhere = (await get(completionsUrl(`lessonId=${onlyLesson.id}`))).json();
    expect(elsewhere).toMatchObject({ total: 0, items: [] });
  });

  it.each([
    ["from=2026-03-02", ["ada:2026-03-02", "ada:2026-03-03", "quirky:2026-03-02"]],
    ["to=2026-03-02", ["ada:2026-03-02", "late:2026-03-02", "quirky:2026-03-02"]],
    ["from=2026-03-02&to=2026-03-02", ["ada:2026-03-02", "quirky:2026-03-02"]],
    // On the first completion time: Ada's better retake at 12:00 does not move her into the window.
    ["from=2026-03-02T11:00:00Z", ["ada:2026-03-03", "quirky:2026-03-02"]],
    ["to=2026-03-02T10:00:00Z", ["ada:2026-03-02", "late:2026-03-02"]],
    ["from=2026-03-02T11:00:00%2B01:00&to=2026-03-02T11:00:00%2B01:00", ["ada:2026-03-02"]],
    ["from=2026-03-04", []],
  ])("filters on completion time: %s", async (query, expected) => {
    const response = await get(completionsUrl(query));
    expect(response.statusCode).toBe(200);
    const rows = response.json().items.map((row: CompletionRow) => `${row.avatar}:${row.lessonDate}`);
    expect(rows.sort()).toEqual(expected);
    expect(response.json().total).toBe(expected.length);
  });

  it("pages over (learner, lesson) rows and keeps the total", async () => {
    const all: CompletionRow[] = (await get(completionsUrl())).json().items;
    const second = (await get(completionsUrl("limit=2&offset=1"))).json();
    expect(second).toMatchObject({ total: 4, limit: 2, offset: 1, items: all.slice(1, 3) });
    const past = (await get(completionsUrl("limit=2&offset=10"))).json();
    expect(past).toMatchObject({ total: 4, limit: 2, offset: 10, items: [] });
    // Every window, including ones that start or end inside a learner's rows.
    for (let limit = 1; limit <= 5; limit++) {
      for (let offset = 0; offset <= 5; offset++) {
        const page = await getCohortCompletions(database.db, "c1", {}, { limit, offset }, BASE_URL);
        expect(page.items, `limit ${limit} offset ${offset}`).toEqual(all.slice(offset, offset + limit));
        expect(page.total).toBe(4);
      }
    }
  });

  it("answers 404 for a cohort no learner and no lesson names", async () => {
    const response = await get(completionsUrl("", "nobody"));
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: "not_found", message: 'cohort "nobody" not found' });
    const csv = await get(completionsUrl("format=csv", "nobody"));
    expect(csv.statusCode).toBe(404);
    expect(csv.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("answers an empty report for a cohort with only lessons, or only learners", async () => {
    for (const cohortId of ["lessons-only", "learners-only"]) {
      const response = await get(completionsUrl("", cohortId));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ cohortId, total: 0, items: [] });
    }
  });

  it.each([
    ["cohortId", completionsUrl("", "a%20b")],
    ["lessonId", completionsUrl("lessonId=day-1")],
    ["from", completionsUrl("from=yesterday")],
    ["to", completionsUrl("to=2026-02-30")],
    ["limit", completionsUrl("limit=0")],
    ["limit", completionsUrl("limit=1001")],
    ["offset", completionsUrl("offset=-1")],
    ["format", completionsUrl("format=xml")],
    ["color", completionsUrl("color=red")],
    ["from", completionsUrl("from=2026-03-03&to=2026-03-02")],
  ])("answers 400 naming %s", async (field, url) => {
    const response = await get(url);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe("validation_error");
    expect(response.json().details.map((detail: { field: string }) => detail.field)).toContain(field);
  });
});

describe("GET /api/reports/lessons/:lessonId/incomplete", () => {
  const avatars = (items: IncompleteRow[]) => items.map((row) => row.avatar).sort();

  it("lists the cohort's learners without a completion, whatever their reminder setting", async () => {
    const response = await get(incompleteUrl(day1.id));
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.lesson).toEqual({
      id: day1.id,
      title: "Day 1: Variables",
      cohortId: "c1",
      lessonDate: "2026-03-02",
    });
    // Grace's completion was voided; ada, late (before signup) and quirky (by mailbox) completed.
    expect(avatars(body.items)).toEqual(["alan", "alan-two", "formula", "grace", "optout"]);
    expect(body.total).toBe(5);
    expect(body.items.find((row: IncompleteRow) => row.avatar === "optout")).toEqual({
      userId: learners.optout!.id,
      name: "Opted Out",
      email: "optout@example.com",
      avatar: "optout",
      timezone: "UTC",
      remindersEnabled: false,
    });
    const day2Body = (await get(incompleteUrl(day2.id))).json();
    expect(avatars(day2Body.items)).toEqual(
      ["alan", "alan-two", "formula", "grace", "late", "optout", "quirky"].sort(),
    );
  });

  it("judges completion within the lesson's cohort", async () => {
    const [c2Lesson] = (await get("/api/lessons?cohortId=c2", adminHeaders)).json().items;
    expect((await get(incompleteUrl(c2Lesson.id))).json()).toMatchObject({ total: 0, items: [] });
    // No learners at all: an empty list, not a 404.
    expect((await get(incompleteUrl(onlyLesson.id))).json()).toMatchObject({ total: 0, items: [] });
  });

  it("pages in name order", async () => {
    const all: IncompleteRow[] = (await get(incompleteUrl(day1.id))).json().items;
    const names = all.map((row) => row.name);
    expect(names).toEqual([...names].sort());
    const page = (await get(incompleteUrl(day1.id, "limit=2&offset=2"))).json();
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 2, items: all.slice(2, 4) });
  });

  it("answers 404 for an unknown lesson and 400 for a malformed id or query", async () => {
    const missing = await get(incompleteUrl("00000000-0000-4000-8000-000000000000"));
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe("not_found");
    for (const [url, field] of [
      [incompleteUrl("not-a-uuid"), "lessonId"],
      [incompleteUrl(day1.id, "limit=5000"), "limit"],
      [incompleteUrl(day1.id, "format=pdf"), "format"],
      [incompleteUrl(day1.id, "from=2026-03-02"), "from"],
    ] as const) {
      const response = await get(url);
      expect(response.statusCode).toBe(400);
      expect(response.json().details.map((detail: { field: string }) => detail.field)).toContain(field);
    }
  });
});

describe("CSV", () => {
  const COMPLETION_HEADER = [
    "userId",
    "name",
    "email",
    "avatar",
    "lessonId",
    "lessonTitle",
    "lessonDate",
    "completedAt",
    "scoreScaled",
    "scoreRaw",
  ];
  const asCsvRecord = (row: CompletionRow) =>
    COMPLETION_HEADER.map((key) => {
      const value = row[key as keyof CompletionRow];
      return value === null ? "" : String(value);
    });

  it.each([
    ["Accept: text/csv", completionsUrl("limit=1"), { accept: "text/csv" }],
    ["?format=csv", completionsUrl("format=csv&limit=1&offset=3"), {}],
  ])("streams the whole completions report with %s, ignoring limit and offset", async (_, url, headers) => {
    const response = await get(url, { ...adminHeaders, ...headers });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(response.headers["content-disposition"]).toBe('attachment; filename="cohort-c1-completions.csv"');
    expect(response.headers["cache-control"]).toBe("no-store");
    const json: CompletionRow[] = (await get(completionsUrl())).json().items;
    const records = parseCsv(response.body);
    expect(records[0]).toEqual(COMPLETION_HEADER);
    const expected = json.map(asCsvRecord).map((record) => {
      // The formula guard: a text cell starting with + is written with a leading quote.
      const title = record[5]!;
      record[5] = title.startsWith("+") ? `'${title}` : title;
      return record;
    });
    expect(records.slice(1)).toEqual(expected);
  });

  it("quotes commas, quotes and newlines, and neutralises formulas, byte for byte", async () => {
    const body = (await get(completionsUrl("format=csv"))).body;
    expect(body.endsWith("\r\n")).toBe(true);
    // Quirky's name, with a comma, quotes and a newline, in one quoted field.
    expect(body).toContain(`,"Lovelace, ""Countess""\nof Lovelace",quirky@example.com,quirky,`);
    // A lesson title starting with + (and holding quotes and a comma).
    expect(body).toContain(`,"'+Day 2: ""Loops"", part 1",2026-03-03,2026-03-03T09:00:00.000Z,,\r\n`);
    // A negative score is a number, not text: no guard.
    expect(body).toContain(",2026-03-01T23:30:00.000Z,-0.2,4\r\n");

    const incomplete = await get(incompleteUrl(day1.id), { ...adminHeaders, accept: "text/csv" });
    expect(incomplete.statusCode).toBe(200);
    expect(incomplete.headers["content-disposition"]).toBe(
      `attachment; filename="lesson-2026-03-02-${day1.id}-incomplete.csv"`,
    );
    const records = parseCsv(incomplete.body);
    expect(records[0]).toEqual(["userId", "name", "email", "avatar", "timezone", "remindersEnabled"]);
    expect(records).toContainEqual([
      learners.formula!.id,
      `'${FORMULA_NAME}`,
      "formula@example.com",
      "formula",
      "UTC",
      "true",
    ]);
    expect(incomplete.body).toContain(`,"'=HYPERLINK(""http://evil.example"",""click"")",`);
    expect(records).toHaveLength(1 + 5);
  });

  it("answers a header row alone for an empty report", async () => {
    const response = await get(completionsUrl("format=csv", "learners-only"));
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(`${COMPLETION_HEADER.join(",")}\r\n`);
  });

  it("lets ?format=json win over Accept, and answers JSON to */* and to browsers", async () => {
    for (const [query, accept] of [
      ["format=json", "text/csv"],
      ["", "*/*"],
      ["", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
      ["", "application/json, text/csv"],
      ["", "text/csv;q=0.5, application/json"],
    ] as const) {
      const response = await get(completionsUrl(query), { ...adminHeaders, accept });
      expect(response.headers["content-type"], `${query} ${accept}`).toBe("application/json; charset=utf-8");
    }
  });

  it("reads the report in keyset pages of learners, in the same order as the JSON pages", async () => {
    const db = database.db;
    const collect = async <T>(pages: AsyncIterable<T[]>) => {
      const rows: T[] = [];
      for await (const page of pages) rows.push(...page);
      return rows;
    };
    const json = await getCohortCompletions(db, "c1", {}, { limit: 1000, offset: 0 }, BASE_URL);
    // Pages of one and two learners: "Alan Turing" twice tests the (name, id) keyset.
    for (const pageSize of [1, 2, 3]) {
      expect(await collect(await streamCohortCompletions(db, "c1", {}, BASE_URL, pageSize))).toEqual(
        json.items,
      );
      expect(
        await collect(await streamCohortCompletions(db, "c1", { from: "2026-03-02" }, BASE_URL, pageSize)),
      ).toHaveLength(3);
    }
    const incomplete = (await get(incompleteUrl(day2.id))).json().items;
    for (const pageSize of [1, 2, 7, 8]) {
      expect(await collect(streamIncompleteLearners(db, day2, BASE_URL, pageSize))).toEqual(incomplete);
    }
  });
});

describe("CSV encoding and negotiation", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\r", '"cr\r"'],
    ["=1+1", "'=1+1"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tTAB", "'\tTAB"],
    ['=A1,"x"', `"'=A1,""x"""`],
    ["", ""],
  ])("writes the text %j as %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it("writes numbers, booleans and nulls as they are, one CRLF-terminated line per record", () => {
    expect(csvLine([-0.5, 3, true, false, null, undefined, "x"])).toBe("-0.5,3,true,false,,,x\r\n");
  });

  it.each([
    [undefined, undefined, false],
    ["csv", undefined, true],
    ["json", "text/csv", false],
    [undefined, "text/csv", true],
    [undefined, "TEXT/CSV; charset=utf-8", true],
    [undefined, "text/csv, application/json", true],
    [undefined, "application/json, text/csv", false],
    [undefined, "application/json;q=0.5, text/csv", true],
    [undefined, "text/csv;q=0", false],
    [undefined, "*/*", false],
  ] as const)("format %s with Accept %s → CSV %s", (format, accept, csv) => {
    expect(wantsCsv(format, accept)).toBe(csv);
  });
});

describe("OpenAPI", () => {
  it("documents both reports with JSON and CSV responses and admin security", async () => {
    const doc = (await get("/openapi.json", {})).json();
    for (const path of [
      "/api/reports/cohorts/{cohortId}/completions",
      "/api/reports/lessons/{lessonId}/incomplete",
    ]) {
      const operation = doc.paths[path].get;
      expect(Object.keys(operation.responses["200"].content)).toEqual(["application/json", "text/csv"]);
      expect(operation.security).toEqual([{ adminBasic: [] }, { adminBearer: [] }]);
      expect(operation.responses["404"]).toBeDefined();
    }
  });
});
