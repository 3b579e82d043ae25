import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cookiesOf, formBody, logIn as logInAs } from "../../test/helpers/adminSession.ts";
import { ADMIN_PASSWORD, adminHeaders, buildApp, SIGNING_SECRET } from "../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "../../test/helpers/db.ts";
import { basic, createCredential, recordStatements, statement } from "../../test/helpers/xapi.ts";
import type { App } from "../app.ts";
import { createSession, SESSION_COOKIE, SESSION_TTL_MS } from "../auth/session.ts";
import { createLesson } from "../commands/createLesson.ts";
import { signUp } from "../commands/signUp.ts";
import { queryRows } from "../db/client.ts";

let database: TestDatabase;
let app: App;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database, { PUBLIC_BASE_URL: "https://course.example.com", TRUST_PROXY: "true" });
});
afterAll(async () => {
  await app.close();
  await database.drop();
});
beforeEach(() => truncateAll(database));

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const logIn = () => logInAs(app);

describe("admin login", () => {
  it("sends a visitor without a session to the login form, and API callers get 401", async () => {
    const page = await app.inject({ method: "GET", url: "/ui/test-reminders?at=x" });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe("/ui/login?next=%2Fui%2Ftest-reminders%3Fat%3Dx");
    const api = await app.inject({ method: "GET", url: "/api/debug/last-statement" });
    expect(api.statusCode).toBe(401);
  });

  it("logs in with the password into a signed, http-only, SameSite=Strict session cookie", async () => {
    const form = await app.inject({ method: "GET", url: "/ui/login?next=/ui/admin/keys" });
    expect(form.statusCode).toBe(200);
    expect(form.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(form.headers["x-frame-options"]).toBe("SAMEORIGIN");
    const nonce = cookiesOf(form).cohort_lrs_login!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const login = (password: string, token = csrf, next = "/ui/admin/keys") =>
      app.inject({
        method: "POST",
        url: "/ui/login",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `cohort_lrs_login=${nonce}` },
        payload: formBody({ password, _csrf: token, next }),
      });
    const wrong = await login("not-the-password");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("Wrong password.");
    expect(cookiesOf(wrong)[SESSION_COOKIE]).toBeUndefined();
    const forged = await login(ADMIN_PASSWORD, "forged");
    expect(forged.statusCode).toBe(403);
    const ok = await login(ADMIN_PASSWORD);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/ui/admin/keys");
    const setCookie = String(
      [ok.headers["set-cookie"]].flat().find((c) => String(c).startsWith(SESSION_COOKIE)),
    );
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).not.toMatch(/Secure/i); // plain HTTP here
    const offsite = await login(ADMIN_PASSWORD, csrf, "https://evil.example/ui");
    expect(offsite.headers.location).toBe("/ui");
  });

  it("marks the session cookie Secure behind HTTPS", async () => {
    const form = await app.inject({
      method: "GET",
      url: "/ui/login",
      headers: { "x-forwarded-proto": "https" },
    });
    const nonce = cookiesOf(form).cohort_lrs_login!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const ok = await app.inject({
      method: "POST",
      url: "/ui/login",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `cohort_lrs_login=${nonce}`,
        "x-forwarded-proto": "https",
      },
      payload: formBody({ password: ADMIN_PASSWORD, _csrf: csrf }),
    });
    expect(
      String([ok.headers["set-cookie"]].flat().find((c) => String(c).startsWith(SESSION_COOKIE))),
    ).toMatch(/Secure/);
  });

  it("refuses expired and forged sessions", async () => {
    const expired = createSession(SIGNING_SECRET, Date.now() - SESSION_TTL_MS - 1_000).value;
    const other = createSession("another-key-entirely-0123456789abcdef").value;
    // A live session's cookie with its signature spelled differently (same bytes to a base64 decoder).
    const live = (await logIn()).cookie.slice(`${SESSION_COOKIE}=`.length);
    const respelled = [
      `${live}=`,
      live.replace(/.$/, (last) => B64URL[B64URL.indexOf(last) ^ 1]!),
      live.replace(/-/g, "+").replace(/_/g, "/"),
    ].filter((value) => value !== live);
    for (const value of [expired, other, "garbage", ...respelled.map(encodeURIComponent)]) {
      const page = await app.inject({
        method: "GET",
        url: "/ui",
        headers: { cookie: `${SESSION_COOKIE}=${value}` },
      });
      expect(page.statusCode).toBe(303);
      const api = await app.inject({
        method: "GET",
        url: "/api/debug/recent-completions",
        headers: { cookie: `${SESSION_COOKIE}=${value}` },
      });
      expect(api.statusCode).toBe(401);
    }
  });

  it("limits failed logins per address", async () => {
    const attempt = async () => {
      const form = await app.inject({ method: "GET", url: "/ui/login", remoteAddress: "10.1.1.1" });
      return app.inject({
        method: "POST",
        url: "/ui/login",
        remoteAddress: "10.1.1.1",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          cookie: `cohort_lrs_login=${cookiesOf(form).cohort_lrs_login}`,
        },
        payload: formBody({
          password: "wrong-password",
          _csrf: /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!,
        }),
      });
    };
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await attempt()).statusCode);
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it("logs out (CSRF-protected) by clearing the session cookie", async () => {
    const { cookie, csrf } = await logIn();
    const refused = await app.inject({
      method: "POST",
      url: "/ui/logout",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ _csrf: "nope" }),
    });
    expect(refused.statusCode).toBe(403);
    const out = await app.inject({
      method: "POST",
      url: "/ui/logout",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ _csrf: csrf }),
    });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers["set-cookie"])).toMatch(/cohort_lrs_session=;/);
  });

  it("ends the session on the server at logout: a copy of the cookie is refused afterwards", async () => {
    const { cookie, csrf } = await logIn();
    const other = await logIn();
    expect((await app.inject({ method: "GET", url: "/ui", headers: { cookie } })).statusCode).toBe(200);
    const out = await app.inject({
      method: "POST",
      url: "/ui/logout",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ _csrf: csrf }),
    });
    expect(out.statusCode).toBe(303);
    // The cookie captured before logout, replayed: a page sends it to the login form, the API says 401.
    const page = await app.inject({ method: "GET", url: "/ui", headers: { cookie } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe("/ui/login?next=%2Fui");
    const api = await app.inject({ method: "GET", url: "/api/users", headers: { cookie } });
    expect(api.statusCode).toBe(401);
    const form = await app.inject({ method: "GET", url: "/ui/login", headers: { cookie } });
    expect(form.statusCode).toBe(200);
    // Another browser's session is untouched.
    const still = await app.inject({ method: "GET", url: "/ui", headers: { cookie: other.cookie } });
    expect(still.statusCode).toBe(200);
  });

  it("logs out everywhere (CSRF-protected): every earlier session is refused, on every replica", async () => {
    const replica = await buildApp(database);
    try {
      const first = await logIn();
      const second = await logIn();
      const button = await app.inject({ method: "GET", url: "/ui", headers: { cookie: first.cookie } });
      expect(button.body).toContain('action="/ui/logout-everywhere"');
      const forged = await replica.inject({
        method: "POST",
        url: "/ui/logout-everywhere",
        headers: { cookie: first.cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: formBody({ _csrf: "nope" }),
      });
      expect(forged.statusCode).toBe(403);
      expect(
        (await app.inject({ method: "GET", url: "/ui", headers: { cookie: second.cookie } })).statusCode,
      ).toBe(200);
      // Log out everywhere through the other replica; the first one refuses both cookies.
      const out = await replica.inject({
        method: "POST",
        url: "/ui/logout-everywhere",
        headers: { cookie: first.cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: formBody({ _csrf: first.csrf }),
      });
      expect(out.statusCode).toBe(303);
      expect(out.headers.location).toBe("/ui/login");
      for (const { cookie } of [first, second]) {
        for (const instance of [app, replica]) {
          const page = await instance.inject({ method: "GET", url: "/ui", headers: { cookie } });
          expect(page.statusCode).toBe(303);
          const api = await instance.inject({ method: "GET", url: "/api/users", headers: { cookie } });
          expect(api.statusCode).toBe(401);
        }
      }
      const [row] = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from admin_sessions`,
      );
      expect(row!.n).toBe(0);
      // A new login works as before.
      const again = await logIn();
      expect(
        (await app.inject({ method: "GET", url: "/ui", headers: { cookie: again.cookie } })).statusCode,
      ).toBe(200);
    } finally {
      await replica.close();
    }
  });
});

describe("pages", () => {
  it("render for a logged-in admin, and with HTTP Basic", async () => {
    const { cookie } = await logIn();
    for (const url of [
      "/ui",
      "/ui/test-etl-streaming",
      "/ui/test-etl-incremental",
      "/ui/test-reminders",
      "/ui/admin/keys",
      "/ui/lessons",
      "/ui/db-terminal",
    ]) {
      const page = await app.inject({ method: "GET", url, headers: { cookie } });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers["content-type"]).toMatch(/text\/html/);
      expect(page.body).toContain('<meta name="viewport"');
      const basicPage = await app.inject({ method: "GET", url, headers: adminHeaders });
      expect(basicPage.statusCode, url).toBe(200);
    }
  });

  it("escape stored data (no markup from learners or statements)", async () => {
    await database.db.execute(sql`
      insert into lessons (cohort_id, activity_id, title, lesson_date)
      values ('c1', 'https://x.example/1', '<script>alert(1)</script>', current_date)`);
    const { cookie } = await logIn();
    const page = await app.inject({ method: "GET", url: "/ui?cohortId=c1", headers: { cookie } });
    expect(page.body).not.toContain("<script>alert(1)</script>");
    expect(page.body).toContain("&lt;script&gt;alert(1)");
  });

  it("creates a key (secret shown once) and revokes it; the revoked key gets 401", async () => {
    const { cookie, csrf } = await logIn();
    const withoutCsrf = await app.inject({
      method: "POST",
      url: "/ui/admin/keys",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ name: "Storyline", scope: "all" }),
    });
    expect(withoutCsrf.statusCode).toBe(403);
    const created = await app.inject({
      method: "POST",
      url: "/ui/admin/keys",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ name: "Storyline", scope: "statements/write", _csrf: csrf }),
    });
    expect(created.statusCode).toBe(200);
    const key = /key: {4}([\w-]+)/.exec(created.body)![1]!;
    const secret = /secret: ([\w-]+)/.exec(created.body)![1]!;
    const xapi = { authorization: basic(key, secret), "x-experience-api-version": "1.0.3" };
    expect(
      (await app.inject({ method: "POST", url: "/xapi/statements", headers: xapi, payload: statement() }))
        .statusCode,
    ).toBe(200);
    const [row] = await queryRows<{ id: string; secret_hash: string }>(
      database.db,
      sql`select id, secret_hash from api_credentials where key = ${key}`,
    );
    expect(row!.secret_hash).toMatch(/^scrypt\$/);
    const listing = await app.inject({ method: "GET", url: "/ui/admin/keys", headers: { cookie } });
    expect(listing.body).toContain(key);
    expect(listing.body).not.toContain(secret);
    expect(listing.body).toContain(`<a href="/ui/admin/keys/revoke?id=${row!.id}">Revoke…</a>`);
    expect(listing.body).toContain("created in the admin area");
    // PUBLIC_BASE_URL is set here: the page names its endpoint.
    expect(listing.body).toContain("the endpoint <code>https://course.example.com/xapi/</code>");

    // Revoking is two steps: a confirmation page, then its form with the box ticked.
    const confirm = await app.inject({
      method: "GET",
      url: `/ui/admin/keys/revoke?id=${row!.id}`,
      headers: { cookie },
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toMatch(/<form method="post" action="\/ui\/admin\/keys\/revoke"/); // a form, not escaped text
    expect(confirm.body).toContain('name="confirm" value="yes" id="confirm" required');
    const revoke = (fields: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: "/ui/admin/keys/revoke",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: formBody({ id: row!.id, _csrf: csrf, ...fields }),
      });
    const unconfirmed = await revoke({});
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.body).toContain(
      '<p class="field-error" id="confirm-error">Tick this box to confirm: nothing was revoked.</p>',
    );
    expect(
      (await app.inject({ method: "POST", url: "/xapi/statements", headers: xapi, payload: statement() }))
        .statusCode,
    ).toBe(200);

    const revoked = await revoke({ confirm: "yes" });
    expect(revoked.statusCode).toBe(200);
    expect(
      (await app.inject({ method: "POST", url: "/xapi/statements", headers: xapi, payload: statement() }))
        .statusCode,
    ).toBe(401);
  });

  it("refuses a bad new key next to its field, creating nothing", async () => {
    const { cookie, csrf } = await logIn();
    const create = (fields: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: "/ui/admin/keys",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: formBody({ ...fields, _csrf: csrf }),
      });
    const cases: [Record<string, string>, string, string][] = [
      [{ name: "  ", scope: "all" }, "name", "A key needs a name of 1–100 characters."],
      [{ name: "x".repeat(101), scope: "all" }, "name", "A key needs a name of 1–100 characters."],
      [{ name: "Rise\u0000", scope: "all" }, "name", "must not contain U+0000 (NUL)"],
      [
        { name: "Rise", scope: "everything" },
        "scope",
        "Choose one of all, statements/write, statements/read.",
      ],
    ];
    for (const [fields, field, message] of cases) {
      const refused = await create(fields);
      expect(refused.statusCode, JSON.stringify(fields)).toBe(400);
      expect(refused.body).toContain(`<p class="field-error" id="${field}-error">${message}</p>`);
    }
    const [{ n }] = (await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from api_credentials`,
    )) as [{ n: number }];
    expect(n).toBe(0);
  });

  it("warns before revoking the bootstrap key, which needs the confirmation too", async () => {
    const [bootstrap] = await queryRows<{ id: string }>(
      database.db,
      sql`insert into api_credentials (name, key, secret_hash, bootstrap)
          values ('bootstrap', 'lrs_boot', 'scrypt$x', true) returning id`,
    );
    const { cookie, csrf } = await logIn();
    const listing = await app.inject({ method: "GET", url: "/ui/admin/keys", headers: { cookie } });
    expect(listing.body).toContain("bootstrap (generated at first start)");
    const confirm = await app.inject({
      method: "GET",
      url: `/ui/admin/keys/revoke?id=${bootstrap!.id}`,
      headers: { cookie },
    });
    expect(confirm.body).toContain("<strong>This is the bootstrap key</strong>");
    const oneClick = await app.inject({
      method: "POST",
      url: "/ui/admin/keys/revoke",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ id: bootstrap!.id, _csrf: csrf }),
    });
    expect(oneClick.statusCode).toBe(400);
    const [row] = await queryRows<{ revoked_at: Date | null }>(
      database.db,
      sql`select revoked_at from api_credentials where id = ${bootstrap!.id}`,
    );
    expect(row!.revoked_at).toBeNull();
    const missing = await app.inject({
      method: "GET",
      url: "/ui/admin/keys/revoke?id=00000000-0000-4000-8000-000000000000",
      headers: { cookie },
    });
    expect(missing.statusCode).toBe(404);
  });

  it("serves a favicon, and every page links it", async () => {
    for (const url of ["/favicon.ico", "/favicon.svg"]) {
      const icon = await app.inject({ method: "GET", url });
      expect(icon.statusCode, url).toBe(200);
      expect(icon.headers["content-type"]).toMatch(/^image\/svg\+xml/);
      expect(icon.body).toMatch(/^<svg /);
    }
    const { cookie } = await logIn();
    const page = await app.inject({ method: "GET", url: "/ui", headers: { cookie } });
    expect(page.body).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
  });

  it("runs a sweep from the incremental page", async () => {
    const content = await createCredential(database.db);
    await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: [statement(), statement()],
    });
    const { cookie, csrf } = await logIn();
    const before = await app.inject({ method: "GET", url: "/ui/test-etl-incremental", headers: { cookie } });
    expect(before.body).toMatch(/<div class="value">2<\/div><div class="label">stored statements waiting/);
    const run = await app.inject({
      method: "POST",
      url: "/ui/test-etl-incremental",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ _csrf: csrf }),
    });
    expect(run.body).toMatch(/flattened 2 of 2 waiting statement/);
  });

  it("previews reminders at a chosen instant, and says so when the instant is not one", async () => {
    const { cookie } = await logIn();
    const ok = await app.inject({
      method: "GET",
      url: "/ui/test-reminders?at=2026-03-02T18:00:00Z",
      headers: { cookie },
    });
    expect(ok.body).toContain("At 2026-03-02T18:00:00.000Z");
    const bad = await app.inject({
      method: "GET",
      url: "/ui/test-reminders?at=teatime",
      headers: { cookie },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("is not an instant");
  });
});

