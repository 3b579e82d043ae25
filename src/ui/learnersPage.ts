/**
 * `/ui/learners`: find learners by name, email or avatar and cohort, 50 to a page in name order
 * (keyset pages: "Next" and "Previous" carry the page's edge), the result as CSV
 * (`?format=csv`), and `/ui/learners/import`: adding learners from a CSV file, with a report of
 * every row (see `commands/addLearners.ts` for the rules and limits).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyError } from "fastify";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import {
  addLearners,
  IMPORT_COLUMNS,
  type ImportResult,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_ROWS,
  readLearnerCsv,
} from "../commands/addLearners.ts";
import {
  countLearners,
  type LearnerCursor,
  type LearnerPage,
  type LearnerSearch,
  learnerCohorts,
  SUBSTRING_MIN_LENGTH,
  searchLearners,
  streamLearners,
} from "../data/learners.ts";
import type { User } from "../db/schema.ts";
import { unstorableTextProblem } from "../db/storableText.ts";
import { ValidationFailed } from "../errors.ts";
import { CohortId } from "../http/schemas.ts";
import { LEARNER_CSV_COLUMNS, toCsv } from "../reports/csv.ts";
import { sendCsv } from "../routes/reports/routes.ts";
import { acceptFormData, type UploadedFile } from "./formData.ts";
import { html } from "./html.ts";
import { csrfField, describedBy, fieldError, page, table } from "./layout.ts";

/** Learners per page. */
export const PAGE_SIZE = 50;
/** Matches are counted up to this many; beyond it the page says "more than". */
export const COUNT_CAP = 1_000;
/** Cohorts offered in the cohort field's suggestions. */
const COHORT_SUGGESTIONS = 500;
const MAX_QUERY = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The API's cohort id rule (`http/schemas.ts`), to say the same thing the API says. */
const COHORT_RULE = CohortId as unknown as { pattern: string; description: string };
const COHORT_PATTERN = new RegExp(COHORT_RULE.pattern);

/** Problems with the search form, by field. */
type FieldErrors = Partial<Record<"q" | "cohortId" | "page", string>>;

/** A cursor as it travels in a link: base64url of `[name, id]`. */
export function encodeCursor(cursor: LearnerCursor): string {
  return Buffer.from(JSON.stringify([cursor.name, cursor.id])).toString("base64url");
}

function decodeCursor(text: string): LearnerCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string" &&
      UUID.test(value[1]) &&
      // A link is input too: a NUL or lone surrogate inside the encoding never reaches the database.
      unstorableTextProblem(value[0]) === undefined
    ) {
      return { name: value[0], id: value[1] };
    }
  } catch {
    // not base64url JSON: not a cursor of ours
  }
  return undefined;
}

interface SearchQuery {
  q?: string | undefined;
  cohortId?: string | undefined;
  after?: string | undefined;
  before?: string | undefined;
}

/** The search a query string asks for, and what is wrong with it. */
function readSearch(query: SearchQuery): {
  search: LearnerSearch;
  after?: LearnerCursor;
  before?: LearnerCursor;
  errors: FieldErrors;
} {
  const errors: FieldErrors = {};
  const q = (query.q ?? "").trim();
  const cohortId = (query.cohortId ?? "").trim();
  if (q.length > MAX_QUERY) errors.q = `must be at most ${MAX_QUERY} characters`;
  if (cohortId && (cohortId.length > 64 || !COHORT_PATTERN.test(cohortId))) {
    errors.cohortId = `must be ${COHORT_RULE.description}`;
  }
  const after = query.after ? decodeCursor(query.after) : undefined;
  const before = query.before ? decodeCursor(query.before) : undefined;
  if ((query.after && !after) || (query.before && !before)) {
    errors.page = "This page link is damaged (it was cut or edited); showing the first page.";
  }
  const search: LearnerSearch = {
    q: errors.q ? undefined : q || undefined,
    cohortId: errors.cohortId ? undefined : cohortId || undefined,
  };
  return errors.page
    ? { search, errors }
    : { search, errors, ...(after ? { after } : {}), ...(before ? { before } : {}) };
}

/** `/ui/learners?…` for a search and a page edge. */
function learnersUrl(search: LearnerSearch, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (search.q) params.set("q", search.q);
  if (search.cohortId) params.set("cohortId", search.cohortId);
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const text = params.toString();
  return text ? `/ui/learners?${text}` : "/ui/learners";
}

