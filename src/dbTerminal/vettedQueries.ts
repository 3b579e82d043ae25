/**
 * The DB terminal's prebuilt queries (plan a.07b, DESIGN §9): the only SQL the admin area and
 * `/api/debug/query` can run. There is no free-form path: a caller picks a query by name and
 * fills its declared parameters, which `executeSafeQuery` validates and binds.
 *
 * Terminology:
 * - descriptor: what a query is and which parameters it takes (`QueryDescriptor`); plain data,
 *   listed by the API and rendered as a form by the UI.
 * - prebuilt query: a descriptor plus its `sql` builder. Builders use only Drizzle's `sql`
 *   template, so every parameter value reaches PostgreSQL as a bound parameter, never as text
 *   spliced into the statement.
 *
 * Rules for builders: select only (the executor runs them in a read-only transaction anyway);
 * give every column a unique name (results are `columns` + positional `rows`); cast optional
 * parameters (`${p.x}::text is null or ...`) so PostgreSQL can type a null; format dates with
 * `to_char` so both drivers give the same text.
 */
import { type SQL, sql } from "drizzle-orm";
import { actorIsLearner, completedCtes, mailboxOf } from "../data/completion.ts";

export type ParamType = "string" | "integer" | "date" | "uuid" | "enum" | "email";

/** A parameter value after validation: integers are numbers, everything else a string. */
export type ParamValue = string | number;

export interface ParamDescriptor {
  name: string;
  /**
   * - `string`: 1 to `maxLength` characters (at most 200), no NUL;
   * - `integer`: a JSON integer between `min` and `max`;
   * - `date`: a calendar date `YYYY-MM-DD`;
   * - `uuid`: a UUID, any version, compared lower-cased;
   * - `enum`: one of `values`;
   * - `email`: an email address, compared lower-cased.
   */
  type: ParamType;
  required: boolean;
  /** Used when the parameter is not given; a parameter with a default is never null. */
  default?: ParamValue;
  /** Bounds of an `integer`, inclusive. */
  min?: number;
  max?: number;
  /** Longest accepted `string` (never more than 200). */
  maxLength?: number;
  /** The accepted values of an `enum`. */
  values?: string[];
  description: string;
}

/** What the API lists and the UI renders: a prebuilt query without its SQL. */
export interface QueryDescriptor {
  /** Stable, kebab-case; what callers send as `name`. */
  name: string;
  title: string;
  description: string;
  params: ParamDescriptor[];
  /** Exactly one of these (optional) parameters must be given. */
  requireOneOf?: string[];
}

/**
 * Validated parameters: every declared parameter is present, as its value, its default, or null
 * when it is optional, has no default and was not given.
 */
export type QueryParams = Readonly<Record<string, ParamValue | null>>;

/** What builders may use besides the parameters. */
export interface QueryContext {
  /** `PUBLIC_BASE_URL`: the `homePage` of learners' xAPI accounts; null matches accounts only through `user_id`. */
  publicBaseUrl: string | null;
}

export interface PrebuiltQuery extends QueryDescriptor {
  sql: (params: QueryParams, context: QueryContext) => SQL;
}

/** Longest string any parameter accepts. */
export const MAX_STRING_PARAM_LENGTH = 200;

const limitParam = (defaultValue: number, max = 500): ParamDescriptor => ({
  name: "limit",
  type: "integer",
  required: false,
  default: defaultValue,
  min: 1,
  max,
  description: `rows to return (1–${max}, default ${defaultValue})`,
});

const cohortIdParam = (required: boolean): ParamDescriptor => ({
  name: "cohortId",
  type: "string",
  required,
  maxLength: 64,
  description: required ? "the cohort" : "only this cohort",
});