describe("the Reminders page", () => {
  it("counts notifications by status and lists the unconfirmed ones with their Message-ID", async () => {
    const lesson = await createLesson(database.db, {
      cohortId: "c1",
      activityId: "https://lessons.example.com/day-1",
      title: "Day 1",
      lessonDate: "2026-03-02",
    });
    const ada = await signUp(database.db, {
      name: "Ada",
      email: "ada@example.com",
      avatar: "ada",
      cohortId: "c1",
    });
    const alan = await signUp(database.db, {
      name: "Alan",
      email: "alan@example.com",
      avatar: "alan",
      cohortId: "c1",
    });
    const [unconfirmed] = await queryRows<{ id: string }>(
      database.db,
      sql`insert into notifications (user_id, lesson_id, status, attempts, attempted_at, data_sent_at, error)
          values (${ada.id}, ${lesson.id}, 'unconfirmed', 1, '2026-03-02T18:00:00Z', '2026-03-02T18:00:01Z',
                  'delivery unconfirmed: the mail server did not reply')
          returning id`,
    );
    await database.db.execute(
      sql`insert into notifications (user_id, lesson_id, status) values (${alan.id}, ${lesson.id}, 'sent')`,
    );
    const { cookie } = await logIn();
    const page = await app.inject({ method: "GET", url: "/ui/test-reminders", headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<span class="bad">1 unconfirmed<\/span>/);
    expect(page.body).toMatch(/<span class="">1 sent<\/span>/);
    expect(page.body).toContain("Unconfirmed (1)");
    const section = page.body.slice(
      page.body.indexOf("Unconfirmed (1)"),
      page.body.indexOf("Recent notifications"),
    );
    expect(section).toContain("ada@example.com");
    expect(section).not.toContain("alan@example.com");
    expect(section).toContain(`&lt;reminder-${unconfirmed!.id}@course.example.com&gt;`);
    expect(section).toContain("2026-03-02 18:00:01+00");
    expect(section).toContain("delivery unconfirmed: the mail server did not reply");
  });

  it("sends an unconfirmed reminder again on request: pending for the next tick, once", async () => {
    const lesson = await createLesson(database.db, {
      cohortId: "c1",
      activityId: "https://lessons.example.com/day-1",
      title: "Day 1",
      lessonDate: "2026-03-02",
    });
    const ada = await signUp(database.db, {
      name: "Ada",
      email: "ada@example.com",
      avatar: "ada",
      cohortId: "c1",
    });
    const [row] = await queryRows<{ id: string }>(
      database.db,
      sql`insert into notifications (user_id, lesson_id, status, attempts, attempted_at, data_sent_at, error)
          values (${ada.id}, ${lesson.id}, 'unconfirmed', 1, now(), now(), 'delivery unconfirmed: no reply')
          returning id`,
    );
    const { cookie, csrf } = await logIn();
    const listed = await app.inject({ method: "GET", url: "/ui/test-reminders", headers: { cookie } });
    expect(listed.body).toContain(`name="id" value="${row!.id}"`);
    const sendAgain = () =>
      app.inject({
        method: "POST",
        url: "/ui/test-reminders/send-again",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: formBody({ _csrf: csrf, id: row!.id }),
      });
    const first = await sendAgain();
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain("pending again");
    expect(first.body).not.toContain("Unconfirmed (");
    const [stored] = await queryRows<Record<string, unknown>>(
      database.db,
      sql`select status, error, attempted_at, data_sent_at, attempts from notifications where id = ${row!.id}`,
    );
    expect(stored).toEqual({
      status: "pending",
      error: null,
      attempted_at: null,
      data_sent_at: null,
      attempts: 1,
    });
    // A second click (or a stale page) changes nothing.
    const second = await sendAgain();
    expect(second.statusCode).toBe(409);
    expect(second.body).toContain("not unconfirmed");
    // Without the form's CSRF token: refused, nothing changed.
    await database.db.execute(sql`update notifications set status = 'unconfirmed' where id = ${row!.id}`);
    const forged = await app.inject({
      method: "POST",
      url: "/ui/test-reminders/send-again",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ id: row!.id }),
    });
    expect(forged.statusCode).toBe(403);
    const bad = await app.inject({
      method: "POST",
      url: "/ui/test-reminders/send-again",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: formBody({ _csrf: csrf, id: "not-a-uuid" }),
    });
    expect(bad.statusCode).toBe(400);
    const [after] = await queryRows<{ status: string }>(
      database.db,
      sql`select status from notifications where id = ${row!.id}`,
    );
    expect(after!.status).toBe("unconfirmed");
  });

  it("shows no unconfirmed section when there are none", async () => {
    const { cookie } = await logIn();
    const page = await app.inject({ method: "GET", url: "/ui/test-reminders", headers: { cookie } });
    expect(page.body).not.toContain("Unconfirmed (");
    expect(page.body).toContain("none yet");
  });
});

