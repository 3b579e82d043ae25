import { and, asc, count, eq, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type Lesson, lessons } from "../db/schema.ts";

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface ListLessonsFilter {
  cohortId?: string | undefined;
  lessonDate?: string | undefined;
  limit: number;
  offset: number;
}

/** Lessons in due-date order, optionally of one cohort or one day. */
export async function listLessons(db: Db, filter: ListLessonsFilter): Promise<Page<Lesson>> {
  const conditions: SQL[] = [];
  if (filter.cohortId) conditions.push(eq(lessons.cohortId, filter.cohortId));
  if (filter.lessonDate) conditions.push(eq(lessons.lessonDate, filter.lessonDate));
  const where = conditions.length ? and(...conditions) : undefined;
  const [items, [totals]] = await Promise.all([
    db
      .select()
      .from(lessons)
      .where(where)
      .orderBy(asc(lessons.lessonDate), asc(lessons.cohortId), asc(lessons.id))
      .limit(filter.limit)
      .offset(filter.offset),
    db.select({ total: count() }).from(lessons).where(where),
  ]);
  return { items, total: totals?.total ?? 0, limit: filter.limit, offset: filter.offset };
}
