import type { Lesson } from "../db/schema.ts";

export function presentLesson(lesson: Lesson) {
  return {
    id: lesson.id,
    cohortId: lesson.cohortId,
    activityId: lesson.activityId,
    title: lesson.title,
    url: lesson.url,
    lessonDate: lesson.lessonDate,
    createdAt: lesson.createdAt.toISOString(),
  };
}
