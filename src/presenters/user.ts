import type { User } from "../db/schema.ts";

/** A learner as the learner may see it: no operator-only fields. */
export function presentUser(user: User) {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    avatar: user.avatar,
    cohortId: user.cohortId,
    timezone: user.timezone,
    createdAt: user.createdAt.toISOString(),
  };
}

/** A learner as an operator sees it. */
export function presentUserForAdmin(user: User) {
  return { ...presentUser(user), remindersEnabled: user.remindersEnabled };
}