export const learnersPage: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps.database;

  const listPage = async (holder: string, query: SearchQuery) => {
    const { search, after, before, errors } = readSearch(query);
    // A field the search cannot use is explained, and nothing is searched: results of another
    // search than the one typed would mislead.
    const fieldInvalid = Boolean(errors.q || errors.cohortId);
    const [found, count, cohorts] = await Promise.all([
      fieldInvalid
        ? ({ items: [] } as LearnerPage)
        : searchLearners(db, search, { after, before, limit: PAGE_SIZE }),
      fieldInvalid ? undefined : countLearners(db, search, COUNT_CAP),
      learnerCohorts(db, COHORT_SUGGESTIONS),
    ]);
    const shownQ = query.q ?? "";
    const shownCohort = query.cohortId ?? "";
    const matches = !count
      ? "Correct the search above"
      : count.capped
        ? `More than ${COUNT_CAP.toLocaleString("en-US")} learners match`
        : `${count.count.toLocaleString("en-US")} learner${count.count === 1 ? "" : "s"} match${count.count === 1 ? "es" : ""}`;
    const body = html`${errors.page ? html`<p class="notice bad">${errors.page}</p>` : ""}
<div class="panel"><form method="get" action="/ui/learners">
  <label for="q">Name, email or avatar</label>
  <input id="q" name="q" value="${shownQ}" size="32" maxlength="${MAX_QUERY}"${describedBy("q", errors.q)}>
  ${fieldError("q", errors.q)}
  <label for="cohortId">Cohort</label>
  <input id="cohortId" name="cohortId" value="${shownCohort}" size="20" list="cohorts" placeholder="all cohorts"${describedBy("cohortId", errors.cohortId)}>
  <datalist id="cohorts">${cohorts.map((cohort) => html`<option value="${cohort}"></option>`)}</datalist>
  ${fieldError("cohortId", errors.cohortId)}
  <p><button type="submit">Search</button> <a href="/ui/learners">Clear</a></p>
  <p class="muted">${SUBSTRING_MIN_LENGTH} characters or more are found anywhere in a name, email or avatar; one or two, at the start of a name.</p>
</form></div>
<p><strong id="match-count">${matches}.</strong>
  ${fieldInvalid ? "" : html`<a href="${learnersUrl(search, { format: "csv" })}">Download CSV</a> ·`}
  <a href="/ui/learners/import">Add learners from a CSV file</a></p>
${
  fieldInvalid
    ? ""
    : table(
        ["name", "email", "avatar", "cohort", "time zone", "reminders", "signed up"],
        found.items.map((learner: User) => [
          html`<a href="/ui/learners/${learner.id}">${learner.name}</a>`,
          learner.email,
          learner.avatar,
          learner.cohortId,
          learner.timezone,
          learner.remindersEnabled ? "on" : html`<span class="bad">off</span>`,
          learner.createdAt.toISOString().slice(0, 10),
        ]),
      )
}
${
  found.previous || found.next
    ? html`<nav class="pager" aria-label="pages"><p>
${found.previous ? html`<a href="${learnersUrl(search, { before: encodeCursor(found.previous) })}" rel="prev">← Previous ${PAGE_SIZE}</a>` : ""}
${found.previous && found.next ? " · " : ""}
${found.next ? html`<a href="${learnersUrl(search, { after: encodeCursor(found.next) })}" rel="next">Next ${PAGE_SIZE} →</a>` : ""}
</p></nav>`
    : ""
}`;
    const invalid = Boolean(errors.q || errors.cohortId || errors.page);
    return {
      status: invalid ? 400 : 200,
      html: page("Learners", body, {
        csrf: csrfToken(app.deps.signingSecret, holder),
        active: "/ui/learners",
      }),
    };
  };

  app.get(
    "/ui/learners",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        // Generous bounds: the handler explains a bad value next to its field.
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 2_000 })),
          cohortId: Type.Optional(Type.String({ maxLength: 2_000 })),
          after: Type.Optional(Type.String({ maxLength: 4_000 })),
          before: Type.Optional(Type.String({ maxLength: 4_000 })),
          format: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (request, reply) => {
      if (request.query.format === "csv") {
        const { search, errors } = readSearch({ q: request.query.q, cohortId: request.query.cohortId });
        if (!errors.q && !errors.cohortId) {
          const name = search.cohortId ? `learners-${search.cohortId}.csv` : "learners.csv";
          return sendCsv(reply, name, toCsv(LEARNER_CSV_COLUMNS, streamLearners(db, search)));
        }
      }
      const answer = await listPage(request.adminHolder!, request.query);
      return reply.code(answer.status).type("text/html; charset=utf-8").send(answer.html);
    },
  );

  // The upload: its own plugin, the only place multipart/form-data is parsed under /ui.
  await app.register(async (upload) => {
    acceptFormData(upload);

    const importPage = (
      holder: string,
      options: { error?: string; results?: ImportResult[]; filename?: string } = {},
    ) => {
      const csrf = csrfToken(app.deps.signingSecret, holder);
      const { error, results } = options;
      const counts = { added: 0, exists: 0, refused: 0 };
      for (const result of results ?? []) counts[result.outcome] += 1;
      const outcome = (result: ImportResult) =>
        result.outcome === "added"
          ? html`<span class="ok">added</span> (<a href="/ui/learners/${result.userId!}">open</a>)`
          : result.outcome === "exists"
            ? html`already signed up; nothing changed (<a href="/ui/learners/${result.userId!}">open</a>)`
            : html`<span class="bad">refused</span>`;
      const report = results
        ? html`<h2 id="report">Report${options.filename ? html` for ${options.filename}` : ""}</h2>
<p class="notice${counts.refused ? " bad" : ""}" id="import-summary">${counts.added} added, ${counts.exists} already signed up, ${counts.refused} refused.
${counts.refused ? "Refused rows changed nothing: correct them and upload the file again (rows already added are reported as already signed up)." : ""}</p>
${table(
  ["row", "email", "outcome", "why"],
  results.map((result) => [
    result.row,
    result.email,
    outcome(result),
    result.problems.length
      ? html`${result.problems.map((p, i) => html`${i ? html`<br>` : ""}${p.field}: ${p.message}`)}`
      : "",
  ]),
  { numeric: ["row"] },
)}`
        : html``;
      return page(
        "Add learners",
        html`<div class="panel">
<form method="post" action="/ui/learners/import" enctype="multipart/form-data">${csrfField(csrf)}
  <label for="file">CSV file</label>
  <input id="file" name="file" type="file" accept=".csv,text/csv" required${describedBy("file", error)}>
  ${fieldError("file", error)}
  <p><button type="submit">Add learners</button> <a href="/ui/learners">Back to the learners</a></p>
</form>
<p>A header row, then one learner per row: <code>${IMPORT_COLUMNS.join(",")}</code> (timezone may be left out, or empty: UTC).
Each row is checked as a signup is (<code>POST /api/signup</code>), with the same messages. Refused rows change nothing; the others are added.
A learner whose email has already signed up is reported and left as they are, so a file can be uploaded again.</p>
<p class="muted">UTF-8, comma- or semicolon-separated, at most ${MAX_IMPORT_ROWS.toLocaleString("en-US")} learners and ${MAX_IMPORT_BYTES / 1024} KiB per file.</p>
<pre>name,email,avatar,cohortId,timezone
Ada Lovelace,ada@example.com,ada,2026-spring,Europe/London
"Hopper, Grace",grace@example.com,grace_h,2026-spring,</pre>
</div>${report}`,
        { csrf, active: "/ui/learners" },
      );
    };

    upload.get(
      "/ui/learners/import",
      { config: { auth: "admin" }, schema: { hide: true } },
      async (request, reply) => reply.type("text/html; charset=utf-8").send(importPage(request.adminHolder!)),
    );

    upload.post(
      "/ui/learners/import",
      {
        config: { auth: "admin" },
        schema: { hide: true },
        // The file's limit and the form around it; a larger body is refused before it is read.
        bodyLimit: MAX_IMPORT_BYTES + 16 * 1024,
        // A body over the limit, or not a form, is explained next to the file field (nothing was read).
        errorHandler: (error: FastifyError, request, reply) => {
          const message =
            error.code === "FST_ERR_CTP_BODY_TOO_LARGE"
              ? `the file is larger than ${MAX_IMPORT_BYTES / 1024} KiB; split it into smaller files`
              : error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" ||
                  (error as { code?: string }).code === "invalid_form"
                ? "send the file with this form (multipart/form-data)"
                : undefined;
          if (!message || !request.adminHolder) throw error;
          return reply
            .code(error.code === "FST_ERR_CTP_BODY_TOO_LARGE" ? 413 : 400)
            .type("text/html; charset=utf-8")
            .send(importPage(request.adminHolder, { error: message }));
        },
      },
      async (request, reply) => {
        const form = (request.body ?? {}) as Record<string, string | UploadedFile | undefined>;
        const file = form.file;
        const refuse = (error: string) =>
          reply.code(400).type("text/html; charset=utf-8").send(importPage(request.adminHolder!, { error }));
        if (!file || typeof file === "string" || (file.filename === "" && file.data.length === 0)) {
          return refuse("choose a CSV file");
        }
        let rows: ReturnType<typeof readLearnerCsv>;
        try {
          rows = readLearnerCsv(file.data);
        } catch (error) {
          if (error instanceof ValidationFailed) return refuse(error.details?.[0]?.message ?? error.message);
          throw error;
        }
        const results = await addLearners(db, rows, app.deps.config.publicBaseUrl);
        request.log.info(
          {
            rows: results.length,
            added: results.filter((r) => r.outcome === "added").length,
            refused: results.filter((r) => r.outcome === "refused").length,
          },
          "learners added from a CSV file",
        );
        return reply
          .type("text/html; charset=utf-8")
          .send(importPage(request.adminHolder!, { results, filename: file.filename }));
      },
    );
  });
};
