/** Logging in to the admin area through its form, for `app.inject()` tests of the pages. */
import { expect } from "vitest";
import type { App } from "../../src/app.ts";
import { SESSION_COOKIE } from "../../src/auth/session.ts";
import { ADMIN_PASSWORD } from "./app.ts";

/** Cookies of a response as name → value. */
export function cookiesOf(response: { headers: Record<string, unknown> }): Record<string, string> {
  const header = response.headers["set-cookie"];
  const list = Array.isArray(header) ? header : header ? [String(header)] : [];
  return Object.fromEntries(
    list.map((cookie) => cookie.split(";")[0]!.split("=")).map(([name, ...value]) => [name, value.join("=")]),
  );
}

/** A form body as `application/x-www-form-urlencoded` text; an array value repeats the field. */
export function formBody(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of [value].flat()) params.append(name, one);
  }
  return params.toString();
}

/** Logs in through the form; the session cookie header and the CSRF token of its pages. */
export async function logIn(app: App): Promise<{ cookie: string; csrf: string }> {
  const form = await app.inject({ method: "GET", url: "/ui/login" });
  const nonce = cookiesOf(form).cohort_lrs_login!;
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const response = await app.inject({
    method: "POST",
    url: "/ui/login",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `cohort_lrs_login=${nonce}` },
    payload: formBody({ password: ADMIN_PASSWORD, _csrf: loginCsrf, next: "/ui" }),
  });
  expect(response.statusCode).toBe(303);
  const cookie = `${SESSION_COOKIE}=${cookiesOf(response)[SESSION_COOKIE]!}`;
  const dashboard = await app.inject({ method: "GET", url: "/ui", headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(dashboard.body)![1]!;
  return { cookie, csrf };
}
