import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { formBody, logIn } from "../../test/helpers/adminSession.ts";
import { adminHeaders, useTestApp } from "../../test/helpers/app.ts";
import { recordStatements, statement } from "../../test/helpers/xapi.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { queryRows } from "../db/client.ts";
import type { Lesson, User } from "../db/schema.ts";

const BASE_URL = "https://course.example.com";
const harness = useTestApp({ PUBLIC_BASE_URL: BASE_URL });

const day1 = {
  cohortId: "2026-spring",
  activityId: "https://lessons.example.com/spring/day-1",
  title: "Day 1: Variables",
  url: "https://lessons.example.com/spring/day-1/",
  lessonDate: "2026-03-02",
};

const FORM = { "content-type": "application/x-www-form-urlencoded" };

let session: { cookie: string; csrf: string };
beforeEach(async () => {
  session = await logIn(harness.app);
});

const decode = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** The message shown next to the field with this id, or undefined. */
function fieldError(body: string, id: string): string | undefined {
  const match = new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(body);
  return match ? decode(match[1]!) : undefined;
}

/** The value the form shows in the input with this id. */
function inputValue(body: string, id: string): string | undefined {
  const match = new RegExp(`<input id="${id}" [^>]*value="([^"]*)"`).exec(body);
  return match ? decode(match[1]!) : undefined;
}

const post = (url: string, fields: Record<string, string | string[]>, csrf = true) =>
  harness.app.inject({
    method: "POST",
    url,
    headers: { ...FORM, cookie: session.cookie },
    payload: formBody(csrf ? { ...fields, _csrf: session.csrf } : fields),
  });
const get = (url: string) => harness.app.inject({ method: "GET", url, headers: { cookie: session.cookie } });

const lessonRows = () =>
  queryRows<Record<string, unknown>>(
    harness.database.db,
    sql`select id, cohort_id, activity_id, title, url, to_char(lesson_date, 'YYYY-MM-DD') as lesson_date
        from lessons order by lesson_date, title`,
  );

async function learner(avatar: string, cohortId = day1.cohortId): Promise<User> {
  return signUp(
    harness.database.db,
    { name: avatar, email: `${avatar}@example.com`, avatar, cohortId },
    BASE_URL,
  );
}

async function complete(user: User, activityId: string) {
  await recordStatements(
    harness.database.db,
    [statement({ actor: { mbox: `mailto:${user.email}` }, object: { id: activityId } })],
    BASE_URL,
  );
}

async function remind(user: User, lesson: Lesson) {
  await harness.database.db.execute(
    sql`insert into notifications (user_id, lesson_id, status) values (${user.id}, ${lesson.id}, 'sent')`,
  );
}

