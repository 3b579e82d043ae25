/**
 * `/ui/test-reminders`: who would be reminded now (or at a chosen instant), notifications by
 * status, the unconfirmed ones (the operator's to check), recent notifications, the outbox (when
 * mail goes to files), and a test reminder to any address.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import { notificationCounts, recentNotifications, unconfirmedNotifications } from "../data/notifications.ts";
import { isSaneInstant, SANE_DATES } from "../http/validation.ts";
import { reminderEmail } from "../reminders/message.ts";
import { reminderPreview } from "../reminders/plan.ts";
import { sendAgain } from "../reminders/sendAgain.ts";
import { type Html, html } from "./html.ts";
import { csrfField, page, table } from "./layout.ts";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The newest .eml files of the outbox with their recipient and subject. */
function outbox(dir: string): { file: string; when: Date; to: string; subject: string }[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".eml"));
  } catch {
    return [];
  }
  return files
    .map((file) => ({ file, when: statSync(path.join(dir, file)).mtime }))
    .sort((a, b) => b.when.getTime() - a.when.getTime())
    .slice(0, 20)
    .map(({ file, when }) => {
      const head = readFileSync(path.join(dir, file), "utf8").split(/\r?\n\r?\n/, 1)[0] ?? "";
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1] ?? "";
      return { file, when, to: header("To"), subject: header("Subject") };
    });
}

