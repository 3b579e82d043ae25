import { type Db, driverError } from "../db/client.ts";
import { type Lesson, lessons } from "../db/schema.ts";
import { LessonExists } from "../errors.ts";

export interface CreateLessonInput {
  cohortId: string;
  activityId: string;
  title: string;
  url?: string | undefined;
  lessonDate: string;
}

/** Registers a lesson of a cohort; one lesson per (cohort, activity). */
export async function createLesson(db: Db, input: CreateLessonInput): Promise<Lesson> {
  try {
    const [lesson] = await db
      .insert(lessons)
      .values({
        cohortId: input.cohortId,
        activityId: input.activityId,
        title: input.title.trim(),
        url: input.url ?? null,
        lessonDate: input.lessonDate,
      })
      .returning();
    return lesson!;
  } catch (error) {
    const cause = driverError(error);
    if (cause?.code === "23505" && cause.constraint === "lessons_cohort_id_activity_id_key") {
      throw new LessonExists(input.cohortId, input.activityId);
    }
    throw error;
  }
}
