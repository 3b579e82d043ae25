/**
 * The learners pages through the real app on PostgreSQL: login required, the search form and its
 * messages, keyset pages, the CSV export (formulas neutralised), one learner's page, the reminder
 * setting form and the CSV upload (CSRF enforced; bad input answered next to its field, with
 * nothing changed).
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { logIn as logInAs } from "../../test/helpers/adminSession.ts";
import { adminHeaders, useTestApp } from "../../test/helpers/app.ts";
import { recordStatements, statement } from "../../test/helpers/xapi.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { queryRows } from "../db/client.ts";
import { notifications, users } from "../db/schema.ts";

const BASE_URL = "https://course.example.com";
const harness = useTestApp({ PUBLIC_BASE_URL: BASE_URL });

const logIn = () => logInAs(harness.app);

const join = (name: string, avatar: string, cohortId = "spring") =>
  signUp(harness.database.db, { name, email: `${avatar}@example.com`, avatar, cohortId }, BASE_URL);

const learnerCount = async () =>
  (await queryRows<{ n: number }>(harness.database.db, sql`select count(*)::int as n from ${users}`))[0]!.n;

/** The text of the field message under `id`, or undefined. */
const fieldMessage = (body: string, id: string) =>
  new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(body)?.[1];

function multipart(fields: Record<string, string>, file?: { name: string; content: string | Buffer }) {
  const boundary = "----cohortLrsTestBoundary7MA4YWxkTrZu0gW";
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      Buffer.from(file.content),
      Buffer.from("\r\n"),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe("the learners pages", () => {
  it("need the admin login: a visitor is sent to the login form, Basic auth works", async () => {
    const { app } = harness;
    const ada = await join("Ada Lovelace", "ada");
    for (const url of [
      "/ui/learners",
      `/ui/learners/${ada.id}`,
      "/ui/learners/import",
      "/ui/learners?format=csv",
    ]) {
      const response = await app.inject({ method: "GET", url });
      expect(response.statusCode, url).toBe(303);
      expect(response.headers.location).toBe(`/ui/login?next=${encodeURIComponent(url)}`);
    }
    const upload = multipart(
      {},
      { name: "l.csv", content: "name,email,avatar,cohortId\nX,x@example.com,xxx,c\n" },
    );
    const anonymous = await app.inject({
      method: "POST",
      url: "/ui/learners/import",
      headers: { "content-type": upload.contentType },
      payload: upload.payload,
    });
    expect(anonymous.statusCode).toBe(303);
    const off = await app.inject({
      method: "POST",
      url: `/ui/learners/${ada.id}/reminders`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "reminders=off",
    });
    expect(off.statusCode).toBe(303);
    expect(await learnerCount()).toBe(1);
    expect((await app.inject({ method: "GET", url: "/ui/learners", headers: adminHeaders })).statusCode).toBe(
      200,
    );
  });

  it("finds learners by name, email or avatar and cohort, and explains a bad field next to it", async () => {
    const { app } = harness;
    const { cookie } = await logIn();
    await join("Ada Lovelace", "ada");
    await join("Grace Hopper", "grace");
    await join("Alan Turing", "alan", "autumn");
    await join('<script>alert("x")</script>', "scripty");
    const get = (url: string) => app.inject({ method: "GET", url, headers: { cookie } });

    const all = await get("/ui/learners");
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain("4 learners match.");
    expect(all.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(all.body).not.toContain('<script>alert("x")');
    expect(all.body).toContain('<option value="autumn">');

    const hopper = await get("/ui/learners?q=HOPPER");
    expect(hopper.body).toContain("1 learner matches.");
    expect(hopper.body).toContain(">Grace Hopper</a>");
    expect(hopper.body).not.toContain("Ada Lovelace");
    const byAvatar = await get("/ui/learners?q=alan&cohortId=autumn");
    expect(byAvatar.body).toContain(">Alan Turing</a>");
    const elsewhere = await get("/ui/learners?q=alan&cohortId=spring");
    expect(elsewhere.body).toContain("0 learners match.");

    const badCohort = await get("/ui/learners?cohortId=no%20spaces%21");
    expect(badCohort.statusCode).toBe(400);
    expect(fieldMessage(badCohort.body, "cohortId")).toBe(
      "must be 1–64 letters, digits, &#39;.&#39;, &#39;_&#39; or &#39;-&#39;, starting with a letter or digit",
    );
    expect(badCohort.body).toContain('aria-describedby="cohortId-error"');
    expect(badCohort.body).toContain('value="no spaces!"'); // what was typed stays in the field
    expect(badCohort.body).toContain("Correct the search above.");
    expect(badCohort.body).not.toContain("Ada Lovelace"); // no results of another search
    const longQ = await get(`/ui/learners?q=${"a".repeat(201)}`);
    expect(longQ.statusCode).toBe(400);
    expect(fieldMessage(longQ.body, "q")).toBe("must be at most 200 characters");
    // Text PostgreSQL cannot store, as on every route: 400 naming the parameter, nothing searched.
    const nul = await get("/ui/learners?q=a%00b");
    expect(nul.statusCode).toBe(400);
    expect(nul.json()).toMatchObject({ error: "invalid_text", details: [{ field: "query.q" }] });
    const nulCursor = Buffer.from(
      JSON.stringify(["a\u0000", "00000000-0000-4000-8000-000000000000"]),
    ).toString("base64url");
    expect((await get(`/ui/learners?after=${nulCursor}`)).statusCode).toBe(400);
    const damaged = await get("/ui/learners?after=not-a-cursor");
    expect(damaged.statusCode).toBe(400);
    expect(damaged.body).toContain("This page link is damaged");
    expect(damaged.body).toContain("4 learners match.");
  });

  it("pages 50 learners at a time, forwards and back", async () => {
    const { app } = harness;
    const { cookie } = await logIn();
    await harness.database.db.insert(users).values(
      Array.from({ length: 60 }, (_, i) => ({
        name: `Learner ${String(i).padStart(2, "0")}`,
        email: `l${i}@example.com`,
        avatar: `learner${i}`,
        cohortId: "big",
      })),
    );
    const get = (url: string) => app.inject({ method: "GET", url, headers: { cookie } });
    const rows = (body: string) => [...body.matchAll(/>(Learner \d\d)<\/a>/g)].map((m) => m[1]);
    const first = await get("/ui/learners?cohortId=big");
    expect(rows(first.body)).toHaveLength(50);
    expect(rows(first.body)[0]).toBe("Learner 00");
    expect(first.body).not.toContain('rel="prev"');
    const next = /href="([^"]+)" rel="next"/.exec(first.body)![1]!.replaceAll("&amp;", "&");
    expect(next).toMatch(/^\/ui\/learners\?cohortId=big&after=/);
    const second = await get(next);
    expect(rows(second.body)).toEqual(Array.from({ length: 10 }, (_, i) => `Learner ${50 + i}`));
    expect(second.body).not.toContain('rel="next"');
    const previous = /href="([^"]+)" rel="prev"/.exec(second.body)![1]!.replaceAll("&amp;", "&");
    expect(rows((await get(previous)).body)).toEqual(rows(first.body));
  });

  it("counts matches up to 1,000, and says when there are more", async () => {
    const { app } = harness;
    const { cookie } = await logIn();
    await harness.database.db.insert(users).values(
      Array.from({ length: 1_001 }, (_, i) => ({
        name: `Many ${i}`,
        email: `many${i}@example.com`,
        avatar: `many${i}`,
        cohortId: "many",
      })),
    );
    const many = await app.inject({ method: "GET", url: "/ui/learners?cohortId=many", headers: { cookie } });
    expect(many.body).toContain("More than 1,000 learners match.");
    const some = await app.inject({ method: "GET", url: "/ui/learners?q=many99", headers: { cookie } });
    expect(some.body).toContain("11 learners match."); // many99, many990…many999
  });

  it("exports the search as CSV, with formulas neutralised", async () => {
    const { app } = harness;
    const { cookie } = await logIn();
    await join('=HYPERLINK("http://evil.example","x")', "formula");
    await join("Grace Hopper", "grace", "autumn");
    const csv = await app.inject({
      method: "GET",
      url: "/ui/learners?format=csv&cohortId=spring",
      headers: { cookie },
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toBe('attachment; filename="learners-spring.csv"');
    const lines = csv.body.trimEnd().split("\r\n");
    expect(lines[0]).toBe("userId,name,email,avatar,cohortId,timezone,remindersEnabled,signedUpAt");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(
      `"'=HYPERLINK(""http://evil.example"",""x"")",formula@example.com,formula,spring,UTC,true,`,
    );
  });
});

