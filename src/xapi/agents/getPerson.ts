/**
 * The Agents resource (xAPI Communication §2.5): the Person object for an Agent, from what this
 * LRS knows of the person behind it, read when asked. Nothing is maintained for it on the
 * statement write path: it reads the learner record (`users`: a learner is `mailto:<email>` and
 * the account `{homePage: PUBLIC_BASE_URL, name: <avatar>}`) and the actor names of the flat
 * rows the worker already writes, through their actor indexes.
 *
 * The Person lists the requested Agent's own identifier and name, and, when the Agent is a
 * registered learner, the learner's email as `mbox`, their account, their name and every actor
 * name statements gave either identifier.
 */
import { and, eq, isNotNull, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { statementsFlat, users } from "../../db/schema.ts";
import type { Account, Agent } from "../validateStatement.ts";

export interface Person {
  objectType: "Person";
  name?: string[];
  mbox?: string[];
  mbox_sha1sum?: string[];
  openid?: string[];
  account?: Account[];
}

/** How many distinct names seen in statements a Person lists at most. */
export const MAX_PERSON_NAMES = 50;

export async function getPerson(db: Db, agent: Agent, publicBaseUrl: string): Promise<Person> {
  const base = publicBaseUrl.replace(/\/+$/, "");
  const mbox = agent.mbox?.toLowerCase();
  const learnerAccount =
    agent.account && agent.account.homePage.replace(/\/+$/, "") === base ? agent.account.name : undefined;
  const [learner] =
    mbox || learnerAccount
      ? await db
          .select({ id: users.id, name: users.name, email: users.email, avatar: users.avatar })
          .from(users)
          .where(
            or(
              mbox?.startsWith("mailto:")
                ? sql`lower(${users.email}) = ${mbox.slice("mailto:".length)}`
                : undefined,
              learnerAccount ? eq(users.avatar, learnerAccount) : undefined,
            ),
          )
          .limit(1)
      : [];

  const mboxes = new Set<string>(agent.mbox ? [agent.mbox] : []);
  const accounts: Account[] = agent.account ? [agent.account] : [];
  const names = new Set<string>(agent.name ? [agent.name] : []);
  if (learner) {
    names.add(learner.name);
    const email = `mailto:${learner.email}`;
    if (![...mboxes].some((m) => m.toLowerCase() === email.toLowerCase())) mboxes.add(email);
    if (!accounts.some((a) => a.homePage.replace(/\/+$/, "") === base && a.name === learner.avatar)) {
      accounts.push({ homePage: base, name: learner.avatar });
    }
  }
  // Names statements gave this person: by the learner's identifiers, or the Agent's mbox/account.
  const actorMboxes = [...mboxes].map((m) => m.toLowerCase());
  const actorAccounts = learner ? [learner.avatar] : [];
  const seen = await db
    .selectDistinct({ name: statementsFlat.actorName })
    .from(statementsFlat)
    .where(
      and(
        isNotNull(statementsFlat.actorName),
        or(
          ...actorMboxes.map((m) => eq(statementsFlat.actorMbox, m)),
          ...actorAccounts.map((name) =>
            and(eq(statementsFlat.actorAccountHomepage, base), eq(statementsFlat.actorAccountName, name)),
          ),
          agent.account && !learner
            ? and(
                eq(statementsFlat.actorAccountHomepage, agent.account.homePage),
                eq(statementsFlat.actorAccountName, agent.account.name),
              )
            : undefined,
          sql`false`,
        ),
      ),
    )
    .limit(MAX_PERSON_NAMES);
  for (const row of seen) if (row.name) names.add(row.name);

  const person: Person = { objectType: "Person" };
  if (names.size) person.name = [...names];
  if (mboxes.size) person.mbox = [...mboxes];
  if (agent.mbox_sha1sum) person.mbox_sha1sum = [agent.mbox_sha1sum];
  if (agent.openid) person.openid = [agent.openid];
  if (accounts.length) person.account = accounts;
  return person;
}