describe("the lessons list", () => {
  it("shows the lessons of a cohort by due date with each one's completion rate", async () => {
    const db = harness.database.db;
    const first = await createLesson(db, day1);
    await createLesson(db, {
      ...day1,
      activityId: "https://lessons.example.com/spring/day-2",
      title: "Day 2: Loops",
      lessonDate: "2026-03-03",
    });
    await createLesson(db, { ...day1, cohortId: "2026-autumn", title: "Autumn day 1" });
    const [ada, bob] = [await learner("ada"), await learner("bob"), await learner("cyd")];
    await complete(ada!, first.activityId);
    await complete(bob!, first.activityId);
    // The same activity completed by a learner of another cohort counts for that cohort only.
    await complete(await learner("zed", "2026-autumn"), first.activityId);

    const spring = await get("/ui/lessons?cohortId=2026-spring");
    expect(spring.statusCode).toBe(200);
    const rows = spring.body.split("<tr>").slice(2); // after the header row
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain("Day 1: Variables");
    expect(rows[0]).toContain('67% <span class="muted">(2/3)</span>');
    expect(rows[1]).toContain("Day 2: Loops");
    expect(rows[1]).toContain('0% <span class="muted">(0/3)</span>');
    expect(spring.body).not.toContain("Autumn day 1");

    const all = await get("/ui/lessons");
    expect(all.body).toContain("3 lesson(s)");
    expect(all.body).toContain("Autumn day 1");
    expect(all.body).toMatch(/Autumn day 1[\s\S]*?100% <span class="muted">\(1\/1\)<\/span>/);

    const oneDay = await get("/ui/lessons?from=2026-03-03&to=2026-03-03");
    expect(oneDay.body).toContain("1 lesson(s)");
    expect(oneDay.body).toContain("Day 2: Loops");
    expect(oneDay.body).not.toContain("Day 1: Variables");
  });

  it("names a bad filter next to its field and shows every lesson instead", async () => {
    await createLesson(harness.database.db, day1);
    const page = await get("/ui/lessons?from=2026-02-30&cohortId=a%20b");
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="filter-from"[^>]*aria-invalid="true"/);
    expect(page.body).toContain("must be a date (YYYY-MM-DD) from 1900-01-01 to 2999-12-31");
    expect(page.body).toContain("the filter above is not valid, so all are shown");
    expect(page.body).toContain("Day 1: Variables");
  });

  it("pages twenty lessons at a time", async () => {
    await harness.database.db.execute(sql`
      insert into lessons (cohort_id, activity_id, title, lesson_date)
      select 'c1', 'https://x.example/' || n, 'Lesson ' || lpad(n::text, 3, '0'), date '2026-01-01' + n
      from generate_series(1, 45) n`);
    const first = await get("/ui/lessons?cohortId=c1");
    expect(first.body).toContain("Lesson 020");
    expect(first.body).not.toContain("Lesson 021");
    expect(first.body).toContain("page 1 of 3");
    const last = await get("/ui/lessons?cohortId=c1&page=3");
    expect(last.body).toContain("Lesson 045");
    expect(last.body).not.toContain("Lesson 040");
    expect(last.body).toContain('href="/ui/lessons?cohortId=c1&amp;page=2">← Previous</a>');
  });

  it("needs the admin login", async () => {
    const anonymous = await harness.app.inject({ method: "GET", url: "/ui/lessons" });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe("/ui/login?next=%2Fui%2Flessons");
    expect(
      (await harness.app.inject({ method: "GET", url: "/ui/lessons", headers: adminHeaders })).statusCode,
    ).toBe(200);
  });
});