describe("a learner's page", () => {
  it("shows their lessons, recent statements with their raw JSON, and their reminders", async () => {
    const { app, database } = harness;
    const { cookie } = await logIn();
    const ada = await join("Ada Lovelace", "ada");
    const day1 = await createLesson(database.db, {
      cohortId: "spring",
      activityId: "https://lessons.example.com/day-1",
      title: "Day 1: Variables",
      lessonDate: "2026-04-01",
    });
    await createLesson(database.db, {
      cohortId: "spring",
      activityId: "https://lessons.example.com/day-2",
      title: "Day 2: Loops",
      lessonDate: "2026-04-02",
    });
    const [id] = await recordStatements(
      database.db,
      [
        statement({
          actor: { mbox: "mailto:ada@example.com" },
          object: { id: "https://lessons.example.com/day-1", definition: { name: { "en-US": "Variables" } } },
          timestamp: "2026-04-01T09:30:00Z",
          result: { completion: true, score: { scaled: 0.75, raw: 15 }, duration: "PT12M30S" },
        }),
      ],
      BASE_URL,
    );
    await database.db.insert(notifications).values({
      userId: ada.id,
      lessonId: day1.id,
      status: "failed",
      attempts: 5,
      error: "550 no such mailbox",
    });

    const response = await app.inject({ method: "GET", url: `/ui/learners/${ada.id}`, headers: { cookie } });
    expect(response.statusCode).toBe(200);
    const body = response.body;
    expect(body).toContain("<h1>Ada Lovelace</h1>");
    expect(body).toContain("Lessons (1 of 2 completed)");
    expect(body).toContain("✓ 2026-04-01T09:30:00.000Z");
    expect(body).toContain("75% (15 points)");
    expect(body).toContain("12 min 30 s");
    expect(body).toContain("not yet");
    expect(body).toContain(`<a href="/api/debug/raw-json/${id}">raw JSON</a>`);
    expect(body).toMatch(/completed<\/span> <span class="ok">\(completion\)<\/span>/);
    expect(body).toContain('<span class="bad">failed</span>');
    expect(body).toContain("550 no such mailbox");
    expect(body).toContain('<strong id="reminders-state">on</strong>');
    // The raw JSON link works with the same session.
    const raw = await app.inject({ method: "GET", url: `/api/debug/raw-json/${id}`, headers: { cookie } });
    expect(raw.statusCode).toBe(200);
    expect(raw.json()).toMatchObject({ id });
  });

  it("answers 404 for a learner that does not exist, or an id that is not one", async () => {
    const { app } = harness;
    const { cookie } = await logIn();
    for (const id of ["00000000-0000-4000-8000-000000000000", "12345", "%3Cb%3E"]) {
      const response = await app.inject({ method: "GET", url: `/ui/learners/${id}`, headers: { cookie } });
      expect(response.statusCode, id).toBe(404);
      expect(response.body).toContain("No learner has the id");
      expect(response.body).not.toContain("<b>");
    }
  });

  it("changes the reminder setting only from a form of this session, with a valid choice", async () => {
    const { app, database } = harness;
    const { cookie, csrf } = await logIn();
    const ada = await join("Ada Lovelace", "ada");
    const enabled = async () =>
      (
        await queryRows<{ on: boolean }>(
          database.db,
          sql`select reminders_enabled as on from users where id = ${ada.id}`,
        )
      )[0]!.on;
    const post = (fields: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: `/ui/learners/${ada.id}/reminders`,
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams(fields).toString(),
      });

    const forged = await post({ reminders: "off", _csrf: "forged" });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain("Nothing was changed");
    expect(await post({ reminders: "off" }).then((r) => r.statusCode)).toBe(403);
    expect(await enabled()).toBe(true);

    for (const bad of [{ reminders: "maybe" }, {}] as Record<string, string>[]) {
      const refused = await post({ ...bad, _csrf: csrf });
      expect(refused.statusCode).toBe(400);
      expect(fieldMessage(refused.body, "reminders")).toBe("choose on or off");
      expect(await enabled()).toBe(true);
    }

    const off = await post({ reminders: "off", _csrf: csrf });
    expect(off.statusCode).toBe(200);
    expect(off.body).toContain("Reminders are now off for Ada Lovelace.");
    expect(off.body).toContain('<strong id="reminders-state">off</strong>');
    expect(await enabled()).toBe(false);
    const on = await post({ reminders: "on", _csrf: csrf });
    expect(on.statusCode).toBe(200);
    expect(await enabled()).toBe(true);

    const missing = await app.inject({
      method: "POST",
      url: "/ui/learners/00000000-0000-4000-8000-000000000000/reminders",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ reminders: "off", _csrf: csrf }).toString(),
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe("adding learners from a CSV file", () => {
  const upload = (
    cookie: string,
    fields: Record<string, string>,
    file?: { name: string; content: string | Buffer },
  ) => {
    const body = multipart(fields, file);
    return harness.app.inject({
      method: "POST",
      url: "/ui/learners/import",
      headers: { cookie, "content-type": body.contentType },
      payload: body.payload,
    });
  };

  it("adds the good rows and reports every row: added, already signed up, refused and why", async () => {
    const { cookie, csrf } = await logIn();
    const ada = await join("Ada Lovelace", "ada");
    const csv = [
      "name,email,avatar,cohortId,timezone",
      '"Hopper, Grace",grace@example.com,grace,spring,America/New_York',
      "Ada,ADA@example.com,ada2,spring,",
      "Bad,bad-email,bad,spring,",
      "Short,short@example.com,ab,spring,",
    ].join("\n");
    const response = await upload(cookie, { _csrf: csrf }, { name: "spring.csv", content: csv });
    expect(response.statusCode).toBe(200);
    const body = response.body;
    expect(body).toContain("Report for spring.csv");
    expect(body).toContain("1 added, 1 already signed up, 2 refused.");
    expect(body).toContain(`already signed up; nothing changed (<a href="/ui/learners/${ada.id}">open</a>)`);
    expect(body).toContain("email: must match format &quot;email&quot;");
    expect(body).toContain("avatar: must be 3–32 lower-case letters, digits, &#39;_&#39; or &#39;-&#39;");
    const stored = await queryRows<{ name: string; timezone: string }>(
      harness.database.db,
      sql`select name, timezone from users where avatar = 'grace'`,
    );
    expect(stored).toEqual([{ name: "Hopper, Grace", timezone: "America/New_York" }]);
    expect(await learnerCount()).toBe(2);
  });

  it("refuses a form without its CSRF token, and changes nothing", async () => {
    const { cookie } = await logIn();
    const csv = "name,email,avatar,cohortId\nNew,new@example.com,newbie,spring\n";
    for (const fields of [{}, { _csrf: "forged" }] as Record<string, string>[]) {
      const response = await upload(cookie, fields, { name: "l.csv", content: csv });
      expect(response.statusCode).toBe(403);
    }
    expect(await learnerCount()).toBe(0);
  });

  it("explains a file it refuses next to the file field, and adds nobody", async () => {
    const { cookie, csrf } = await logIn();
    const cases: [string | undefined, number, RegExp][] = [
      [undefined, 400, /^choose a CSV file$/],
      ["", 400, /^the file is empty$/],
      ["name,email\nA,a@example.com\n", 400, /lacks the columns avatar, cohortId/],
      ["name,email,avatar,cohortId,notes\n", 400, /which is not one of/],
      ['name,email,avatar,cohortId\n"A,a@example.com,aaa,c\n', 400, /not valid CSV: row 2/],
    ];
    for (const [content, status, message] of cases) {
      const response = await upload(
        cookie,
        { _csrf: csrf },
        content === undefined ? undefined : { name: "x.csv", content },
      );
      expect(response.statusCode, String(content)).toBe(status);
      expect(fieldMessage(response.body, "file")).toMatch(message);
      expect(response.body).toContain('aria-describedby="file-error"');
    }
    // Not a form's body at all: explained the same way.
    const noBoundary = await harness.app.inject({
      method: "POST",
      url: "/ui/learners/import",
      headers: { cookie, "content-type": "multipart/form-data" },
      payload: "name,email\n",
    });
    expect(noBoundary.statusCode).toBe(400);
    expect(fieldMessage(noBoundary.body, "file")).toBe("send the file with this form (multipart/form-data)");
    // Over the size limit: refused before the body is read, explained on the same page.
    const big = `name,email,avatar,cohortId\n${"Somebody,somebody@example.com,somebody,spring\n".repeat(7_000)}`;
    const tooLarge = await upload(cookie, { _csrf: csrf }, { name: "big.csv", content: big });
    expect(tooLarge.statusCode).toBe(413);
    expect(fieldMessage(tooLarge.body, "file")).toBe(
      "the file is larger than 256 KiB; split it into smaller files",
    );
    expect(await learnerCount()).toBe(0);
  });
});
