/**
 * The learners' data functions on PostgreSQL and the embedded PGlite: the search (substring,
 * name prefix, cohort, wildcards taken literally), keyset pages both ways, the bounded count, the
 * cohorts, and one learner's lessons, statements and reminders; and the bulk add's rules.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS, type OpenedDatabase, openTestDatabase } from "../../test/helpers/db.ts";
import { recordStatements, statement } from "../../test/helpers/xapi.ts";
import { addLearners, readLearnerCsv } from "../commands/addLearners.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { queryRows } from "../db/client.ts";
import { notifications, type User, users } from "../db/schema.ts";
import { ValidationFailed } from "../errors.ts";
import { VOIDED_VERB } from "../names.ts";
import {
  countLearners,
  findLearner,
  type LearnerCursor,
  learnerCohorts,
  learnerLessons,
  learnerNotifications,
  learnerStatements,
  searchLearners,
  streamLearners,
} from "./learners.ts";
import { remindersEnabled, setRemindersEnabled } from "./reminderSettings.ts";

const BASE_URL = "https://course.example.com";
const DAY_1 = "https://lessons.example.com/learners/day-1";
const DAY_2 = "https://lessons.example.com/learners/day-2";
const DAY_3 = "https://lessons.example.com/learners/day-3";

describe.each(DATABASE_KINDS)("learners on %s", (kind) => {
  let database: OpenedDatabase;
  const learners: Record<string, User> = {};

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const { db } = database;
    const join = async (name: string, avatar: string, cohortId: string, email = `${avatar}@example.com`) => {
      learners[avatar] = await signUp(db, { name, email, avatar, cohortId }, BASE_URL);
    };
    await join("Ada Lovelace", "ada", "spring");
    await join("Grace Hopper", "grace", "spring");
    await join("Alan Turing", "alan_t", "autumn", "Alan.Turing@Example.com");
    await join("Barbara Liskov", "babs", "autumn");
    await join("Edsger Dijkstra", "ewd", "spring");
    await join("100% Sure", "percent", "spring", "sure@example.com");
    // Twelve learners of one name, for pages that split among equal names (ordered by id).
    for (let i = 0; i < 12; i++) await join("Zed", `zed-${String(i).padStart(2, "0")}`, "winter");
  }, 120_000);
  afterAll(() => database?.drop());

  const names = (items: User[]) => items.map((learner) => learner.avatar);

  it("finds a substring of name, email or avatar, in any letter case, in name order", async () => {
    const { db } = database;
    expect(names((await searchLearners(db, { q: "LOVE" }, { limit: 50 })).items)).toEqual(["ada"]);
    expect(names((await searchLearners(db, { q: "turing@exa" }, { limit: 50 })).items)).toEqual(["alan_t"]);
    expect(names((await searchLearners(db, { q: "bab" }, { limit: 50 })).items)).toEqual(["babs"]);
    // "ra" is two characters: the start of a name only (Grace and Barbara have it inside).
    expect(names((await searchLearners(db, { q: "ed" }, { limit: 50 })).items)).toEqual(["ewd"]);
    expect(names((await searchLearners(db, { q: "ra" }, { limit: 50 })).items)).toEqual([]);
    expect(names((await searchLearners(db, { q: "gra" }, { limit: 50 })).items)).toEqual(["grace"]);
    // `%` and `_` are text, not wildcards.
    expect(names((await searchLearners(db, { q: "100%" }, { limit: 50 })).items)).toEqual(["percent"]);
    expect(names((await searchLearners(db, { q: "n_t" }, { limit: 50 })).items)).toEqual(["alan_t"]);
    expect(names((await searchLearners(db, { q: "%" }, { limit: 50 })).items)).toEqual([]);
    // A match never spans two fields: the end of a name and the start of the email.
    expect(names((await searchLearners(db, { q: "lovelaceada" }, { limit: 50 })).items)).toEqual([]);
    expect(names((await searchLearners(db, { q: "a", cohortId: "spring" }, { limit: 50 })).items)).toEqual([
      "ada",
    ]);
    expect(names((await searchLearners(db, { cohortId: "autumn" }, { limit: 50 })).items)).toEqual([
      "alan_t",
      "babs",
    ]);
  });

  it("pages forwards and backwards by (name, id), through equal names, without gaps or repeats", async () => {
    const { db } = database;
    const all = names((await searchLearners(db, {}, { limit: 100 })).items);
    expect(all).toHaveLength(18);
    const forwards: string[] = [];
    let after: LearnerCursor | undefined;
    const pages = [];
    for (;;) {
      const found = await searchLearners(db, {}, { after, limit: 5 });
      pages.push(found);
      forwards.push(...names(found.items));
      if (!found.next) break;
      after = found.next;
    }
    expect(forwards).toEqual(all);
    expect(pages.map((p) => p.items.length)).toEqual([5, 5, 5, 3]);
    expect(pages[0]!.previous).toBeUndefined();
    expect(pages[1]!.previous).toEqual({ name: pages[1]!.items[0]!.name, id: pages[1]!.items[0]!.id });
    // Back from the last page: the same pages as on the way forwards.
    const back = await searchLearners(db, {}, { before: pages[3]!.previous!, limit: 5 });
    expect(names(back.items)).toEqual(names(pages[2]!.items));
    expect(back.next).toEqual(pages[2]!.next);
    const first = await searchLearners(db, {}, { before: pages[1]!.previous!, limit: 5 });
    expect(names(first.items)).toEqual(names(pages[0]!.items));
    expect(first.previous).toBeUndefined();
    // Within one cohort, too.
    const winter = await searchLearners(db, { cohortId: "winter" }, { limit: 10 });
    expect(winter.items.map((l) => l.id)).toEqual([...winter.items.map((l) => l.id)].sort());
    const rest = await searchLearners(db, { cohortId: "winter" }, { after: winter.next!, limit: 10 });
    expect(rest.items).toHaveLength(2);
    expect(rest.next).toBeUndefined();
  });

  it("counts up to a cap, and says when there are more", async () => {
    const { db } = database;
    expect(await countLearners(db, {}, 100)).toEqual({ count: 18, capped: false });
    expect(await countLearners(db, {}, 18)).toEqual({ count: 18, capped: false });
    expect(await countLearners(db, {}, 10)).toEqual({ count: 10, capped: true });
    expect(await countLearners(db, { q: "zed" }, 100)).toEqual({ count: 12, capped: false });
    expect(await countLearners(db, { q: "nobody" }, 100)).toEqual({ count: 0, capped: false });
  });

  it("lists the cohorts, at most as many as asked", async () => {
    expect(await learnerCohorts(database.db, 100)).toEqual(["autumn", "spring", "winter"]);
    expect(await learnerCohorts(database.db, 2)).toEqual(["autumn", "spring"]);
  });

  it("streams every match in pages, for the CSV", async () => {
    const pages: string[][] = [];
    for await (const page of streamLearners(database.db, { cohortId: "winter" }, 5)) pages.push(names(page));
    expect(pages.map((page) => page.length)).toEqual([5, 5, 2]);
    expect(pages.flat()).toHaveLength(12);
  });

  it("shows a learner's lessons with completion, best score and time, their statements and reminders", async () => {
    const { db } = database;
    const ada = learners.ada!;
    const lessons = [];
    for (const [i, activityId] of [DAY_1, DAY_2, DAY_3].entries()) {
      lessons.push(
        await createLesson(db, {
          cohortId: "spring",
          activityId,
          title: `Day ${i + 1}`,
          lessonDate: `2026-04-0${i + 1}`,
        }),
      );
    }
    const about = (id: string, overrides: Record<string, unknown>) =>
      statement({ actor: { mbox: "mailto:ada@example.com" }, object: { id }, ...overrides });
    const [, , , voidedId] = await recordStatements(
      db,
      [
        // Day 1: two completions; the better one (0.8) gives score and time, the first one the time of completion.
        about(DAY_1, {
          timestamp: "2026-04-01T09:00:00Z",
          result: { completion: true, score: { scaled: 0.5 }, duration: "PT10M" },
        }),
        about(DAY_1, {
          timestamp: "2026-04-01T10:00:00Z",
          result: { completion: true, score: { scaled: 0.8, raw: 8 }, duration: "PT5M" },
        }),
        // Day 2: attempted only.
        about(DAY_2, { verb: { id: "http://adlnet.gov/expapi/verbs/attempted" }, result: undefined }),
        // Day 3: a completion, voided below: not completed.
        about(DAY_3, { timestamp: "2026-04-03T09:00:00Z" }),
      ].map((s) => {
        const copy = { ...s } as Record<string, unknown>;
        if (copy.result === undefined) delete copy.result;
        return copy as unknown as typeof s;
      }),
      BASE_URL,
    );
    await recordStatements(
      db,
      [
        statement({
          actor: { mbox: "mailto:ops@example.com" },
          verb: { id: VOIDED_VERB },
          object: { objectType: "StatementRef", id: voidedId },
        }),
      ],
      BASE_URL,
    );
    // Someone else's completion of day 2 is not Ada's.
    await recordStatements(
      db,
      [statement({ actor: { mbox: "mailto:grace@example.com" }, object: { id: DAY_2 } })],
      BASE_URL,
    );

    const rows = await learnerLessons(db, ada.id, BASE_URL);
    expect(
      rows.map((row) => [
        row.title,
        row.completedAt,
        row.scoreScaled,
        row.scoreRaw,
        row.durationMs,
        row.statements,
      ]),
    ).toEqual([
      ["Day 1", "2026-04-01T09:00:00.000Z", 0.8, 8, 300_000, 2],
      ["Day 2", null, null, null, null, 1],
      ["Day 3", null, null, null, null, 0],
    ]);
    // Another cohort's learner sees their own cohort's lessons: none.
    expect(await learnerLessons(db, learners.babs!.id, BASE_URL)).toEqual([]);

    const recent = await learnerStatements(db, ada.id, BASE_URL, 50);
    expect(recent).toHaveLength(4);
    expect(recent.find((s) => s.statementId === voidedId)?.voided).toBe(true);
    expect(recent.filter((s) => s.isCompletion).length).toBe(3);
    expect(await learnerStatements(db, ada.id, BASE_URL, 2)).toHaveLength(2);

    await db.insert(notifications).values([
      { userId: ada.id, lessonId: lessons[0]!.id, status: "sent", attempts: 1, sentAt: new Date() },
      {
        userId: ada.id,
        lessonId: lessons[1]!.id,
        status: "failed",
        attempts: 5,
        error: "550 mailbox unavailable",
      },
      { userId: ada.id, lessonId: lessons[2]!.id, status: "skipped" },
      { userId: learners.grace!.id, lessonId: lessons[0]!.id, status: "sent" },
    ]);
    const reminders = await learnerNotifications(db, ada.id, 100);
    expect(reminders.map((r) => [r.lessonTitle, r.status, r.error]).sort()).toEqual([
      ["Day 1", "sent", null],
      ["Day 2", "failed", "550 mailbox unavailable"],
      ["Day 3", "skipped", null],
    ]);
    expect(reminders.find((r) => r.status === "sent")?.sentAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it("turns a learner's reminders off and on, and says when there is no such learner", async () => {
    const { db } = database;
    const grace = learners.grace!;
    expect(await setRemindersEnabled(db, grace.id, false)).toBe(true);
    expect(await remindersEnabled(db, grace.id)).toBe(false);
    expect(await setRemindersEnabled(db, grace.id, true)).toBe(true);
    expect(await remindersEnabled(db, grace.id)).toBe(true);
    expect(await setRemindersEnabled(db, "00000000-0000-4000-8000-000000000000", false)).toBe(false);
    expect(await findLearner(db, "00000000-0000-4000-8000-000000000000")).toBeUndefined();
  });

  it("adds the rows of a CSV file as signups, refusing each bad row with the API's message", async () => {
    const { db } = database;
    const before = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${users}`);
    const csv = [
      "Name;E-mail;Avatar;Cohort ID;Time zone", // a spreadsheet's header, semicolons
      "New One;new1@example.com;new_one;spring;Europe/Berlin",
      "Ada Again;ADA@example.com;ada_again;spring;", // already signed up (any letter case)
      "Bad Mail;not-an-email;bad_mail;spring;",
      "Bad Zone;zone@example.com;bad_zone;spring;Mars/Olympus",
      "Taken;taken@example.com;grace;spring;", // avatar taken by another learner
      "Twin;new1@example.com;twin;spring;", // the same email as row 2
      "  ;blank@example.com;blank_name;spring;", // a blank name
      "Nul\u0000;nul@example.com;nul_name;spring;",
      ";;;;", // an empty row: skipped
      "Too;many@example.com;too_many;spring;UTC;extra",
      "New Two;new2@example.com;new_two;autumn",
    ].join("\r\n");
    const rows = readLearnerCsv(Buffer.from(`\ufeff${csv}\r\n`));
    const results = await addLearners(db, rows, BASE_URL);
    const summary = results.map((r) => [
      r.row,
      r.outcome,
      r.problems.map((p) => `${p.field}: ${p.message}`).join("; "),
    ]);
    expect(summary).toEqual([
      [2, "added", ""],
      [3, "exists", ""],
      [4, "refused", 'email: must match format "email"'],
      [5, "refused", 'timezone: "Mars/Olympus" is not an IANA time zone such as Europe/Berlin'],
      [6, "refused", "avatar: already taken"],
      [7, "refused", "email: the same as row 2 of this file"],
      [8, "refused", "name: is required"],
      [9, "refused", "name: must not contain U+0000 (NUL)"],
      [11, "refused", "row: has 6 cells; the header has 5 columns (quote a value that holds a comma)"],
      [12, "added", ""],
    ]);
    expect(results[1]!.userId).toBe(learners.ada!.id);
    const after = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${users}`);
    expect(after[0]!.n).toBe(before[0]!.n + 2);
    const added = await findLearner(db, results[0]!.userId!);
    expect(added).toMatchObject({
      name: "New One",
      email: "new1@example.com",
      cohortId: "spring",
      timezone: "Europe/Berlin",
    });
    // The same file again: nothing new.
    const again = await addLearners(db, readLearnerCsv(Buffer.from(csv)), BASE_URL);
    expect(again.filter((r) => r.outcome === "added")).toEqual([]);
    expect(again.filter((r) => r.outcome === "exists").map((r) => r.row)).toEqual([2, 3, 12]);
  });
});

describe("reading a learners' CSV file", () => {
  const refused = (text: string | Buffer) => {
    try {
      readLearnerCsv(typeof text === "string" ? Buffer.from(text) : text);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationFailed);
      return (error as ValidationFailed).details?.[0];
    }
    throw new Error("the file was accepted");
  };

  it("refuses a file it cannot read as a whole, naming the problem", () => {
    expect(refused("")).toEqual({ field: "file", message: "the file is empty" });
    expect(refused(Buffer.from([0x6e, 0x61, 0xff, 0x0a]))?.message).toMatch(/not UTF-8/);
    expect(refused("name,email,avatar\nA,a@example.com,aaa\n")?.message).toMatch(/lacks the column cohortId/);
    expect(refused("name,email,avatar,cohortId,notes\n")?.message).toMatch(/"notes", which is not one of/);
    expect(refused("name,email,avatar,cohortId,cohort_id\n")?.message).toMatch(/cohortId twice/);
    expect(refused("name,email,avatar,cohortId\n")?.message).toMatch(/no learners/);
    expect(refused('name,email,avatar,cohortId\n"A,a@example.com,aaa,c\n')?.message).toMatch(
      /row 2: a quoted field is never closed/,
    );
    const big = `name,email,avatar,cohortId\n${"x,y@example.com,zzz,c\n".repeat(1_001)}`;
    expect(refused(big)?.message).toMatch(/more than 1000 learners/);
    expect(refused(Buffer.alloc(256 * 1024 + 1, 0x61))?.message).toMatch(/larger than 256 KiB/);
  });

  it("reads quoted fields, CRLF and LF, and counts rows as a spreadsheet does", () => {
    const rows = readLearnerCsv(
      Buffer.from(
        'name,email,avatar,cohortId\r\n"Hopper, Grace",g@example.com,grace,c1\n"Line\nBreak ""Q""",l@example.com,lb,c1\n',
      ),
    );
    expect(rows).toEqual([
      { row: 2, fields: { name: "Hopper, Grace", email: "g@example.com", avatar: "grace", cohortId: "c1" } },
      { row: 3, fields: { name: 'Line\nBreak "Q"', email: "l@example.com", avatar: "lb", cohortId: "c1" } },
    ]);
  });
});
