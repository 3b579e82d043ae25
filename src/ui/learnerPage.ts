/**
 * `/ui/learners/{id}`: one learner. Their details and reminder setting (which the operator can
 * change here), every lesson of their cohort with whether, when and how well they completed it,
 * their newest 50 statements (each linked to its stored JSON), and the reminders planned for
 * them with what became of each.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import {
  findLearner,
  type LearnerLesson,
  type LearnerStatement,
  learnerLessons,
  learnerNotifications,
  learnerStatements,
} from "../data/learners.ts";
import { setRemindersEnabled } from "../data/reminderSettings.ts";
import type { User } from "../db/schema.ts";
import { type Html, html } from "./html.ts";
import { csrfField, describedBy, fieldError, page, table } from "./layout.ts";

/** Statements shown: the newest. */
export const RECENT_STATEMENTS = 50;
/** Reminders shown: the newest planned (a learner has at most one per lesson). */
const RECENT_REMINDERS = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REMINDER_CHOICES = { on: true, off: false } as const;

/** `3723000` → `1 h 2 min 3 s`. */
export function formatDuration(ms: number | null): string | null {
  if (ms === null) return null;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const min = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [h ? `${h} h` : "", min ? `${min} min` : "", s || total === 0 ? `${s} s` : ""];
  return parts.filter(Boolean).join(" ");
}

function score(scaled: number | null, raw: number | null): string | null {
  if (scaled === null && raw === null) return null;
  const percent = scaled === null ? "" : `${Math.round(scaled * 1000) / 10}%`;
  const points = raw === null ? "" : `${raw} points`;
  return percent && points ? `${percent} (${points})` : percent || points;
}

