/**
 * `/ui/lessons`: the course's lessons by cohort and due date, each with its completion rate, and
 * forms to add, edit and delete one. A form is checked exactly as `POST /api/lessons` checks its
 * JSON (the same schema, the same messages, `createLesson` and its `lesson_exists`), and a refused
 * form is shown again as it was typed, with each message next to its field; nothing is stored.
 *
 * A lesson is deleted only while nothing depends on it (no reminder planned, no statement from its
 * learners on its activity) and only with its confirmation box ticked; otherwise the page says
 * why and suggests editing it instead (docs/decisions.md).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import { createLesson } from "../commands/createLesson.ts";
import { updateLesson } from "../commands/updateLesson.ts";
import {
  deleteLessonIfUnused,
  getLesson,
  knownCohorts,
  LESSONS_PER_PAGE,
  type LessonDependents,
  lessonDependents,
  lessonsOverview,
} from "../data/lessonsOverview.ts";
import type { Lesson } from "../db/schema.ts";
import { AppError, type ErrorDetail } from "../errors.ts";
import { CohortId, MAX_OFFSET } from "../http/schemas.ts";
import { bodyProblems } from "../http/validation.ts";
import { CreateLessonRequest } from "../routes/lessons/schema.ts";
import { type Html, html } from "./html.ts";
import { csrfField, describedBy, fieldError, page } from "./layout.ts";

const MAX_PAGE = Math.floor(MAX_OFFSET / LESSONS_PER_PAGE) + 1;

const LESSON_FIELDS = ["cohortId", "activityId", "title", "url", "lessonDate"] as const;
type LessonField = (typeof LESSON_FIELDS)[number];
/** What a lesson form holds: the text as typed, so a refused form can be shown again unchanged. */
type LessonForm = Record<LessonField, string>;

/** The list's filters, checked with the API's own pieces (cohort id pattern, date format). */
const ListFilter = Type.Object(
  {
    cohortId: Type.Optional(CohortId),
    from: Type.Optional(Type.String({ format: "date" })),
    to: Type.Optional(Type.String({ format: "date" })),
    page: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,8}$", description: "a page number" })),
  },
  { additionalProperties: true },
);

/** Query strings and forms are parsed leniently here and checked in the handlers, to answer with pages. */
const LenientQuery = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown());
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A form field as text: the first value of a repeated field, "" when absent. */
function text(value: unknown): string {
  if (Array.isArray(value)) return text(value[0]);
  return typeof value === "string" ? value : "";
}

/**
 * The JSON body `POST /api/lessons` would get from this form: its fields as sent (a repeated
 * field stays an array, which the schema refuses), an empty `url` left out (a form cannot leave
 * a field out), `_csrf` dropped; any other field is kept, so it is refused as an unknown property.
 */
export function lessonBodyFromForm(form: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(form)) {
    if (key === "_csrf") continue;
    if (key === "url" && value === "") continue;
    body[key] = value;
  }
  return body;
}

function formOf(source: Record<string, unknown> | Lesson): LessonForm {
  const record = source as Record<string, unknown>;
  return Object.fromEntries(LESSON_FIELDS.map((field) => [field, text(record[field] ?? "")])) as LessonForm;
}

