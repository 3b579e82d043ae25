/**
 * The data model (DESIGN §4). Migrations in `drizzle/` are generated from this file with
 * `npm run db:generate`; never edit a committed migration, add a new one.
 *
 * Terminology:
 * - raw statement: an xAPI statement exactly as stored (`statements_raw.payload`), append-only.
 * - flat row: the queryable projection of one raw statement (`statements_flat`), written by the
 *   stream worker or the incremental sweep, always from the same pure `flattenStatement`.
 */
import { type SQL, sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { VOIDED_VERB } from "../names.ts";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/** Avatar handles: the learner's public handle and xAPI account name. */
export const AVATAR_PATTERN = "^[a-z0-9_-]{3,32}$";

/**
 * What the learners page searches: name, email and avatar, lower-cased, one per line (a line
 * break cannot be typed into the search field, so a match never spans two of them). The
 * `users_search_idx` trigram index is built on exactly this expression; a query must use it
 * as it is for PostgreSQL to read the index.
 */
export function learnerSearchText(t: { name: AnyPgColumn; email: AnyPgColumn; avatar: AnyPgColumn }): SQL {
  return sql`lower(${t.name} || chr(10) || ${t.email} || chr(10) || ${t.avatar})`;
}

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    /** Stored lower-cased; unique case-insensitively. */
    email: text("email").notNull(),
    avatar: text("avatar").notNull(),
    cohortId: text("cohort_id").notNull(),
    /** IANA time zone name, validated on signup. */
    timezone: text("timezone").notNull().default("UTC"),
    remindersEnabled: boolean("reminders_enabled").notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`),
    unique("users_avatar_key").on(t.avatar),
    check("users_avatar_format", sql`${t.avatar} ~ ${sql.raw(`'${AVATAR_PATTERN}'`)}`),
    /** A cohort's learners, and in name order (the learners page, the reports' keyset pages). */
    index("users_cohort_id_name_id_idx").on(t.cohortId, t.name, t.id),
    /** Every learner in name order: the learners page's keyset pages. */
    index("users_name_id_idx").on(t.name, t.id),
    /**
     * Substring search over name, email and avatar (`learnerSearchText`): trigrams of the three,
     * lower-cased, so `like '%ada%'` reads the index instead of every learner (extension pg_trgm).
     */
    index("users_search_idx").using("gin", sql`${learnerSearchText(t)} gin_trgm_ops`),
  ],
);

export const lessons = pgTable(
  "lessons",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    cohortId: text("cohort_id").notNull(),
    /** The xAPI activity IRI that content reports against. */
    activityId: text("activity_id").notNull(),
    title: text("title").notNull(),
    /** Where a learner opens the lesson; linked from reminder emails. */
    url: text("url"),
    /** The day the lesson is due, in each learner's own time zone. */
    lessonDate: date("lesson_date", { mode: "string" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("lessons_cohort_id_activity_id_key").on(t.cohortId, t.activityId),
    index("lessons_lesson_date_idx").on(t.lessonDate),
    index("lessons_activity_id_idx").on(t.activityId),
  ],
);

export const apiCredentials = pgTable(
  "api_credentials",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    /** The Basic auth username content is configured with. */
    key: text("key").notNull(),
    /** scrypt hash of the secret (see `auth/secrets.ts`); the secret itself is never stored. */
    secretHash: text("secret_hash").notNull(),
    /** xAPI scopes (`all`, `statements/write`, `statements/read`, …). */
    scopes: text("scopes").array().notNull().default(sql`'{all}'::text[]`),
    /** True for the credential generated on first start (or taken from PUBLIC_PEM/SECRET_PEM). */
    bootstrap: boolean("bootstrap").notNull().default(false),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [unique("api_credentials_key_key").on(t.key)],
);

export const statementsRaw = pgTable(
  "statements_raw",
  {
    /** The statement id. */
    id: uuid("id").primaryKey(),
    /** Insertion order: a stable cursor for sweeps, consistency and paged statement queries. */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
    /** The statement as stored, with `id`, `stored`, `authority` and `version` set. */
    payload: jsonb("payload").notNull(),
    stored: timestamp("stored", { withTimezone: true, mode: "date" }).notNull(),
    credentialId: uuid("credential_id").references(() => apiCredentials.id, { onDelete: "set null" }),
  },
  (t) => [
    unique("statements_raw_seq_key").on(t.seq),
    index("statements_raw_stored_idx").on(t.stored),
    /** Finds the voiding statement of a target id (few rows: only voiding statements are indexed). */
    index("statements_raw_voided_target_idx")
      .on(sql`(${t.payload}->'object'->>'id')`)
      .where(sql`${t.payload}->'verb'->>'id' = ${sql.raw(`'${VOIDED_VERB}'`)}`),
  ],
);

/**
 * What statement queries find statements by (xAPI Communication §2.1.3): one row per key of a
 * statement (`agent:…`, `related_agent:…`, `verb:…`, `activity:…`, `related_activity:…`,
 * `registration:…`; see `xapi/statementIndexKeys.ts`). Written in the transaction that inserts
 * the statement, so a query sees a statement as soon as its POST has answered. The primary key is
 * the whole row: a filter reads one key's statements already ordered by (`stored`, id), and a
 * second filter is one probe of the same index. Append-only, like `statements_raw`.
 */
export const statementIndex = pgTable(
  "statement_index",
  {
    /** `hashKey` of a readable key such as `activity:<IRI>` (statementIndexKeys.ts). */
    key: uuid("key").notNull(),
    /** The statement's `stored`: the order and the since/until bounds of queries. */
    stored: timestamp("stored", { withTimezone: true, mode: "date" }).notNull(),
    statementId: uuid("statement_id").notNull(),
    /**
     * The statement's verb key (`hashKey` of `verb:<IRI>`), in every row of the statement, so a
     * verb filter beside another key is checked on that key's entries as they are read; the nil
     * uuid (`NO_SINGLE_VERB`) for a statement whose object is a StatementRef (it may take its
     * target's verb key too): check the verb's own entries.
     */
    verb: uuid("verb").notNull().default("00000000-0000-0000-0000-000000000000"),
  },
  (t) => [primaryKey({ name: "statement_index_pkey", columns: [t.key, t.stored, t.statementId, t.verb] })],
);

export const statementsFlat = pgTable(
  "statements_flat",
  {
    statementId: uuid("statement_id")
      .primaryKey()
      .references(() => statementsRaw.id),
    /** `mailto:` IRI, lower-cased. */
    actorMbox: text("actor_mbox"),
    actorAccountHomepage: text("actor_account_homepage"),
    actorAccountName: text("actor_account_name"),
    actorName: text("actor_name"),
    /** The registered learner the actor resolved to, when one existed at flatten time. */
    userId: uuid("user_id"),
    verbId: text("verb_id").notNull(),
    verbDisplay: text("verb_display"),
    objectId: text("object_id").notNull(),
    objectType: text("object_type"),
    objectName: text("object_name"),
    resultSuccess: boolean("result_success"),
    resultCompletion: boolean("result_completion"),
    resultScoreScaled: doublePrecision("result_score_scaled"),
    resultScoreRaw: doublePrecision("result_score_raw"),
    resultDurationMs: bigint("result_duration_ms", { mode: "number" }),
    contextRegistration: uuid("context_registration"),
    timestamp: timestamp("timestamp", { withTimezone: true, mode: "date" }).notNull(),
    stored: timestamp("stored", { withTimezone: true, mode: "date" }).notNull(),
    /** Completion verb or `result.completion = true` (DESIGN §6). */
    isCompletion: boolean("is_completion").notNull().default(false),
    voided: boolean("voided").notNull().default(false),
    /** When the row was written: with `stored`, how long flattening took. */
    flattenedAt: timestamp("flattened_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("statements_flat_user_id_idx").on(t.userId),
    index("statements_flat_actor_mbox_idx").on(t.actorMbox),
    index("statements_flat_actor_account_idx").on(t.actorAccountHomepage, t.actorAccountName),
    index("statements_flat_object_id_idx").on(t.objectId),
    index("statements_flat_timestamp_idx").on(t.timestamp),
    index("statements_flat_stored_idx").on(t.stored),
    /** Lets the report and reminder queries read a lesson's completions from the index alone. */
    index("statements_flat_completion_cover_idx")
      .on(t.objectId, t.userId, t.actorMbox, t.actorAccountHomepage, t.actorAccountName, t.timestamp)
      .where(sql`${t.isCompletion} and not ${t.voided}`),
  ],
);

export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    lessonId: uuid("lesson_id")
      .notNull()
      .references(() => lessons.id, { onDelete: "cascade" }),
    channel: text("channel").notNull().default("email"),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    createdAt: createdAt(),
    /** When the latest attempt claimed the row (status `sending`): the start of its lease. */
    attemptedAt: timestamp("attempted_at", { withTimezone: true, mode: "date" }),
    /**
     * When the latest attempt had handed the whole message to the mail server and was about to end
     * it (the final "." of DATA), so from then on the server may have accepted it. Null before.
     */
    dataSentAt: timestamp("data_sent_at", { withTimezone: true, mode: "date" }),
    sentAt: timestamp("sent_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    /** A learner never gets two reminders for one lesson on one channel. */
    unique("notifications_user_id_lesson_id_channel_key").on(t.userId, t.lessonId, t.channel),
    check("notifications_channel_check", sql`${t.channel} in ('email')`),
    /**
     * `sending`: an attempt is talking to the mail server (since `attempted_at`). `skipped`: the
     * learner completed the lesson or opted out between planning and sending. `unconfirmed`: the
     * message was handed to the mail server but its reply never came back (a crash, a lost
     * connection); it may have been delivered, so it is not sent again (docs/decisions.md).
     */
    check(
      "notifications_status_check",
      sql`${t.status} in ('pending', 'sending', 'sent', 'failed', 'skipped', 'unconfirmed')`,
    ),
    index("notifications_lesson_id_idx").on(t.lessonId),
    index("notifications_status_idx").on(t.status, t.createdAt),
  ],
);

export const taskStatus = pgTable(
  "task_status",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    taskName: text("task_name").notNull(),
    runId: text("run_id").notNull(),
    status: text("status").notNull(),
    attempt: integer("attempt").notNull().default(1),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    detail: jsonb("detail"),
    error: text("error"),
  },
  (t) => [
    check("task_status_status_check", sql`${t.status} in ('started', 'succeeded', 'failed', 'retrying')`),
    index("task_status_task_name_started_at_idx").on(t.taskName, t.startedAt.desc()),
    index("task_status_run_id_idx").on(t.runId),
  ],
);

/**
 * Process-wide settings shared by every replica, such as the key that signs unsubscribe links
 * (generated once, on first start, when not given in the environment).
 */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  createdAt: createdAt(),
});

/**
 * Admin sessions that are live: a session cookie is honoured only while its row exists, so
 * logging out (one row) or "log out everywhere" (every row) ends it on every replica at once.
 * `id` is the SHA-256 of the cookie's session id, not the id itself.
 */
export const adminSessions = pgTable(
  "admin_sessions",
  {
    id: text("id").primaryKey(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [index("admin_sessions_expires_at_idx").on(t.expiresAt)],
);

/** PostgreSQL `bytea` as a Node `Buffer` (`pg` answers a Buffer, PGlite a Uint8Array). */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/**
 * xAPI documents (Communication §2.2): State, Activity Profile and Agent Profile documents, kept
 * as their bytes and content type. `id` is a SHA-256 of the document's full key (`kind`,
 * `activity_id`, `agent`, `registration`, `document_id`) and `scope` one of its context without
 * the registration and the document id (`kind`, `activity_id`, `agent`), so every lookup is one
 * short index entry however long the IRIs are. `agent` is the canonical IFI (xapi/documents/agentKey.ts).
 */
export const xapiDocuments = pgTable(
  "xapi_documents",
  {
    id: text("id").primaryKey(),
    scope: text("scope").notNull(),
    kind: text("kind").notNull(),
    activityId: text("activity_id"),
    agent: text("agent"),
    registration: uuid("registration"),
    /** The `stateId` or `profileId`. */
    documentId: text("document_id").notNull(),
    contentType: text("content_type").notNull(),
    contents: bytea("contents").notNull(),
    /** SHA-1 of `contents`, lower-case hex: the document's ETag (without the quotes). */
    etag: text("etag").notNull(),
    updated: timestamp("updated", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    check("xapi_documents_kind_check", sql`${t.kind} in ('state', 'activity_profile', 'agent_profile')`),
    index("xapi_documents_scope_idx").on(t.scope, t.updated),
  ],
);

/**
 * xAPI attachment contents (Data §2.4.11), stored once per `sha2` however many statements name
 * them. A statement keeps its attachment objects in its payload; this table holds only the bytes
 * that arrived as parts of a `multipart/mixed` request (a `fileUrl` attachment sent without a
 * part has no row). `sha2` is the lower-case hex hash the statement gives.
 */
export const xapiAttachments = pgTable("xapi_attachments", {
  sha2: text("sha2").primaryKey(),
  /** The part's `Content-Type` as sent. */
  contentType: text("content_type").notNull(),
  /** Bytes of `contents`. */
  length: integer("length").notNull(),
  contents: bytea("contents").notNull(),
  created: timestamp("created", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * xAPI requests the LRS refused (every 4xx and 5xx answer under `/xapi`), so an operator sees a
 * content author's misconfiguration: a wrong key, a missing version header, an invalid statement.
 * Written off the request path in batches (`xapi/failureLog.ts`) and kept bounded, pruned by age
 * and by count (`XAPI_LOG_MAX_AGE`, `XAPI_LOG_MAX_ROWS`). Never holds a secret: no header is kept,
 * and the credential is the key presented, never its secret.
 */
export const xapiFailedRequests = pgTable(
  "xapi_failed_requests",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** When the refusal was answered. */
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
    method: text("method").notNull(),
    /** The path asked for, without the query (a cmi5 fetch token masked). */
    path: text("path").notNull(),
    /** The query string, at most 1 KiB, credentials-like parameters masked. */
    query: text("query"),
    status: integer("status").notNull(),
    /** The answer's machine-readable `error` code and its `message`. */
    errorCode: text("error_code"),
    message: text("message"),
    /** The key of the Basic credential presented (never its secret). */
    credentialKey: text("credential_key"),
    /**
     * `verified`: the request was authenticated as that credential; `unverified`: a key was
     * presented but not accepted (wrong secret, unknown or revoked key, refused before the check);
     * `none`: no Basic credential at all.
     */
    credentialStatus: text("credential_status").notNull(),
    /** The credential's row when verified (no foreign key: the log outlives a deleted credential). */
    credentialId: uuid("credential_id"),
    /** `X-Experience-API-Version` as sent (at most 64 characters). */
    xapiVersion: text("xapi_version"),
    contentType: text("content_type"),
    /** The first 1,024 bytes of the body as text (NUL and invalid bytes replaced); null when not read. */
    body: text("body"),
    /** The whole body's length in bytes, when known. */
    bodyBytes: bigint("body_bytes", { mode: "number" }),
    clientAddress: text("client_address"),
    requestId: text("request_id"),
  },
  (t) => [
    check(
      "xapi_failed_requests_credential_status_check",
      sql`${t.credentialStatus} in ('verified', 'unverified', 'none')`,
    ),
    index("xapi_failed_requests_at_idx").on(t.at),
  ],
);

export type User = typeof users.$inferSelect;
export type Lesson = typeof lessons.$inferSelect;
export type ApiCredential = typeof apiCredentials.$inferSelect;
