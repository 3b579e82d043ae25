import { eq } from "drizzle-orm";
import { type Db, driverError } from "../db/client.ts";
import { type Lesson, lessons } from "../db/schema.ts";
import { LessonExists, NotFound } from "../errors.ts";
import type { CreateLessonInput } from "./createLesson.ts";

/**
 * Changes a lesson in place, with the same fields and rules as `createLesson`. The lesson keeps
 * its id, so its reminders, its reports and the statements on its activity stay with it; a
 * `url` left out clears it, as a lesson created without one has none.
 */
export async function updateLesson(db: Db, id: string, input: CreateLessonInput): Promise<Lesson> {
  try {
    const [lesson] = await db
      .update(lessons)
      .set({
        cohortId: input.cohortId,
        activityId: input.activityId,
        title: input.title.trim(),
        url: input.url ?? null,
        lessonDate: input.lessonDate,
      })
      .where(eq(lessons.id, id))
      .returning();
    if (!lesson) throw new NotFound(`lesson ${id}`);
    return lesson;
  } catch (error) {
    const cause = driverError(error);
    if (cause?.code === "23505" && cause.constraint === "lessons_cohort_id_activity_id_key") {
      throw new LessonExists(input.cohortId, input.activityId);
    }
    throw error;
  }
}
