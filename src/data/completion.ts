/**
 * The completion rule (DESIGN §6), written once. Every report, the reminders, the dashboard, the
 * DB terminal, signup and the flattener build their SQL from the pieces here, so they cannot
 * disagree about who completed what.
 *
 * The rule: a statement completes a lesson when
 * 1. its verb is one of COMPLETION_VERBS or its `result.completion` is true
 *    (`isCompletionStatement`, stored on the flat row as `is_completion` when it is flattened),
 * 2. it is not voided (`voided`, kept up to date by the flat-row writer),
 * 3. its object id equals the lesson's `activity_id`, and
 * 4. its actor is a learner of the lesson's cohort: the flat row was resolved to them
 *    (`user_id`), or its actor is their mailbox, `mailto:<email>` compared case-insensitively
 *    (flat rows hold the mailbox lower-cased; the learner's email is lower-cased here too), or
 *    the account `{homePage: PUBLIC_BASE_URL, name: <avatar>}`.
 * Matching by mailbox and account, not only by `user_id`, is what makes statements sent before
 * the learner signed up, or before the lesson was added, count as soon as both exist.
 *
 * SQL aliases: the pieces refer to `statements_flat` as `f` and `users` as `u`; the query that
 * uses them names its tables so. Two shapes of rule 4, for two kinds of query:
 * - `actorIsLearner`, an OR of three indexed conditions, for one learner at a time (a learner's
 *   rows, "has this learner completed this lesson"): PostgreSQL answers it with a BitmapOr of the
 *   user_id, mailbox and account indexes.
 * - `completedCtes`, three equi-join branches in a `union all`, for whole cohorts or days: an OR
 *   in a join condition would force a nested loop over every pair, while each branch here is a
 *   hash join fed by the partial completion index.
 * `learnerOfActor` is rule 4 read the other way round (from an actor to the learner), for the
 * flattener, which resolves `user_id` through the `lower(email)` unique index.
 */
import { type SQL, sql } from "drizzle-orm";

/**
 * Rule 1 in TypeScript: whether a statement with this verb and `result.completion` is a
 * completion (before the lesson, learner and voiding checks, which need the database).
 */
export function isCompletionStatement(
  verbId: string,
  resultCompletion: boolean | null | undefined,
  completionVerbs: ReadonlySet<string>,
): boolean {
  return completionVerbs.has(verbId) || resultCompletion === true;
}

/** Rules 1 and 2 on a flat row `f`: a completion that is not voided. */
export const COMPLETING_ROW: SQL = sql`f.is_completion and not f.voided`;

/** The `actor_mbox` of a learner with this email: `mailto:` and the email, lower-cased. */
export function mailboxOf(email: SQL): SQL {
  return sql`'mailto:' || lower(${email})`;
}

/** `publicBaseUrl` as a text parameter; null matches no account. */
function homePage(publicBaseUrl: string | null | undefined): SQL {
  return sql`${publicBaseUrl ?? null}::text`;
}

/**
 * Rule 4 without `user_id`: the actor of flat row `f` is learner `u` by mailbox or by account.
 * Signup uses it to give earlier statements their learner.
 */
export function actorIdentifiesLearner(publicBaseUrl: string | null | undefined): SQL {
  return sql`(f.actor_mbox = ${mailboxOf(sql`u.email`)}
    or (f.actor_account_homepage = ${homePage(publicBaseUrl)} and f.actor_account_name = u.avatar))`;
}

/** Rule 4 for one learner `u` at a time: flat row `f` was resolved to them, or its actor is them. */
export function actorIsLearner(publicBaseUrl: string | null | undefined): SQL {
  return sql`(f.user_id = u.id or ${actorIdentifiesLearner(publicBaseUrl)})`;
}

/**
 * Rule 4 from the actor's side, for a row `i` with `actor_mbox` (lower-cased) and
 * `actor_account_homepage`/`actor_account_name`: the id of the learner it names, or null. The
 * mailbox look-up uses the `lower(email)` unique index.
 */
export function learnerOfActor(publicBaseUrl: string | null | undefined): SQL {
  return sql`coalesce(
    (select u.id from users u
      where i.actor_mbox like 'mailto:%' and lower(u.email) = substr(i.actor_mbox, 8)),
    (select u.id from users u
      where i.actor_account_homepage = ${homePage(publicBaseUrl)} and u.avatar = i.actor_account_name))`;
}

/**
 * The whole rule, set-based: two CTEs over `lessons`, a table or CTE name with columns
 * (id, cohort_id, activity_id).
 * - `completions`: the completing, non-voided flat rows of those lessons' activities
 *   (lesson_id, cohort_id, user_id, the actor columns, timestamp), read from the partial
 *   completion index alone.
 * - `completed`: one row (user_id, lesson_id, timestamp) per completing statement and learner of
 *   the lesson's cohort it belongs to. A statement that matches a learner two ways (resolved to
 *   them and their mailbox) is one row. Group it by (user_id, lesson_id) for "completed", or
 *   take `min(timestamp)` for when.
 * Start the `with` yourself: `sql\`with due as (...), ${completedCtes(sql.raw("due"), url)} select ...\``.
 *
 * `cohortId`: when every lesson is of one cohort, say which. A third CTE, `cohort_learners`
 * (id, name, email, avatar, cohort_id), then holds its learners, read once through the cohort
 * index, and the branches join it instead of `users`: the planner cannot see a cohort through
 * the lessons CTE, and would otherwise read every learner.
 */
export function completedCtes(
  lessons: SQL,
  publicBaseUrl: string | null | undefined,
  cohortId?: string | SQL,
): SQL {
  const learners = cohortId === undefined ? sql.raw("users") : sql.raw("cohort_learners");
  const learnersCte =
    cohortId === undefined
      ? sql``
      : sql`cohort_learners as (select id, name, email, avatar, cohort_id from users where cohort_id = ${cohortId}),`;
  return sql`
    ${learnersCte}
    completions as (
      select l.id as lesson_id, l.cohort_id, f.user_id, f.actor_mbox, f.actor_account_homepage,
             f.actor_account_name, f."timestamp"
      from ${lessons} l
      join statements_flat f on f.object_id = l.activity_id and ${COMPLETING_ROW}
    ),
    completed as (
      select u.id as user_id, c.lesson_id, c."timestamp" from completions c
      join ${learners} u on u.id = c.user_id and u.cohort_id = c.cohort_id
      union all
      select u.id, c.lesson_id, c."timestamp" from completions c
      join ${learners} u on u.cohort_id = c.cohort_id and c.actor_mbox = ${mailboxOf(sql`u.email`)}
      where c.user_id is distinct from u.id
      union all
      select u.id, c.lesson_id, c."timestamp" from completions c
      join ${learners} u on u.cohort_id = c.cohort_id and c.actor_account_name = u.avatar
      where c.actor_account_homepage = ${homePage(publicBaseUrl)} and c.user_id is distinct from u.id
    )`;
}

/**
 * Whether learner `u` has completed the lesson whose activity is `activityId`, as an SQL
 * boolean (the lesson is assumed to be of the learner's cohort, as every caller's is).
 */
export function learnerCompleted(activityId: SQL | string, publicBaseUrl: string | null | undefined): SQL {
  return sql`exists (
    select 1 from statements_flat f
    where f.object_id = ${activityId} and ${COMPLETING_ROW} and ${actorIsLearner(publicBaseUrl)})`;
}
