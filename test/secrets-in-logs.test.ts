/**
 * No secret, password or token in the logs: a full run of the real server at LOG_LEVEL=trace,
 * exercising every kind of credential (admin login form, HTTP Basic, xAPI keys, a new key's
 * secret, session cookies, unsubscribe tokens), then a search of everything it printed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Server, startServer } from "./helpers/cli.ts";
import { basic, statement } from "./helpers/xapi.ts";

const ADMIN_PASSWORD = "logs-test-admin-password-91";
const KEY = "logs-content";
const SECRET = "logs-content-secret-4471";
let server: Server | undefined;
afterAll(async () => {
  await server?.stop();
});

describe("the logs of a full run", () => {
  it("contain no password, secret, session or token", async () => {
    server = await startServer(["all"], {
      DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-logs-")),
      PORT: "0",
      LOG_LEVEL: "trace",
      ADMIN_PASSWORD,
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
      APP_SECRET: "logs-test-app-secret-0123456789-abcdefghijkl",
    });
    const url = server.url;
    const secrets: string[] = [ADMIN_PASSWORD, SECRET, "logs-test-app-secret-0123456789-abcdefghijkl"];

    // HTTP Basic (admin and xAPI), a wrong password, a Bearer token.
    await fetch(`${url}/api/users`, { headers: { authorization: basic("admin", ADMIN_PASSWORD) } });
    await fetch(`${url}/api/users`, { headers: { authorization: basic("admin", "wrong-password-xyz-123") } });
    secrets.push("wrong-password-xyz-123");
    await fetch(`${url}/api/users`, { headers: { authorization: `Bearer ${ADMIN_PASSWORD}` } });
    await fetch(`${url}/xapi/statements`, {
      method: "POST",
      headers: {
        authorization: basic(KEY, SECRET),
        "x-experience-api-version": "1.0.3",
        "content-type": "application/json",
      },
      body: JSON.stringify(statement()),
    });

    // The login form: the password in a form body, then the session cookie.
    const form = await fetch(`${url}/ui/login`);
    const nonce = /cohort_lrs_login=([^;]+)/.exec(form.headers.get("set-cookie") ?? "")![1]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await fetch(`${url}/ui/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `cohort_lrs_login=${nonce}` },
      body: new URLSearchParams({ password: ADMIN_PASSWORD, _csrf: csrf, next: "/ui" }),
    });
    const session = /cohort_lrs_session=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")![1]!;
    secrets.push(session, nonce, csrf);
    const keysPage = await fetch(`${url}/ui/admin/keys`, {
      headers: { cookie: `cohort_lrs_session=${session}` },
    });
    const pageCsrf = /name="_csrf" value="([^"]+)"/.exec(await keysPage.text())![1]!;
    secrets.push(pageCsrf);

    // A new key: its secret is shown once in the page, never logged.
    const created = await fetch(`${url}/ui/admin/keys`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `cohort_lrs_session=${session}`,
      },
      body: new URLSearchParams({ name: "Logged?", scope: "all", _csrf: pageCsrf }),
    });
    const newSecret = /secret: ([\w-]+)/.exec(await created.text())![1]!;
    secrets.push(newSecret);

    // An unsubscribe token in a query string (valid or not, it is a credential).
    const token = "a-made-up-unsubscribe-token.c2lnbmF0dXJl";
    await fetch(`${url}/unsubscribe?token=${token}`);
    secrets.push(token);

    expect(await server.stop()).toBe(0);
    const output = server.output();
    server = undefined;
    expect(output).toMatch(/"reqId"/); // requests were logged (at trace), so the search means something
    expect(output).toContain("/unsubscribe?token=***");
    for (const secret of secrets) {
      expect(output.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the logs`).toBe(false);
    }
    expect(output).not.toMatch(/authorization/i);
  }, 120_000);
});