const PREBUILT_QUERIES: readonly PrebuiltQuery[] = [
  {
    name: "recent-statements",
    title: "Recent statements",
    description:
      "The newest raw statements as stored: id, stored time, actor (mailbox, account or name), verb and " +
      "object ids, and whether a flat row exists yet.",
    params: [limitParam(50)],
    sql: (p) => sql`
      select r.id, r.stored,
        coalesce(
          r.payload->'actor'->>'mbox',
          (r.payload->'actor'->'account'->>'homePage') || '#' || (r.payload->'actor'->'account'->>'name'),
          r.payload->'actor'->>'name',
          r.payload->'actor'->>'objectType'
        ) as actor,
        r.payload->'verb'->>'id' as verb,
        r.payload->'object'->>'id' as object,
        exists (select 1 from statements_flat f where f.statement_id = r.id) as flattened
      from statements_raw r
      order by r.stored desc, r.seq desc
      limit ${p.limit}::int`,
  },
  {
    name: "learner-flat-rows",
    title: "A learner's flat rows",
    description:
      "The flat rows of one learner, newest first: those resolved to them (user_id) and those whose actor " +
      "is their mailbox or account, including statements sent before they signed up. Give email or avatar.",
    params: [
      { name: "email", type: "email", required: false, description: "the learner's email" },
      { name: "avatar", type: "string", required: false, maxLength: 32, description: "the learner's avatar" },
      limitParam(100),
    ],
    requireOneOf: ["email", "avatar"],
    sql: (p, context) => sql`
      with learner as (
        select id, email, avatar from users
        where lower(email) = ${p.email}::text or avatar = ${p.avatar}::text
      )
      select f.statement_id, f.timestamp, f.stored, f.verb_id, f.object_id, f.object_name,
        f.is_completion, f.voided, f.result_completion, f.result_success, f.result_score_scaled,
        f.user_id, f.actor_mbox, f.actor_account_homepage, f.actor_account_name, f.flattened_at
      from statements_flat f
      where f.actor_mbox = ${mailboxOf(sql`${p.email}::text`)}
        or (f.actor_account_homepage = ${context.publicBaseUrl}::text and f.actor_account_name = ${p.avatar}::text)
        or exists (select 1 from learner u where ${actorIsLearner(context.publicBaseUrl)})
      order by f.timestamp desc, f.statement_id
      limit ${p.limit}::int`,
  },
  {
    name: "completions-by-lesson",
    title: "Completions by lesson",
    description:
      "For each lesson of a cohort (optionally only those due on one day): how many learners the cohort " +
      "has, how many completed the lesson and how many did not.",
    params: [
      cohortIdParam(true),
      { name: "lessonDate", type: "date", required: false, description: "only lessons due on this day" },
    ],
    sql: (p, context) => sql`
      with lesson_set as (
        select id, cohort_id, activity_id, title, lesson_date from lessons
        where cohort_id = ${p.cohortId}::text
          and (${p.lessonDate}::date is null or lesson_date = ${p.lessonDate}::date)
      ),
      ${completedCtes(sql.raw("lesson_set"), context.publicBaseUrl, sql`${p.cohortId}::text`)}
      select l.id as lesson_id, to_char(l.lesson_date, 'YYYY-MM-DD') as lesson_date, l.title, l.activity_id,
        count(u.id)::int as learners,
        (count(u.id) filter (where c.user_id is not null))::int as completed,
        (count(u.id) filter (where c.user_id is null))::int as incomplete
      from lesson_set l
      left join users u on u.cohort_id = l.cohort_id
      left join completed c on c.user_id = u.id and c.lesson_id = l.id
      group by l.id, l.lesson_date, l.title, l.activity_id
      order by l.lesson_date, l.title, l.id`,
  },
  {
    name: "incomplete-learners-for-date",
    title: "Incomplete learners for a date",
    description:
      "Every learner with a lesson due on the date that they have not completed, whether or not they " +
      "receive reminders (see reminders_enabled).",
    params: [
      { name: "date", type: "date", required: true, description: "the day lessons are due" },
      cohortIdParam(false),
    ],
    sql: (p, context) => sql`
      with lesson_set as (
        select id, cohort_id, activity_id, title, lesson_date from lessons
        where lesson_date = ${p.date}::date
          and (${p.cohortId}::text is null or cohort_id = ${p.cohortId}::text)
      ),
      ${completedCtes(sql.raw("lesson_set"), context.publicBaseUrl)}
      select l.cohort_id, to_char(l.lesson_date, 'YYYY-MM-DD') as lesson_date, l.id as lesson_id,
        l.title as lesson_title, u.id as user_id, u.avatar, u.email, u.name, u.timezone, u.reminders_enabled
      from lesson_set l
      join users u on u.cohort_id = l.cohort_id
      where not exists (select 1 from completed c where c.user_id = u.id and c.lesson_id = l.id)
      order by l.cohort_id, l.title, l.id, u.avatar`,
  },
  {
    name: "notifications-by-status",
    title: "Notifications by status",
    description:
      "Reminder notifications, newest first, with their learner and lesson: in one status, or in any when none is chosen.",
    params: [
      {
        name: "status",
        type: "enum",
        required: false,
        values: ["pending", "sending", "sent", "failed", "skipped", "unconfirmed"],
        description: "only this status: pending, sending, sent, failed, skipped or unconfirmed",
      },
      { name: "lessonId", type: "uuid", required: false, description: "only this lesson" },
      limitParam(100),
    ],
    sql: (p) => sql`
      select n.id, n.status, n.channel, n.attempts, n.error, n.created_at, n.attempted_at, n.data_sent_at,
        n.sent_at,
        u.avatar, u.email, l.id as lesson_id, l.title as lesson_title,
        to_char(l.lesson_date, 'YYYY-MM-DD') as lesson_date
      from notifications n
      join users u on u.id = n.user_id
      join lessons l on l.id = n.lesson_id
      where (${p.status}::text is null or n.status = ${p.status}::text)
        and (${p.lessonId}::uuid is null or n.lesson_id = ${p.lessonId}::uuid)
      order by n.created_at desc, n.id
      limit ${p.limit}::int`,
  },
  {
    name: "task-runs",
    title: "Task runs",
    description:
      "The newest task_status rows (one per attempt of a scheduled or manual task run), with how long each took.",
    params: [
      { name: "taskName", type: "string", required: false, maxLength: 100, description: "only this task" },
      {
        name: "status",
        type: "enum",
        required: false,
        values: ["started", "succeeded", "failed", "retrying"],
        description: "only attempts in this state",
      },
      limitParam(50),
    ],
    sql: (p) => sql`
      select id, task_name, run_id, status, attempt, started_at, finished_at,
        round(extract(epoch from (finished_at - started_at)) * 1000)::bigint as duration_ms,
        error, detail
      from task_status
      where (${p.taskName}::text is null or task_name = ${p.taskName}::text)
        and (${p.status}::text is null or status = ${p.status}::text)
      order by started_at desc, id desc
      limit ${p.limit}::int`,
  },
  {
    name: "etl-backlog",
    title: "ETL backlog",
    description:
      "Where flattening stands: raw and flat row counts, raw statements without a flat row, and the newest " +
      "stored and flattened times (one row).",
    params: [],
    sql: () => sql`
      select
        (select count(*) from statements_raw) as raw_count,
        (select count(*) from statements_flat) as flat_count,
        (select count(*) from statements_raw r
          where not exists (select 1 from statements_flat f where f.statement_id = r.id)) as unflattened_count,
        (select min(r.stored) from statements_raw r
          where not exists (select 1 from statements_flat f where f.statement_id = r.id)) as oldest_unflattened_stored,
        (select max(stored) from statements_raw) as newest_raw_stored,
        (select max(stored) from statements_flat) as newest_flat_stored,
        (select max(flattened_at) from statements_flat) as newest_flattened_at`,
  },
];

const BY_NAME = new Map(PREBUILT_QUERIES.map((query) => [query.name, query]));

/** Every prebuilt query, in display order. */
export function getPrebuiltQueries(): readonly PrebuiltQuery[] {
  return PREBUILT_QUERIES;
}

/** The prebuilt query called `name`, if there is one. */
export function findPrebuiltQuery(name: string): PrebuiltQuery | undefined {
  return BY_NAME.get(name);
}

/** The descriptors (no SQL), for the API and the UI: copies, free to change. */
export function getQueryDescriptors(): QueryDescriptor[] {
  return PREBUILT_QUERIES.map(({ sql: _sql, ...descriptor }) => structuredClone(descriptor));
}