describe("adding a lesson", () => {
  it("adds it from the form, as POST /api/lessons would", async () => {
    const added = await post("/ui/lessons", day1);
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe("/ui/lessons?cohortId=2026-spring&done=added");
    expect(await lessonRows()).toEqual([
      {
        id: expect.any(String),
        cohort_id: day1.cohortId,
        activity_id: day1.activityId,
        title: day1.title,
        url: day1.url,
        lesson_date: day1.lessonDate,
      },
    ]);
    expect((await get(added.headers.location as string)).body).toContain("Lesson added.");
    // An empty URL is a lesson without one, as a JSON body without `url`.
    await post("/ui/lessons", { ...day1, activityId: "https://x.example/2", url: "" });
    expect((await lessonRows()).find((row) => row.activity_id === "https://x.example/2")?.url).toBeNull();
  });

  it("refuses bad input with the API's own message next to each field, keeps what was typed, and stores nothing", async () => {
    const bad = {
      cohortId: "a b",
      activityId: "day 1",
      title: "",
      url: "javascript:alert(1)",
      lessonDate: "2026-02-30",
    };
    const page = await post("/ui/lessons", bad);
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("Nothing was saved.");
    const api = await harness.app.inject({
      method: "POST",
      url: "/api/lessons",
      headers: adminHeaders,
      payload: bad,
    });
    expect(api.statusCode).toBe(400);
    const apiMessages = new Map<string, string[]>();
    for (const { field, message } of api.json().details as { field: string; message: string }[]) {
      apiMessages.set(field, [...(apiMessages.get(field) ?? []), message]);
    }
    for (const field of ["cohortId", "activityId", "title", "url", "lessonDate"]) {
      expect(fieldError(page.body, `new-${field}`), field).toBe(apiMessages.get(field)!.join("; "));
      expect(inputValue(page.body, `new-${field}`), field).toBe(bad[field as keyof typeof bad]);
    }
    expect(fieldError(page.body, "new-activityId")).toMatch(/^must be an absolute IRI/);
    expect(await lessonRows()).toEqual([]);
  });

  it.each([
    ["a NUL in the title", { ...day1, title: "Day\u00001" }, "title", "must not contain U+0000 (NUL)"],
    ["a NUL in the activity id", { ...day1, activityId: "https://x.example/\u0000" }, "activityId", "U+0000"],
    ["a title twice", { ...day1, title: ["A", "B"] }, "title", "must be string"],
    [
      "a 3,000-character title",
      { ...day1, title: "x".repeat(3000) },
      "title",
      "must NOT have more than 300 characters",
    ],
    ["a date in the year 10000", { ...day1, lessonDate: "10000-01-01" }, "lessonDate", "must be a date"],
  ])("refuses %s next to the field and stores nothing", async (_, fields, field, message) => {
    const page = await post("/ui/lessons", fields as Record<string, string | string[]>);
    expect(page.statusCode).toBe(400);
    expect(fieldError(page.body, `new-${field}`)).toContain(message);
    expect(await lessonRows()).toEqual([]);
  });

  it("refuses an unknown field, as the API does", async () => {
    const page = await post("/ui/lessons", { ...day1, colour: "red" });
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("<li>colour: is not a known property</li>");
    expect(await lessonRows()).toEqual([]);
  });

  it("says a cohort already has a lesson for the activity, next to the activity id", async () => {
    await post("/ui/lessons", day1);
    const again = await post("/ui/lessons", { ...day1, title: "Another title" });
    expect(again.statusCode).toBe(409);
    expect(fieldError(again.body, "new-activityId")).toBe("already used by a lesson of this cohort");
    expect((await lessonRows()).map((row) => row.title)).toEqual([day1.title]);
  });

  it("refuses a form without its CSRF token, changing nothing", async () => {
    const forged = await post("/ui/lessons", day1, false);
    expect(forged.statusCode).toBe(403);
    const wrong = await post("/ui/lessons", { ...day1, _csrf: "forged" }, false);
    expect(wrong.statusCode).toBe(403);
    expect(await lessonRows()).toEqual([]);
  });
});

