/**
 * `/ui/login`, `/ui/logout` and `/ui/logout-everywhere`. The login form is CSRF-protected with a
 * token bound to a nonce cookie, and failed attempts share the admin failure limiter with HTTP
 * Basic and Bearer (10 per 15 minutes per address, 100 for the account: `ADMIN_FAILURE_LIMITS`).
 * Logging out ends the session on the server, not only in this browser; logging out everywhere
 * ends every admin session (HTTP Basic/Bearer callers are not sessions: they send the password
 * each time, and changing it is what locks them out).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ADMIN_USER } from "../auth/admin.ts";
import { randomToken, safeEqual } from "../auth/secrets.ts";
import {
  LOGIN_COOKIE,
  loginCsrfToken,
  readSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  verifyCsrf,
} from "../auth/session.ts";
import { metrics } from "../metrics.ts";
import { html } from "./html.ts";
import { page } from "./layout.ts";

/** Only paths inside the admin area are followed after login (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/ui(\/[\w\-./?=&%]*)?$/.test(next) && !next.startsWith("//")
    ? next
    : "/ui";
}

export const loginRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { signingSecret, adminPassword } = app.deps;
  const { sessions } = app;
  // One limiter for the admin password however it is sent (login form, HTTP Basic, Bearer).
  const limiter = app.adminLimiter;
  const secure = (protocol: string) => protocol === "https";

  const loginPage = (nonce: string, next: string, error?: string) =>
    page(
      "Log in",
      html`<div class="panel" style="max-width: 24rem">
${error ? html`<p class="notice bad">${error}</p>` : ""}
<form method="post" action="/ui/login">
  <input type="hidden" name="_csrf" value="${loginCsrfToken(signingSecret, nonce)}">
  <input type="hidden" name="next" value="${next}">
  <label for="password">Admin password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required autofocus style="width: 100%">
  <p><button type="submit">Log in</button></p>
</form>
<p class="muted">The password is ADMIN_PASSWORD, or the one generated into DATA_DIR/admin-password.</p></div>`,
    );

  app.get(
    "/ui/login",
    {
      config: { auth: "public" },
      schema: {
        hide: true,
        querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 500 })) }),
      },
    },
    async (request, reply) => {
      const next = safeNext(request.query.next);
      if (await sessions.read(request.cookies[SESSION_COOKIE])) return reply.redirect(next, 303);
      const nonce = randomToken(16);
      reply.setCookie(LOGIN_COOKIE, nonce, {
        httpOnly: true,
        sameSite: "strict",
        secure: secure(request.protocol),
        path: "/ui",
        maxAge: 600,
      });
      return reply.type("text/html; charset=utf-8").send(loginPage(nonce, next));
    },
  );

  app.post(
    "/ui/login",
    {
      config: { auth: "public" },
      schema: {
        hide: true,
        body: Type.Object({
          password: Type.Optional(Type.String({ maxLength: 500 })),
          _csrf: Type.Optional(Type.String({ maxLength: 200 })),
          next: Type.Optional(Type.String({ maxLength: 500 })),
        }),
      },
    },
    async (request, reply) => {
      const next = safeNext(request.body.next);
      const nonce = request.cookies[LOGIN_COOKIE];
      const freshNonce = randomToken(16);
      const again = (status: number, error: string) => {
        reply.setCookie(LOGIN_COOKIE, freshNonce, {
          httpOnly: true,
          sameSite: "strict",
          secure: secure(request.protocol),
          path: "/ui",
          maxAge: 600,
        });
        return reply
          .code(status)
          .type("text/html; charset=utf-8")
          .send(loginPage(freshNonce, next, error));
      };
      const tooMany = (retryAfterS: number) => {
        reply.header("retry-after", retryAfterS);
        return again(429, `Too many failed attempts. Try again in ${Math.ceil(retryAfterS / 60)} minute(s).`);
      };
      const blocked = limiter.retryAfterS(request.ip, ADMIN_USER);
      if (blocked > 0) return tooMany(blocked);
      if (!nonce || request.body._csrf !== loginCsrfToken(signingSecret, nonce)) {
        return again(403, "The form expired or was not sent from this page. Please try again.");
      }
      const attempt = limiter.begin(request.ip, ADMIN_USER);
      if (!attempt.allowed) return tooMany(attempt.retryAfterS);
      if (!safeEqual(request.body.password ?? "", adminPassword)) {
        metrics.adminAuthFailures.inc();
        return again(401, "Wrong password.");
      }
      attempt.succeeded();
      const value = await sessions.start();
      reply.clearCookie(LOGIN_COOKIE, { path: "/ui" });
      reply.setCookie(SESSION_COOKIE, value, {
        httpOnly: true,
        sameSite: "strict",
        secure: secure(request.protocol),
        path: "/",
        maxAge: SESSION_TTL_MS / 1000,
      });
      return reply.redirect(next, 303);
    },
  );

  app.post("/ui/logout", { config: { auth: "admin" }, schema: { hide: true } }, async (request, reply) => {
    const session = readSession(signingSecret, request.cookies[SESSION_COOKIE]);
    if (session) await sessions.end(session);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return reply.redirect("/ui/login", 303);
  });

  app.post(
    "/ui/logout-everywhere",
    { config: { auth: "admin" }, schema: { hide: true } },
    async (request, reply) => {
      const ended = await sessions.endAll();
      request.log.info({ sessions: ended }, "every admin session ended");
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.redirect("/ui/login", 303);
    },
  );
};

/**
 * Every admin form POST under /ui carries `_csrf` bound to who is logged in; one that does not
 * is refused with 403 before anything happens.
 */
export function requireCsrf(signingSecret: string) {
  return async (
    request: { method: string; url: string; adminHolder?: string; body: unknown },
    reply: { code(status: number): { type(t: string): { send(body: string): unknown } } },
  ) => {
    if (request.method !== "POST" || request.url.startsWith("/ui/login")) return;
    const token = (request.body as Record<string, unknown> | undefined)?._csrf;
    if (!request.adminHolder || !verifyCsrf(signingSecret, request.adminHolder, token)) {
      return reply
        .code(403)
        .type("text/html; charset=utf-8")
        .send(
          page(
            "Form expired",
            html`<p class="notice bad">This form was not sent from a current admin page (CSRF check failed). Nothing was changed. <a href="/ui">Back to the dashboard</a></p>`,
          ),
        );
    }
  };
}
