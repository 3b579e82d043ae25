import { type Static, Type } from "typebox";
import { CohortId, Pagination } from "../../http/schemas.ts";

export const Iri = Type.String({
  maxLength: 2048,
  pattern: "^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]+$",
  description: "an absolute IRI, e.g. https://example.com/lessons/day-1",
});

export const CreateLessonRequest = Type.Object(
  {
    cohortId: CohortId,
    activityId: {
      ...Iri,
      description:
        "an absolute IRI, e.g. https://example.com/lessons/day-1: the xAPI activity id the lesson's content reports against",
    },
    title: Type.String({ minLength: 1, maxLength: 300 }),
    url: Type.Optional(
      Type.String({
        maxLength: 2048,
        pattern: "^https?://[^\\s]+$",
        description: "an http(s) URL where learners open the lesson (linked from reminder emails)",
      }),
    ),
    lessonDate: Type.String({ format: "date", description: "the day the lesson is due, YYYY-MM-DD" }),
  },
  { additionalProperties: false },
);
export type CreateLessonRequest = Static<typeof CreateLessonRequest>;

export const LessonRead = Type.Object({
  id: Type.String({ format: "uuid" }),
  cohortId: Type.String(),
  activityId: Type.String(),
  title: Type.String(),
  url: Type.Union([Type.String(), Type.Null()]),
  lessonDate: Type.String({ format: "date" }),
  createdAt: Type.String({ format: "date-time" }),
});

export const ListLessonsQuery = Type.Object(
  {
    cohortId: Type.Optional(CohortId),
    lessonDate: Type.Optional(Type.String({ format: "date", description: "only lessons due on this day" })),
    ...Pagination,
  },
  { additionalProperties: false },
);

export const LessonPage = Type.Object({
  items: Type.Array(LessonRead),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});
