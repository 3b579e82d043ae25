import { asc, count, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type User, users } from "../db/schema.ts";
import type { Page } from "./listLessons.ts";

/** Learners in signup order, optionally of one cohort. */
export async function listUsers(
  db: Db,
  filter: { cohortId?: string | undefined; limit: number; offset: number },
): Promise<Page<User>> {
  const where = filter.cohortId ? eq(users.cohortId, filter.cohortId) : undefined;
  const [items, [totals]] = await Promise.all([
    db
      .select()
      .from(users)
      .where(where)
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(filter.limit)
      .offset(filter.offset),
    db.select({ total: count() }).from(users).where(where),
  ]);
  return { items, total: totals?.total ?? 0, limit: filter.limit, offset: filter.offset };
}