/** Problems by field (the lesson's five); the rest are shown above the form. */
function splitProblems(details: ErrorDetail[]): { byField: Map<string, string[]>; other: ErrorDetail[] } {
  const byField = new Map<string, string[]>();
  const other: ErrorDetail[] = [];
  for (const detail of details) {
    const field = detail.field.split(/[.[]/)[0]!;
    if ((LESSON_FIELDS as readonly string[]).includes(field)) {
      byField.set(field, [...(byField.get(field) ?? []), detail.message]);
    } else other.push(detail);
  }
  return { byField, other };
}

interface FormState {
  values: LessonForm;
  error?: AppError | undefined;
}

function lessonFormFields(state: FormState, cohorts: string[], idPrefix: string): Html {
  const { byField } = splitProblems(state.error?.details ?? []);
  const field = (name: LessonField, label: string, hint: string, attributes: Html, type = "text") => {
    const id = `${idPrefix}${name}`;
    const message = byField.get(name)?.join("; ");
    return html`<div class="field"><label for="${id}">${label} <span class="muted">${hint}</span></label>
<input id="${id}" name="${name}" type="${type}" value="${state.values[name]}" ${attributes}${describedBy(id, message)}>${fieldError(id, message)}</div>`;
  };
  return html`<div class="form-grid">
${field("cohortId", "Cohort", "letters, digits, . _ -", html`required maxlength="64" list="${idPrefix}cohorts" autocomplete="off"`)}
<datalist id="${idPrefix}cohorts">${cohorts.map((cohort) => html`<option value="${cohort}"></option>`)}</datalist>
${field("lessonDate", "Due on", "the day learners should complete it", html`required`, "date")}
${field("title", "Title", "as learners see it", html`required maxlength="300"`)}
${field("activityId", "Activity id", "the xAPI activity IRI its content reports", html`required maxlength="2048" inputmode="url"`)}
${field("url", "Lesson URL", "optional: where learners open it (linked from reminders)", html`maxlength="2048" inputmode="url"`)}
</div>`;
}

function problemsNotice(error: AppError | undefined): Html {
  if (!error) return html``;
  const { other } = splitProblems(error.details ?? []);
  return html`<div class="notice bad" role="alert"><strong>Nothing was saved.</strong> ${
    error.details?.length ? "Check the fields marked below." : error.message
  }${
    other.length
      ? html`<ul>${other.map((detail) => html`<li>${detail.field}: ${detail.message}</li>`)}</ul>`
      : ""
  }</div>`;
}

const percent = (completed: number, learners: number) =>
  learners ? Math.round((completed / learners) * 100) : 0;

const DONE_NOTICES: Record<string, string> = {
  added: "Lesson added.",
  updated: "Lesson saved.",
  deleted: "Lesson deleted.",
};

function describeDependents(dependents: LessonDependents): string {
  const parts = [];
  if (dependents.statements)
    parts.push(`${dependents.statements} statement(s) from its learners on its activity`);
  if (dependents.notifications) parts.push(`${dependents.notifications} reminder(s) planned or sent`);
  return parts.join(" and ");
}

export const lessonsPage: FastifyPluginAsyncTypebox = async (app) => {
  const send = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type("text/html; charset=utf-8").send(body);
  const csrfOf = (request: FastifyRequest) => csrfToken(app.deps.signingSecret, request.adminHolder!);
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    send(
      reply,
      404,
      page(
        "Lesson not found",
        html`<p class="notice bad">There is no lesson with that id (it may have been deleted). <a href="/ui/lessons">All lessons</a></p>`,
        { csrf: csrfOf(request), active: "/ui/lessons" },
      ),
    );

  const renderList = async (
    request: FastifyRequest,
    query: Record<string, unknown>,
    addForm: FormState,
    notice?: Html,
  ) => {
    const { database, config } = app.deps;
    const raw = {
      cohortId: text(query.cohortId),
      from: text(query.from),
      to: text(query.to),
      page: text(query.page),
    };
    const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
    const filterError = bodyProblems(ListFilter, given);
    const filterProblems = new Map<string, string[]>();
    for (const detail of filterError?.details ?? []) {
      filterProblems.set(detail.field, [...(filterProblems.get(detail.field) ?? []), detail.message]);
    }
    const filter = filterError
      ? {}
      : (given as { cohortId?: string; from?: string; to?: string; page?: string });
    const pageNumber = Math.min(Number(filter.page ?? "1"), MAX_PAGE);
    const [overview, cohorts] = await Promise.all([
      lessonsOverview(
        database.db,
        {
          cohortId: filter.cohortId,
          from: filter.from,
          to: filter.to,
          limit: LESSONS_PER_PAGE,
          offset: (pageNumber - 1) * LESSONS_PER_PAGE,
        },
        config.publicBaseUrl,
      ),
      knownCohorts(database.db),
    ]);
    const link = (changes: Record<string, string | undefined>) => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries({ ...filter, ...changes })) if (value) params.set(key, value);
      const search = params.toString();
      return `/ui/lessons${search ? `?${search}` : ""}`;
    };
    const filterField = (name: "from" | "to", label: string) => {
      const message = filterProblems.get(name)?.join("; ");
      return html`<div class="field"><label for="filter-${name}">${label}</label><input id="filter-${name}" name="${name}" type="date" value="${raw[name]}"${describedBy(`filter-${name}`, message)}>${fieldError(`filter-${name}`, message)}</div>`;
    };
    const cohortProblem = filterProblems.get("cohortId")?.join("; ");
    const pages = Math.max(1, Math.ceil(overview.total / LESSONS_PER_PAGE));
    const today = new Date().toISOString().slice(0, 10);
    const body = html`${notice ?? ""}
<div class="panel"><form method="get" action="/ui/lessons" class="filters">
<div class="form-grid">
  <div class="field"><label for="filter-cohortId">Cohort</label><select id="filter-cohortId" name="cohortId"${describedBy("filter-cohortId", cohortProblem)}>
    <option value="">every cohort</option>${cohorts.map((cohort) => html`<option value="${cohort}" ${cohort === raw.cohortId ? html`selected` : ""}>${cohort}</option>`)}
  </select>${fieldError("filter-cohortId", cohortProblem)}</div>
  ${filterField("from", "Due from")}
  ${filterField("to", "Due until")}
</div>
${fieldError("filter-page", filterProblems.has("page") ? `page: ${filterProblems.get("page")!.join("; ")}` : undefined)}
<p class="actions"><button type="submit" class="secondary">Show</button>
<a href="${link({ from: today, to: today, page: undefined })}">Due today (UTC)</a>
<a href="/ui/lessons">Clear</a></p>
</form></div>
<p class="muted">${overview.total.toLocaleString("en-US")} lesson(s)${filterError ? " (the filter above is not valid, so all are shown)" : ""}. Completion: learners of the lesson's cohort who completed it (the rule reports and reminders use).</p>
<div class="scroll"><table class="stack lessons">
<thead><tr><th>Due</th><th>Cohort</th><th>Title</th><th>Activity id</th><th>Completion</th><th></th></tr></thead>
<tbody>${overview.items.length === 0 ? html`<tr><td colspan="6" class="muted">No lessons${filter.cohortId || filter.from || filter.to ? " match this filter" : " yet: add the first below"}.</td></tr>` : ""}${overview.items.map(
      (lesson) => html`<tr>
<td data-label="Due">${lesson.lessonDate}</td>
<td data-label="Cohort">${lesson.cohortId}</td>
<td data-label="Title">${lesson.url ? html`<a href="${lesson.url}" rel="noopener noreferrer">${lesson.title}</a>` : lesson.title}</td>
<td data-label="Activity id"><code>${lesson.activityId}</code></td>
<td data-label="Completion" class="completion"><span class="rate"><span class="bar-track"><span class="bar-fill" style="width: ${percent(lesson.completed, lesson.learners)}%"></span></span>
<span class="bar-value">${percent(lesson.completed, lesson.learners)}% <span class="muted">(${lesson.completed}/${lesson.learners})</span></span></span></td>
<td data-label="" class="actions"><a href="/ui/lessons/${lesson.id}/edit">Edit</a> <a href="/ui/lessons/${lesson.id}/delete">Delete…</a></td>
</tr>`,
    )}</tbody></table></div>
${
  pages > 1
    ? html`<p class="pager">${pageNumber > 1 ? html`<a href="${link({ page: String(pageNumber - 1) })}">← Previous</a>` : ""}
<span class="muted">page ${pageNumber} of ${pages}</span>
${pageNumber < pages ? html`<a href="${link({ page: String(pageNumber + 1) })}">Next →</a>` : ""}</p>`
    : ""
}
<h2 id="add">Add a lesson</h2>
<div class="panel">${problemsNotice(addForm.error)}<form method="post" action="/ui/lessons#add" novalidate>${csrfField(csrfOf(request))}
${lessonFormFields(addForm, cohorts, "new-")}
<p><button type="submit">Add lesson</button></p>
</form>
<p class="muted">The same rules as <code>POST /api/lessons</code>: one lesson per activity in a cohort; the URL, when given, is http(s).</p></div>`;
    return page("Lessons", body, { csrf: csrfOf(request), active: "/ui/lessons" });
  };

  const renderEdit = async (request: FastifyRequest, lesson: Lesson, state: FormState) => {
    const cohorts = await knownCohorts(app.deps.database.db);
    return page(
      `Edit lesson`,
      html`<p><a href="/ui/lessons?cohortId=${encodeURIComponent(lesson.cohortId)}">← Lessons of ${lesson.cohortId}</a></p>
<div class="panel">${problemsNotice(state.error)}<form method="post" action="/ui/lessons/${lesson.id}" novalidate>${csrfField(csrfOf(request))}
${lessonFormFields(state, cohorts, "edit-")}
<p class="actions"><button type="submit">Save</button> <a href="/ui/lessons/${lesson.id}/delete">Delete this lesson…</a></p>
</form>
<p class="muted">The lesson keeps its id: its reminders and reports stay with it. Changing its activity id changes which statements complete it.</p></div>`,
      { csrf: csrfOf(request), active: "/ui/lessons" },
    );
  };

  const renderDelete = async (
    request: FastifyRequest,
    lesson: Lesson,
    dependents: LessonDependents,
    confirmProblem?: string,
  ) => {
    const blocked = dependents.notifications > 0 || dependents.statements > 0;
    const summary = html`<div class="record"><dl>
<div><dt>Title</dt><dd>${lesson.title}</dd></div>
<div><dt>Cohort</dt><dd>${lesson.cohortId}</dd></div>
<div><dt>Due</dt><dd>${lesson.lessonDate}</dd></div>
<div><dt>Activity id</dt><dd><code>${lesson.activityId}</code></dd></div>
</dl></div>`;
    const body = blocked
      ? html`${summary}<div class="notice bad" role="alert"><strong>This lesson cannot be deleted:</strong> it has ${describeDependents(dependents)}.
Deleting it would erase its reminder history (and let a lesson added again remind the same learners twice) and drop its completions from the reports.
To move or rename it, <a href="/ui/lessons/${lesson.id}/edit">edit it</a> instead: it keeps everything.</div>`
      : html`${summary}<div class="panel"><form method="post" action="/ui/lessons/${lesson.id}/delete">${csrfField(csrfOf(request))}
<p>No reminder was planned for this lesson and no learner of its cohort has sent a statement on its activity, so nothing is lost with it.</p>
<label class="check"><input type="checkbox" name="confirm" value="yes" id="confirm" required${describedBy("confirm", confirmProblem)}> Yes, delete “${lesson.title}” of ${lesson.cohortId}</label>
${fieldError("confirm", confirmProblem)}
<p class="actions"><button type="submit" class="danger">Delete lesson</button> <a href="/ui/lessons/${lesson.id}/edit">Cancel</a></p>
</form></div>`;
    return page("Delete lesson", body, { csrf: csrfOf(request), active: "/ui/lessons" });
  };

  /** The lesson named by a path's id, or undefined (a malformed id is no lesson). */
  const lessonOf = async (id: string) => (UUID.test(id) ? getLesson(app.deps.database.db, id) : undefined);

  app.get(
    "/ui/lessons",
    { config: { auth: "admin" }, schema: { hide: true, querystring: LenientQuery } },
    async (request, reply) => {
      const done = DONE_NOTICES[text(request.query.done)];
      const notice = done ? html`<p class="notice" role="status">${done}</p>` : undefined;
      const values = { ...formOf({}), cohortId: text(request.query.cohortId) };
      return send(reply, 200, await renderList(request, request.query, { values }, notice));
    },
  );

  app.post(
    "/ui/lessons",
    {
      config: { auth: "admin", bodyTextCheckedByHandler: true },
      schema: { hide: true, body: LenientQuery },
    },
    async (request, reply) => {
      const body = lessonBodyFromForm(request.body);
      let error = bodyProblems(CreateLessonRequest, body);
      if (!error) {
        try {
          const lesson = await createLesson(app.deps.database.db, body as CreateLessonRequest);
          return reply.redirect(
            `/ui/lessons?cohortId=${encodeURIComponent(lesson.cohortId)}&done=added`,
            303,
          );
        } catch (caught) {
          if (!(caught instanceof AppError)) throw caught;
          error = caught;
        }
      }
      return send(
        reply,
        error.status === 409 ? 409 : 400,
        await renderList(request, {}, { values: formOf(request.body), error }),
      );
    },
  );

  app.get(
    "/ui/lessons/:id/edit",
    { config: { auth: "admin" }, schema: { hide: true, params: IdParams } },
    async (request, reply) => {
      const lesson = await lessonOf(request.params.id);
      if (!lesson) return notFound(request, reply);
      return send(reply, 200, await renderEdit(request, lesson, { values: formOf(lesson) }));
    },
  );

  app.post(
    "/ui/lessons/:id",
    {
      config: { auth: "admin", bodyTextCheckedByHandler: true },
      schema: { hide: true, params: IdParams, body: LenientQuery },
    },
    async (request, reply) => {
      const lesson = await lessonOf(request.params.id);
      if (!lesson) return notFound(request, reply);
      const body = lessonBodyFromForm(request.body);
      let error = bodyProblems(CreateLessonRequest, body);
      if (!error) {
        try {
          const saved = await updateLesson(app.deps.database.db, lesson.id, body as CreateLessonRequest);
          return reply.redirect(
            `/ui/lessons?cohortId=${encodeURIComponent(saved.cohortId)}&done=updated`,
            303,
          );
        } catch (caught) {
          if (!(caught instanceof AppError)) throw caught;
          if (caught.status === 404) return notFound(request, reply);
          error = caught;
        }
      }
      return send(
        reply,
        error.status === 409 ? 409 : 400,
        await renderEdit(request, lesson, { values: formOf(request.body), error }),
      );
    },
  );

  app.get(
    "/ui/lessons/:id/delete",
    { config: { auth: "admin" }, schema: { hide: true, params: IdParams } },
    async (request, reply) => {
      const lesson = await lessonOf(request.params.id);
      const dependents = lesson && (await lessonDependents(app.deps.database.db, lesson.id));
      if (!lesson || !dependents) return notFound(request, reply);
      return send(reply, 200, await renderDelete(request, lesson, dependents));
    },
  );

  app.post(
    "/ui/lessons/:id/delete",
    {
      config: { auth: "admin", bodyTextCheckedByHandler: true },
      schema: { hide: true, params: IdParams, body: LenientQuery },
    },
    async (request, reply) => {
      const { db } = app.deps.database;
      const lesson = await lessonOf(request.params.id);
      if (!lesson) return notFound(request, reply);
      if (text(request.body.confirm) !== "yes") {
        const dependents = await lessonDependents(db, lesson.id);
        if (!dependents) return notFound(request, reply);
        return send(
          reply,
          400,
          await renderDelete(request, lesson, dependents, "Tick this box to confirm the deletion."),
        );
      }
      const outcome = await deleteLessonIfUnused(db, lesson.id);
      if (outcome.deleted) {
        return reply.redirect(
          `/ui/lessons?cohortId=${encodeURIComponent(lesson.cohortId)}&done=deleted`,
          303,
        );
      }
      if (outcome.reason === "not_found") return notFound(request, reply);
      return send(reply, 409, await renderDelete(request, lesson, outcome.dependents));
    },
  );
};