/** A verb as a person reads it: its display, else the last part of its IRI. */
function verbName(statement: LearnerStatement): string {
  return (
    statement.verbDisplay ?? statement.verbId.replace(/\/+$/, "").split(/[/#]/).at(-1) ?? statement.verbId
  );
}

function result(statement: LearnerStatement): string {
  const parts: string[] = [];
  if (statement.resultCompletion !== null)
    parts.push(statement.resultCompletion ? "completed" : "not completed");
  if (statement.resultSuccess !== null) parts.push(statement.resultSuccess ? "passed" : "failed");
  const scored = score(statement.scoreScaled, null);
  if (scored) parts.push(scored);
  const duration = formatDuration(statement.durationMs);
  if (duration) parts.push(duration);
  return parts.join(", ");
}

const STATUS_CLASS: Record<string, string> = { sent: "ok", failed: "bad", unconfirmed: "bad" };

export const learnerPage: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps.database;

  const render = async (holder: string, learner: User, notice?: Html, reminderError?: string) => {
    const publicBaseUrl = app.deps.config.publicBaseUrl;
    const [lessons, statements, reminders] = await Promise.all([
      learnerLessons(db, learner.id, publicBaseUrl),
      learnerStatements(db, learner.id, publicBaseUrl, RECENT_STATEMENTS),
      learnerNotifications(db, learner.id, RECENT_REMINDERS),
    ]);
    const csrf = csrfToken(app.deps.signingSecret, holder);
    const completed = lessons.filter((lesson) => lesson.completedAt !== null).length;
    const enabled = learner.remindersEnabled;
    return page(
      learner.name,
      html`<p><a href="/ui/learners">← Learners</a></p>
${notice ?? ""}
<div class="panel"><table class="facts">
<tbody>
<tr><th scope="row">email</th><td>${learner.email}</td></tr>
<tr><th scope="row">avatar</th><td>${learner.avatar}</td></tr>
<tr><th scope="row">cohort</th><td><a href="/ui/learners?cohortId=${encodeURIComponent(learner.cohortId)}">${learner.cohortId}</a></td></tr>
<tr><th scope="row">time zone</th><td>${learner.timezone}</td></tr>
<tr><th scope="row">signed up</th><td>${learner.createdAt.toISOString()}</td></tr>
<tr><th scope="row">id</th><td><code>${learner.id}</code></td></tr>
</tbody></table></div>

<h2 id="reminders-setting">Reminder emails</h2>
<div class="panel"><form method="post" action="/ui/learners/${learner.id}/reminders">${csrfField(csrf)}
  <fieldset${describedBy("reminders", reminderError)}><legend>Daily lesson reminders are <strong id="reminders-state">${enabled ? "on" : "off"}</strong></legend>
  <label><input type="radio" name="reminders" value="on"${enabled ? html` checked` : ""}> on: remind them of lessons they have not completed</label>
  <label><input type="radio" name="reminders" value="off"${enabled ? "" : html` checked`}> off: send them no reminders</label>
  </fieldset>
  ${fieldError("reminders", reminderError)}
  <p><button type="submit">Save</button></p>
</form>
<p class="muted">A learner who used the unsubscribe link in an email has reminders off. Turn them on again only when they ask.</p></div>

<h2 id="lessons">Lessons (${completed} of ${lessons.length} completed)</h2>
${table(
  ["lesson", "due", "completed", "score", "time", "statements"],
  lessons.map((lesson: LearnerLesson) => [
    html`${lesson.title}<br><small class="muted">${lesson.activityId}</small>`,
    lesson.lessonDate,
    lesson.completedAt
      ? html`<span class="ok">✓ ${lesson.completedAt}</span>`
      : html`<span class="muted">not yet</span>`,
    score(lesson.scoreScaled, lesson.scoreRaw),
    formatDuration(lesson.durationMs),
    lesson.statements,
  ]),
  { numeric: ["statements"] },
)}
<p class="muted">Completed: a completion of the lesson's activity that was not voided (the reports' and reminders' rule). Score and time are those of the best completion.</p>

<h2 id="statements">Recent statements (newest ${RECENT_STATEMENTS})</h2>
${table(
  ["stored", "verb", "object", "result", ""],
  statements.map((statement) => [
    html`${statement.stored}${statement.voided ? html` <span class="bad">voided</span>` : ""}`,
    html`<span title="${statement.verbId}">${verbName(statement)}</span>${statement.isCompletion && !statement.voided ? html` <span class="ok">(completion)</span>` : ""}`,
    html`${statement.objectName ?? ""}${statement.objectName ? html`<br>` : ""}<small class="muted">${statement.objectId}</small>`,
    result(statement),
    html`<a href="/api/debug/raw-json/${statement.statementId}">raw JSON</a>`,
  ]),
)}
<p class="muted">Statements appear here once flattened (at once with the stream worker, within INCREMENTAL_ETL_INTERVAL otherwise).</p>

<h2 id="notifications">Reminders sent, skipped or failed</h2>
${table(
  ["planned", "lesson", "due", "status", "attempts", "sent", "error"],
  reminders.map((reminder) => [
    reminder.createdAt,
    reminder.lessonTitle,
    reminder.lessonDate,
    html`<span class="${STATUS_CLASS[reminder.status] ?? ""}">${reminder.status}</span>`,
    reminder.attempts,
    reminder.sentAt,
    reminder.error,
  ]),
  { numeric: ["attempts"] },
)}`,
      { csrf, active: "/ui/learners" },
    );
  };

  const notFound = (id: string) =>
    page(
      "No such learner",
      html`<p class="notice bad">No learner has the id "${id.slice(0, 100)}". <a href="/ui/learners">Find learners</a></p>`,
    );

  const Params = Type.Object({ id: Type.String({ maxLength: 200 }) });

  app.get(
    "/ui/learners/:id",
    { config: { auth: "admin" }, schema: { hide: true, params: Params } },
    async (request, reply) => {
      const { id } = request.params;
      const learner = UUID.test(id) ? await findLearner(db, id) : undefined;
      if (!learner) return reply.code(404).type("text/html; charset=utf-8").send(notFound(id));
      return reply.type("text/html; charset=utf-8").send(await render(request.adminHolder!, learner));
    },
  );

  app.post(
    "/ui/learners/:id/reminders",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        params: Params,
        body: Type.Object({
          reminders: Type.Optional(Type.String({ maxLength: 200 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const learner = UUID.test(id) ? await findLearner(db, id) : undefined;
      if (!learner) return reply.code(404).type("text/html; charset=utf-8").send(notFound(id));
      const choice = request.body.reminders;
      if (choice !== "on" && choice !== "off") {
        return reply
          .code(400)
          .type("text/html; charset=utf-8")
          .send(await render(request.adminHolder!, learner, undefined, "choose on or off"));
      }
      const enabled = REMINDER_CHOICES[choice];
      await setRemindersEnabled(db, learner.id, enabled);
      request.log.info({ userId: learner.id, remindersEnabled: enabled }, "reminder setting changed");
      const updated = { ...learner, remindersEnabled: enabled };
      return reply
        .type("text/html; charset=utf-8")
        .send(
          await render(
            request.adminHolder!,
            updated,
            html`<p class="notice" role="status">Reminders are now ${choice} for ${learner.name}.</p>`,
          ),
        );
    },
  );
};