describe("the DB terminal page", () => {
  it("runs a prebuilt query into a table, downloads it as CSV, and shows parameter errors", async () => {
    const content = await createCredential(database.db);
    await app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: content.headers,
      payload: [statement(), statement()],
    });
    const { cookie } = await logIn();
    const form = await app.inject({
      method: "GET",
      url: "/ui/db-terminal?name=recent-statements",
      headers: { cookie },
    });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="p.limit"');
    expect(form.body).not.toMatch(/<textarea/); // no free-form SQL anywhere

    const ran = await app.inject({
      method: "GET",
      url: "/ui/db-terminal?name=recent-statements&run=1&p.limit=1",
      headers: { cookie },
    });
    expect(ran.body).toMatch(/1 row\(s\) in \d+ ms\./);
    expect(ran.body).toContain('<th title="verb">Verb</th>');

    const csv = await app.inject({
      method: "GET",
      url: "/ui/db-terminal.csv?name=recent-statements&p.limit=5",
      headers: { cookie },
    });
    expect(csv.headers["content-type"]).toMatch(/text\/csv/);
    expect(csv.headers["content-disposition"]).toBe('attachment; filename="recent-statements.csv"');
    const lines = csv.body.trim().split("\r\n");
    expect(lines).toHaveLength(3);

    const bad = await app.inject({
      method: "GET",
      url: "/ui/db-terminal?name=recent-statements&run=1&p.limit=5000",
      headers: { cookie },
    });
    expect(bad.body).toContain('class="notice bad"');
    expect(bad.body).toContain("params.limit");
    // … and next to the field it is about, which keeps the value sent.
    expect(bad.body).toMatch(
      /<input id="p\.limit" name="p\.limit" type="number" value="5000"[^>]*aria-invalid="true"/,
    );
    expect(bad.body).toContain('<p class="field-error" id="p.limit-error">must be at most 500</p>');
    const injected = await app.inject({
      method: "GET",
      url: `/ui/db-terminal?name=learner-flat-rows&run=1&p.email=${encodeURIComponent("x@example.com'; drop table users; --")}`,
      headers: { cookie },
    });
    expect(injected.statusCode).toBe(200);
    const [{ n }] = (await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from users`,
    )) as [{ n: number }];
    expect(n).toBe(0); // the table is still there (and empty, as seeded)
    const unknown = await app.inject({
      method: "GET",
      url: "/ui/db-terminal.csv?name=drop-everything",
      headers: { cookie },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toBe("unknown_query");
  });
});

describe("the DB terminal's first click", () => {
  /** The query string the page's run form sends as it is first shown: its inputs and selects. */
  function firstRun(body: string): string {
    const form = body.slice(body.indexOf('<input type="hidden" name="run" value="1">'));
    const fields = new URLSearchParams({ run: "1" });
    fields.set("name", /<input type="hidden" name="name" value="([^"]+)">/.exec(body)![1]!);
    for (const match of form.matchAll(/<input id="(p\.[\w]+)" name="p\.\w+" type="\w+" value="([^"]*)"/g)) {
      fields.set(match[1]!, match[2]!);
    }
    for (const match of form.matchAll(/<select id="(p\.\w+)"[^>]*>([\s\S]*?)<\/select>/g)) {
      fields.set(match[1]!, /<option value="([^"]*)" selected>/.exec(match[2]!)?.[1] ?? "");
    }
    return fields.toString();
  }

  it("runs every prebuilt query with the values its form starts with, and shows wide results as cards", async () => {
    const ada = await signUp(database.db, {
      name: "Ada",
      email: "ada@example.com",
      avatar: "ada",
      cohortId: "2026-spring",
    });
    await createLesson(database.db, {
      cohortId: "2026-spring",
      activityId: "https://lessons.example.com/day-1",
      title: "Day 1",
      lessonDate: "2026-03-02",
    });
    await recordStatements(
      database.db,
      [
        statement({
          actor: { mbox: `mailto:${ada.email}` },
          object: { id: "https://lessons.example.com/day-1" },
        }),
      ],
      "https://course.example.com",
    );
    const { cookie } = await logIn();
    const chooser = await app.inject({ method: "GET", url: "/ui/db-terminal", headers: { cookie } });
    const names = [...chooser.body.matchAll(/<option value="([a-z-]+)"/g)].map((match) => match[1]!);
    expect(names).toContain("notifications-by-status");
    expect(names).toContain("learner-flat-rows");
    for (const name of new Set(names)) {
      const form = await app.inject({
        method: "GET",
        url: `/ui/db-terminal?name=${name}`,
        headers: { cookie },
      });
      const ran = await app.inject({
        method: "GET",
        url: `/ui/db-terminal?${firstRun(form.body)}`,
        headers: { cookie },
      });
      expect(ran.statusCode, name).toBe(200);
      expect(ran.body, name).not.toContain('class="notice bad"');
      expect(ran.body, name).toMatch(/\d+ row\(s\) in \d+ ms/);
    }
    const learnerForm = await app.inject({
      method: "GET",
      url: "/ui/db-terminal?name=learner-flat-rows",
      headers: { cookie },
    });
    expect(learnerForm.body).toContain('value="ada@example.com"');
    const learnerRows = await app.inject({
      method: "GET",
      url: `/ui/db-terminal?${firstRun(learnerForm.body)}`,
      headers: { cookie },
    });
    expect(learnerRows.body).toContain("1 row(s)");
    expect(learnerRows.body).toContain('<div class="records">');
    for (const header of ["Completion?", "Voided?", "Learner id"])
      expect(learnerRows.body).toContain(`>${header}</dt>`);
    expect(learnerRows.body).toContain(`<dd>${ada.id}</dd>`);
  });
});

describe("the route table", () => {
  it("has no admin route that answers without authentication", async () => {
    const admin = app.routeTable.filter((route) => route.auth === "admin");
    expect(admin.length).toBeGreaterThan(15);
    for (const route of admin) {
      const url = route.url.replace(/:(\w+)/g, "00000000-0000-4000-8000-000000000000");
      const response = await app.inject({ method: route.method as "GET", url });
      if (url === "/ui" || url.startsWith("/ui/")) {
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(303);
        expect(response.headers.location).toMatch(/^\/ui\/login\?next=/);
      } else {
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      }
    }
  });
});
