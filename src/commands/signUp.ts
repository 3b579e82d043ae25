import { sql } from "drizzle-orm";
import { actorIdentifiesLearner } from "../data/completion.ts";
import { type Db, driverError } from "../db/client.ts";
import { type User, users } from "../db/schema.ts";
import { AvatarTaken, EmailTaken, ValidationFailed } from "../errors.ts";

export interface SignUpInput {
  name: string;
  email: string;
  avatar: string;
  cohortId: string;
  timezone?: string | undefined;
}

/** The canonical IANA name of `zone` (`europe/berlin` → `Europe/Berlin`), or undefined if unknown. */
export function canonicalTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * Registers a learner. Uniqueness of avatar and email is the database's job (unique indexes),
 * so two concurrent signups for one avatar give exactly one learner and one `AvatarTaken`.
 * Statements the learner sent before signing up are attributed to them (DESIGN §6): their flat
 * rows get the new `user_id` in the same transaction.
 */
export async function signUp(db: Db, input: SignUpInput, publicBaseUrl?: string): Promise<User> {
  const timezone = canonicalTimeZone(input.timezone ?? "UTC");
  if (!timezone) {
    throw new ValidationFailed([
      { field: "timezone", message: `"${input.timezone}" is not an IANA time zone such as Europe/Berlin` },
    ]);
  }
  const name = input.name.trim();
  if (!name) throw new ValidationFailed([{ field: "name", message: "must not be blank" }]);
  try {
    return await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({
          name,
          email: input.email.trim().toLowerCase(),
          avatar: input.avatar,
          cohortId: input.cohortId,
          timezone,
        })
        .returning();
      await attributeEarlierStatements(tx, user!, publicBaseUrl);
      return user!;
    });
  } catch (error) {
    const cause = driverError(error);
    if (cause?.code === "23505" && cause.constraint === "users_avatar_key")
      throw new AvatarTaken(input.avatar);
    if (cause?.code === "23505" && cause.constraint === "users_email_lower_key") throw new EmailTaken();
    throw error;
  }
}

/** Points flat rows of statements this learner sent before signing up at the learner. */
async function attributeEarlierStatements(
  db: Pick<Db, "execute">,
  user: User,
  publicBaseUrl?: string,
): Promise<void> {
  await db.execute(sql`
    update statements_flat f set user_id = u.id
    from users u
    where u.id = ${user.id} and f.user_id is null and ${actorIdentifiesLearner(publicBaseUrl)}`);
}