describe("editing a lesson", () => {
  it("changes it in place: same id, its reminders kept", async () => {
    const lesson = await createLesson(harness.database.db, day1);
    await remind(await learner("ada"), lesson);
    const form = await get(`/ui/lessons/${lesson.id}/edit`);
    expect(form.statusCode).toBe(200);
    expect(inputValue(form.body, "edit-title")).toBe(day1.title);
    expect(inputValue(form.body, "edit-lessonDate")).toBe(day1.lessonDate);

    const saved = await post(`/ui/lessons/${lesson.id}`, {
      ...day1,
      title: "Day 1: Names",
      lessonDate: "2026-03-09",
      url: "",
    });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe("/ui/lessons?cohortId=2026-spring&done=updated");
    expect(await lessonRows()).toEqual([
      {
        id: lesson.id,
        cohort_id: day1.cohortId,
        activity_id: day1.activityId,
        title: "Day 1: Names",
        url: null,
        lesson_date: "2026-03-09",
      },
    ]);
    const [{ n }] = (await queryRows<{ n: number }>(
      harness.database.db,
      sql`select count(*)::int as n from notifications where lesson_id = ${lesson.id}`,
    )) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("refuses bad input and a taken activity next to the field, leaving the lesson as it was", async () => {
    const lesson = await createLesson(harness.database.db, day1);
    const other = await createLesson(harness.database.db, {
      ...day1,
      activityId: "https://x.example/2",
      title: "Two",
    });
    const before = await lessonRows();
    const bad = await post(`/ui/lessons/${lesson.id}`, { ...day1, lessonDate: "someday", title: "Changed" });
    expect(bad.statusCode).toBe(400);
    expect(fieldError(bad.body, "edit-lessonDate")).toBe(
      "must be a date (YYYY-MM-DD) from 1900-01-01 to 2999-12-31",
    );
    expect(inputValue(bad.body, "edit-title")).toBe("Changed");
    const taken = await post(`/ui/lessons/${lesson.id}`, { ...day1, activityId: other.activityId });
    expect(taken.statusCode).toBe(409);
    expect(fieldError(taken.body, "edit-activityId")).toBe("already used by a lesson of this cohort");
    expect(await lessonRows()).toEqual(before);
  });

  it("answers 404 for a lesson that does not exist or a malformed id", async () => {
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      expect((await get(`/ui/lessons/${id}/edit`)).statusCode).toBe(404);
      expect((await post(`/ui/lessons/${id}`, day1)).statusCode).toBe(404);
      expect((await get(`/ui/lessons/${id}/delete`)).statusCode).toBe(404);
      expect((await post(`/ui/lessons/${id}/delete`, { confirm: "yes" })).statusCode).toBe(404);
    }
    expect(await lessonRows()).toEqual([]);
  });
});

describe("deleting a lesson", () => {
  it("deletes an unused lesson only once its confirmation box is ticked", async () => {
    const lesson = await createLesson(harness.database.db, day1);
    const confirm = await get(`/ui/lessons/${lesson.id}/delete`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toMatch(/<input type="checkbox" name="confirm" value="yes" id="confirm" required/);
    const unticked = await post(`/ui/lessons/${lesson.id}/delete`, {});
    expect(unticked.statusCode).toBe(400);
    expect(fieldError(unticked.body, "confirm")).toBe("Tick this box to confirm the deletion.");
    expect(await lessonRows()).toHaveLength(1);
    expect((await post(`/ui/lessons/${lesson.id}/delete`, { confirm: "yes" }, false)).statusCode).toBe(403);
    expect(await lessonRows()).toHaveLength(1);

    const deleted = await post(`/ui/lessons/${lesson.id}/delete`, { confirm: "yes" });
    expect(deleted.statusCode).toBe(303);
    expect(deleted.headers.location).toBe("/ui/lessons?cohortId=2026-spring&done=deleted");
    expect(await lessonRows()).toEqual([]);
  });

  it("refuses to delete a lesson with reminders, explaining why, and keeps them", async () => {
    const lesson = await createLesson(harness.database.db, day1);
    await remind(await learner("ada"), lesson);
    const page = await get(`/ui/lessons/${lesson.id}/delete`);
    expect(page.body).toContain("This lesson cannot be deleted:");
    expect(page.body).toContain("1 reminder(s) planned or sent");
    expect(page.body).not.toContain('name="confirm"');
    const refused = await post(`/ui/lessons/${lesson.id}/delete`, { confirm: "yes" });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain("This lesson cannot be deleted:");
    expect(await lessonRows()).toHaveLength(1);
    const [{ n }] = (await queryRows<{ n: number }>(
      harness.database.db,
      sql`select count(*)::int as n from notifications`,
    )) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("refuses to delete a lesson its learners sent statements on, but not one with another cohort's", async () => {
    const lesson = await createLesson(harness.database.db, day1);
    const autumn = await createLesson(harness.database.db, { ...day1, cohortId: "2026-autumn" });
    await complete(await learner("ada"), day1.activityId);
    const refused = await post(`/ui/lessons/${lesson.id}/delete`, { confirm: "yes" });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain("1 statement(s) from its learners on its activity");
    expect(await lessonRows()).toHaveLength(2);
    const deleted = await post(`/ui/lessons/${autumn.id}/delete`, { confirm: "yes" });
    expect(deleted.statusCode).toBe(303);
    expect((await lessonRows()).map((row) => row.id)).toEqual([lesson.id]);
  });
});
