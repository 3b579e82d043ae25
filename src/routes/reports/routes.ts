import { Readable } from "node:stream";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply } from "fastify";
import {
  findLesson,
  getCohortCompletions,
  getIncompleteLearners,
  streamCohortCompletions,
  streamIncompleteLearners,
} from "../../data/completionReports.ts";
import { ErrorResponse, errorResponses } from "../../http/schemas.ts";
import { COMPLETION_CSV_COLUMNS, INCOMPLETE_CSV_COLUMNS, toCsv } from "../../reports/csv.ts";
import {
  CohortParams,
  CompletionsQuery,
  CompletionsReport,
  CsvBody,
  IncompleteQuery,
  IncompleteReport,
  LessonParams,
} from "./schema.ts";

/**
 * Whether to answer CSV: `?format=` decides when given; otherwise an `Accept` header that ranks
 * `text/csv` above `application/json` (or equal and listed first). `*\/*`, a browser's default,
 * and no header at all get JSON.
 */
export function wantsCsv(format: "json" | "csv" | undefined, accept: string | undefined): boolean {
  if (format) return format === "csv";
  if (!accept) return false;
  const ranked = { csv: { q: 0, at: Infinity }, json: { q: 0, at: Infinity } };
  accept.split(",").forEach((range, at) => {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) return;
    const key = type === "text/csv" ? "csv" : type === "application/json" ? "json" : undefined;
    if (key && q > ranked[key].q) ranked[key] = { q, at };
  });
  const { csv, json } = ranked;
  return csv.q > 0 && (csv.q > json.q || (csv.q === json.q && csv.at < json.at));
}

/**
 * Streams CSV chunks as a download. The status and headers leave with the header row, so a
 * database error later can no longer become a 5xx: Fastify logs it and cuts the connection, and
 * the client sees a failed download (no final chunk) rather than a short file that looks whole.
 */
export function sendCsv(reply: FastifyReply, filename: string, chunks: AsyncIterable<string>) {
  return reply
    .header("content-type", "text/csv; charset=utf-8")
    .header("content-disposition", `attachment; filename="${filename}"`)
    .send(Readable.from(chunks));
}

const csvOrJson = (json: object) => ({
  content: { "application/json": { schema: json }, "text/csv": { schema: CsvBody } },
});

/**
 * Reports for operators (admin), DESIGN §8. JSON pages by default; with `Accept: text/csv` or
 * `?format=csv`, the whole report as a streamed CSV download (`limit` and `offset` do not apply:
 * a CSV export is the report, not a page of it). Both answer `Vary: Accept` and are not cached.
 */
export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps.database;
  // Read when asked: with PORT=0 the default PUBLIC_BASE_URL is known only once the api listens.
  const publicBaseUrl = () => app.deps.config.publicBaseUrl;

  app.addHook("onSend", async (_request, reply) => {
    reply.header("vary", "Accept").header("cache-control", "no-store");
  });

  app.get(
    "/api/reports/cohorts/:cohortId/completions",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["reports"],
        summary: "Completions of a cohort: each learner and the lessons they completed",
        description:
          "One row per learner and completed lesson, in learner name order, then lesson date: when the " +
          "learner first completed it (the statement's `timestamp`) and the score of their best " +
          "completion. A completion is a COMPLETION_VERBS verb or `result.completion: true` on the " +
          "lesson's activity, not voided, by a learner of the cohort (by mailbox or account; " +
          "statements sent before signup count). `from`/`to` filter on the completion time. " +
          "CSV with `Accept: text/csv` or `format=csv` (the whole report). " +
          "Errors: 400 `validation_error`, 401 `unauthorized`, 404 `not_found` (no learner and no " +
          "lesson has this cohort id).",
        params: CohortParams,
        querystring: CompletionsQuery,
        response: { 200: csvOrJson(CompletionsReport), 404: ErrorResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { cohortId } = request.params;
      const { format, limit, offset, ...filter } = request.query;
      if (wantsCsv(format, request.headers.accept)) {
        const pages = await streamCohortCompletions(db, cohortId, filter, publicBaseUrl());
        return sendCsv(reply, `cohort-${cohortId}-completions.csv`, toCsv(COMPLETION_CSV_COLUMNS, pages));
      }
      const page = await getCohortCompletions(db, cohortId, filter, { limit, offset }, publicBaseUrl());
      return reply.type("application/json; charset=utf-8").send({ cohortId, ...page });
    },
  );

  app.get(
    "/api/reports/lessons/:lessonId/incomplete",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["reports"],
        summary: "Learners of a lesson's cohort who have not completed it",
        description:
          "Every learner of the lesson's cohort without a completion of the lesson (the reminder rule, " +
          "whatever the learner's reminder setting), in name order. CSV with `Accept: text/csv` or " +
          "`format=csv` (the whole list). Errors: 400 `validation_error` (e.g. a malformed id), " +
          "401 `unauthorized`, 404 `not_found`.",
        params: LessonParams,
        querystring: IncompleteQuery,
        response: { 200: csvOrJson(IncompleteReport), 404: ErrorResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { format, limit, offset } = request.query;
      const lesson = await findLesson(db, request.params.lessonId);
      if (wantsCsv(format, request.headers.accept)) {
        const pages = streamIncompleteLearners(db, lesson, publicBaseUrl());
        return sendCsv(
          reply,
          `lesson-${lesson.lessonDate}-${lesson.id}-incomplete.csv`,
          toCsv(INCOMPLETE_CSV_COLUMNS, pages),
        );
      }
      const page = await getIncompleteLearners(db, lesson, { limit, offset }, publicBaseUrl());
      return reply.type("application/json; charset=utf-8").send({
        lesson: {
          id: lesson.id,
          title: lesson.title,
          cohortId: lesson.cohortId,
          lessonDate: lesson.lessonDate,
        },
        ...page,
      });
    },
  );
};
