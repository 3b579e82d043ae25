import { type Static, Type } from "typebox";
import { CohortId, Pagination } from "../../http/schemas.ts";

const Uuid = Type.String({ format: "uuid" });

export const ReportFormat = Type.Optional(
  Type.Union([Type.Literal("json"), Type.Literal("csv")], {
    description:
      "`csv` for a CSV download of the whole report (limit and offset are ignored); " +
      "the same as sending `Accept: text/csv`. Default: json.",
  }),
);

/** A day (`YYYY-MM-DD`, a UTC day) or an instant with its offset (`2026-03-02T18:00:00+01:00`). */
const DateOrDateTime = (description: string) =>
  Type.Union([Type.String({ format: "date" }), Type.String({ format: "date-time" })], { description });

export const CohortParams = Type.Object({ cohortId: CohortId }, { additionalProperties: false });

export const CompletionsQuery = Type.Object(
  {
    lessonId: Type.Optional({ ...Uuid, description: "only completions of this lesson" }),
    from: Type.Optional(
      DateOrDateTime("completed at or after: a UTC day (YYYY-MM-DD) or a date-time with offset"),
    ),
    to: Type.Optional(
      DateOrDateTime("completed at or before: a UTC day (the whole day) or a date-time with offset"),
    ),
    format: ReportFormat,
    ...Pagination,
  },
  { additionalProperties: false },
);
export type CompletionsQuery = Static<typeof CompletionsQuery>;

export const CompletionItem = Type.Object({
  userId: Uuid,
  name: Type.String(),
  email: Type.String(),
  avatar: Type.String(),
  lessonId: Uuid,
  lessonTitle: Type.String(),
  lessonDate: Type.String({ format: "date" }),
  completedAt: Type.String({
    format: "date-time",
    description: "the `timestamp` of the learner's first completing statement, in UTC",
  }),
  scoreScaled: Type.Union([Type.Number(), Type.Null()], {
    description: "`result.score.scaled` of the learner's best completion (-1 to 1)",
  }),
  scoreRaw: Type.Union([Type.Number(), Type.Null()], {
    description: "`result.score.raw` of that same completion",
  }),
});

export const CompletionsReport = Type.Object({
  cohortId: Type.String(),
  items: Type.Array(CompletionItem, { description: "one row per learner and completed lesson" }),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const LessonParams = Type.Object({ lessonId: Uuid }, { additionalProperties: false });

export const IncompleteQuery = Type.Object(
  { format: ReportFormat, ...Pagination },
  { additionalProperties: false },
);

export const IncompleteItem = Type.Object({
  userId: Uuid,
  name: Type.String(),
  email: Type.String(),
  avatar: Type.String(),
  timezone: Type.String(),
  remindersEnabled: Type.Boolean(),
});

export const IncompleteReport = Type.Object({
  lesson: Type.Object({
    id: Uuid,
    title: Type.String(),
    cohortId: Type.String(),
    lessonDate: Type.String({ format: "date" }),
  }),
  items: Type.Array(IncompleteItem),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const CsvBody = Type.String({
  description: "RFC 4180 CSV with a header row and CRLF line ends, streamed",
});