export const reminderPage: FastifyPluginAsyncTypebox = async (app) => {
  /** `result`: of a test send, shown by its form; `notice`: of an action on notifications. */
  const render = async (holder: string, at: Date, result?: Html, notice?: Html) => {
    const { database, config, signingSecret } = app.deps;
    const [preview, notifications, counts, unconfirmed] = await Promise.all([
      reminderPreview(
        database.db,
        { reminderHour: config.reminderHour, publicBaseUrl: config.publicBaseUrl },
        at,
      ),
      recentNotifications(database.db, 20),
      notificationCounts(database.db),
      unconfirmedNotifications(database.db, 100),
    ]);
    const unconfirmedCount = counts.find((c) => c.status === "unconfirmed")?.n ?? 0;
    const domain = new URL(config.publicBaseUrl).hostname;
    const csrf = csrfToken(signingSecret, holder);
    const files = config.smtpUrl ? [] : outbox(path.join(config.dataDir, "outbox"));
    return page(
      "Reminders",
      html`<div class="panel">
<form method="get" action="/ui/test-reminders">
  <label for="at">Preview at (ISO 8601; empty: now)</label>
  <input id="at" name="at" value="${preview.at}" size="28"> <button type="submit" class="secondary">Preview</button>
</form>
<p>At ${preview.at}, REMINDER_HOUR (${preview.reminderHour}:00) is the local time in
${preview.zones.length ? preview.zones.map((zone, i) => html`${i ? ", " : ""}<code>${zone.timezone}</code> (${zone.localDate} ${zone.localTime})`) : html`none of the learners' time zones`}.
${preview.reminders.length} reminder(s) would be sent; nothing is sent from here.</p>
${table(
  ["learner", "email", "time zone", "cohort", "lesson", "due"],
  preview.reminders.map((r) => [r.name, r.email, r.timezone, r.cohortId, r.lessonTitle, r.lessonDate]),
)}</div>

<h2>Send a test reminder</h2>
<div class="panel">
<form method="post" action="/ui/test-reminders">${csrfField(csrf)}
  <label for="to">To</label><input id="to" name="to" type="email" required size="32">
  <button type="submit">Send</button>
</form>
<p class="muted">Mail goes through ${app.email.description}.</p>
${result ?? ""}</div>

<h2 id="notifications">Notifications by status</h2>
${notice ?? ""}
<p>${counts.length ? counts.map((c, i) => html`${i ? ", " : ""}<span class="${c.status === "unconfirmed" || c.status === "failed" ? "bad" : ""}">${c.n} ${c.status}</span>`) : "none yet"}.</p>

${
  unconfirmedCount
    ? html`<h2 class="bad">Unconfirmed (${unconfirmedCount})</h2>
<div class="panel"><p>These reminders were handed to the mail server, but the scheduler sending them stopped
(or lost the connection) before the server's reply: they were most likely delivered, so they are not
sent again. Look the Message-ID up in the mail server's log; if it was not delivered, "Send again"
makes it pending, and the next hourly reminder tick sends it.</p>
${table(
  ["learner", "lesson", "due", "handed to the mail server", "Message-ID", "error", ""],
  unconfirmed.map((n) => [
    n.email,
    n.title,
    n.lesson_date,
    n.data_sent_at,
    `<reminder-${n.id}@${domain}>`,
    n.error,
    html`<form method="post" action="/ui/test-reminders/send-again" class="inline">${csrfField(csrf)}<input type="hidden" name="id" value="${n.id}"><button type="submit" class="secondary">Send again</button></form>`,
  ]),
)}</div>`
    : ""
}
<h2>Recent notifications</h2>
${table(
  ["learner", "lesson", "status", "attempts", "error", "planned", "sent"],
  notifications.map((n) => [n.email, n.title, n.status, n.attempts, n.error, n.created_at, n.sent_at]),
)}
${
  config.smtpUrl
    ? ""
    : html`<h2>Outbox</h2><p class="muted">Without SMTP_URL, emails are written to ${path.join(config.dataDir, "outbox")}.</p>
${table(
  ["written", "to", "subject", "file"],
  files.map((f) => [f.when, f.to, f.subject, f.file]),
)}`
}`,
      { csrf, active: "/ui/test-reminders" },
    );
  };

  app.get(
    "/ui/test-reminders",
    {
      config: { auth: "admin" },
      schema: { hide: true, querystring: Type.Object({ at: Type.Optional(Type.String({ maxLength: 40 })) }) },
    },
    async (request, reply) => {
      const at = request.query.at ? new Date(request.query.at) : new Date();
      if (Number.isNaN(at.getTime()) || !isSaneInstant(at)) {
        return reply
          .code(400)
          .type("text/html; charset=utf-8")
          .send(
            await render(
              request.adminHolder!,
              new Date(),
              html`<p class="notice bad">"${request.query.at}" is not an instant from ${SANE_DATES.from} to ${SANE_DATES.to}; use e.g. 2026-03-02T18:00:00Z. Showing now.</p>`,
            ),
          );
      }
      return reply.type("text/html; charset=utf-8").send(await render(request.adminHolder!, at));
    },
  );

  app.post(
    "/ui/test-reminders/send-again",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        body: Type.Object({ id: Type.String({ format: "uuid" }), _csrf: Type.Optional(Type.String()) }),
      },
    },
    async (request, reply) => {
      const again = await sendAgain(app.deps.database.db, request.body.id);
      const result = again
        ? html`<p class="notice">The reminder is pending again; the next hourly reminder tick sends it.</p>`
        : html`<p class="notice bad">That reminder is not unconfirmed (any more); nothing was changed.</p>`;
      return reply
        .code(again ? 200 : 409)
        .type("text/html; charset=utf-8")
        .send(await render(request.adminHolder!, new Date(), undefined, result));
    },
  );

  app.post(
    "/ui/test-reminders",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        body: Type.Object({
          to: Type.Optional(Type.String({ maxLength: 254 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const to = (request.body.to ?? "").trim();
      let result: Html;
      if (!EMAIL.test(to)) {
        result = html`<p class="notice bad">"${to}" is not an email address.</p>`;
      } else {
        const { config } = app.deps;
        try {
          const sent = await app.email.send(
            reminderEmail({
              to,
              learnerName: "there",
              lessonTitle: "Test lesson (sent from the admin area)",
              lessonUrl: `${config.publicBaseUrl}/`,
              unsubscribeUrl: `${config.publicBaseUrl}/unsubscribe?token=test`,
              notificationId: `test-${Date.now()}`,
              domain: new URL(config.publicBaseUrl).hostname,
            }),
          );
          result = html`<p class="notice">Sent to ${to} (${sent.messageId}).</p>`;
        } catch (error) {
          result = html`<p class="notice bad">Not sent: ${(error as Error).message}</p>`;
        }
      }
      return reply
        .type("text/html; charset=utf-8")
        .send(await render(request.adminHolder!, new Date(), result));
    },
  );
};
