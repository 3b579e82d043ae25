/**
 * Flattening: one stored xAPI statement → one `statements_flat` row (DESIGN §4, §5.5). Pure: the
 * stream worker and the incremental sweep both call it and do the IO around it.
 *
 * Terminology:
 * - raw statement: the statement as stored in `statements_raw.payload` (validated, with `id`,
 *   `stored` and `timestamp` set by ingestion).
 * - flat row: its queryable projection. `userId` is resolved later, against `users`, by the
 *   writer (it needs the database); `voided` is set later by the voiding step.
 * - IFI: an Agent's or Group's inverse functional identifier (mbox, mbox_sha1sum, openid, account).
 *
 * How objects that are not Activities get an `objectId` (the column is NOT NULL):
 * - StatementRef: the referenced statement's id.
 * - Agent / identified Group: its IFI as one string: the lower-cased `mailto:` IRI (as actorMbox),
 *   `mbox_sha1sum:<hex, lower-cased>`, the `openid` IRI as sent, or `account:<homePage>#<name>`.
 * - anonymous Group: `anonymous-group:<statement id>`, because the spec says every anonymous group
 *   is distinct even with identical members (xAPI 1.0.3 §2.4.2.2.s3.b1).
 * - SubStatement: `substatement:<the SubStatement's own object id>`. The prefix keeps it from ever
 *   equalling a lesson's activity IRI: "Ana planned (Ana completes lesson 1)" completes nothing.
 */
import { isCompletionStatement } from "../data/completion.ts";
import type { statementsFlat } from "../db/schema.ts";
import type {
  Actor,
  Agent,
  Group,
  LanguageMap,
  StatementObject,
  StoredStatement,
} from "../xapi/validateStatement.ts";

export type FlatRow = typeof statementsFlat.$inferInsert;

export interface FlattenContext {
  /** Verb IRIs that mean "completed the lesson" (`COMPLETION_VERBS`). */
  completionVerbs: ReadonlySet<string>;
  /**
   * `PUBLIC_BASE_URL`, without a trailing slash: the `homePage` of learners' xAPI accounts. An
   * actor account whose homePage is this URL with trailing slashes is stored as exactly this URL,
   * so `{homePage: "http://lrs.example.com/"}` still finds the learner.
   */
  publicBaseUrl: string;
}

/**
 * Projects a stored statement onto a flat row. Throws only if `timestamp` or `stored` is not a
 * date, which a validated, stored statement never has.
 */
export function flattenStatement(raw: StoredStatement, context: FlattenContext): FlatRow {
  const { actor, verb, object } = raw;
  const result = raw.result;
  const score = result?.score;
  const ifi = actorIdentifiers(actor, context);
  return {
    statementId: raw.id,
    actorMbox: ifi.mbox,
    actorAccountHomepage: ifi.accountHomePage,
    actorAccountName: ifi.accountName,
    actorName: actor.name ?? null,
    userId: null,
    verbId: verb.id,
    verbDisplay: pickLanguage(verb.display),
    objectId: objectIdentifier(object, raw.id),
    objectType: object.objectType ?? "Activity",
    objectName: objectName(object),
    resultSuccess: result?.success ?? null,
    resultCompletion: result?.completion ?? null,
    resultScoreScaled: score?.scaled ?? null,
    resultScoreRaw: score?.raw ?? null,
    resultDurationMs: result?.duration === undefined ? null : parseIsoDurationMs(result.duration),
    contextRegistration: raw.context?.registration ?? null,
    timestamp: toDate(raw.timestamp, "timestamp", raw.id),
    stored: toDate(raw.stored, "stored", raw.id),
    isCompletion: isCompletionStatement(verb.id, result?.completion, context.completionVerbs),
    voided: false,
  };
}

/**
 * The text of a language map in the preferred language: `en-US`, then `en`, then any other
 * English (`en-GB`), then the first entry; null for a missing or empty map. Tags compare
 * case-insensitively, as RFC 5646 says they do.
 */
export function pickLanguage(map: LanguageMap | undefined): string | null {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return null;
  const lower = entries.map(([tag, text]) => [tag.toLowerCase(), text] as const);
  return (
    lower.find(([tag]) => tag === "en-us")?.[1] ??
    lower.find(([tag]) => tag === "en")?.[1] ??
    lower.find(([tag]) => tag.startsWith("en-"))?.[1] ??
    entries[0]![1]
  );
}

const DURATION_NUMBER = "(\\d+(?:[.,]\\d+)?)";
const DURATION = new RegExp(
  `^P(?:${DURATION_NUMBER}W|(?=\\d|T\\d)(?:${DURATION_NUMBER}Y)?(?:${DURATION_NUMBER}M)?(?:${DURATION_NUMBER}D)?` +
    `(?:T(?=\\d)(?:${DURATION_NUMBER}H)?(?:${DURATION_NUMBER}M)?(?:${DURATION_NUMBER}S)?)?)$`,
);

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;
/** Week, year, month, day, hour, minute, second: the units of the DURATION groups, in order. */
const DURATION_UNITS_MS = [
  7 * MS_PER_DAY,
  365 * MS_PER_DAY,
  30 * MS_PER_DAY,
  MS_PER_DAY,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  MS_PER_SECOND,
];

/**
 * Milliseconds in an ISO 8601 duration (`PT1H30M` → 5 400 000), rounded to a whole millisecond;
 * null when `duration` is not one. A duration has no fixed length in general (months and years
 * vary, xAPI 1.0.3 §2.3.1), so this is for reporting only: a year counts 365 days, a month 30 days,
 * a week 7 days, a day 24 hours. Fractions (`PT0.5S`, `PT0,5S`) are accepted on any unit here;
 * validation is stricter. Also null for durations too long to count in milliseconds exactly.
 */
export function parseIsoDurationMs(duration: string): number | null {
  const match = DURATION.exec(duration);
  if (!match) return null;
  let total = 0;
  for (const [index, unitMs] of DURATION_UNITS_MS.entries()) {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount.replace(",", ".")) * unitMs;
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : null;
}

interface ActorIdentifiers {
  mbox: string | null;
  accountHomePage: string | null;
  accountName: string | null;
}

/** The actor's own IFI columns. A Group's members never stand in for the Group. */
function actorIdentifiers(actor: Actor, context: FlattenContext): ActorIdentifiers {
  const account = actor.account;
  return {
    mbox: actor.mbox === undefined ? null : actor.mbox.toLowerCase(),
    accountHomePage:
      account === undefined ? null : normalizeHomePage(account.homePage, context.publicBaseUrl),
    accountName: account?.name ?? null,
  };
}

function normalizeHomePage(homePage: string, publicBaseUrl: string): string {
  const base = publicBaseUrl.replace(/\/+$/, "");
  return homePage.replace(/\/+$/, "") === base ? base : homePage;
}

function agentIdentifier(agent: Agent | Group): string | undefined {
  if (agent.mbox !== undefined) return agent.mbox.toLowerCase();
  if (agent.mbox_sha1sum !== undefined) return `mbox_sha1sum:${agent.mbox_sha1sum.toLowerCase()}`;
  if (agent.openid !== undefined) return agent.openid;
  if (agent.account !== undefined) return `account:${agent.account.homePage}#${agent.account.name}`;
  return undefined;
}

function objectIdentifier(object: StatementObject, statementId: string): string {
  switch (object.objectType) {
    case undefined:
    case "Activity":
    case "StatementRef":
      return object.id;
    case "Agent":
      return agentIdentifier(object) ?? `anonymous-agent:${statementId}`;
    case "Group":
      return agentIdentifier(object) ?? `anonymous-group:${statementId}`;
    case "SubStatement":
      return `substatement:${objectIdentifier(object.object, statementId)}`;
  }
}

/** An Activity's definition name, or an Agent's or Group's name; null for statement objects. */
function objectName(object: StatementObject): string | null {
  switch (object.objectType) {
    case undefined:
    case "Activity":
      return pickLanguage(object.definition?.name);
    case "Agent":
    case "Group":
      return object.name ?? null;
    default:
      return null;
  }
}

function toDate(value: string, field: "timestamp" | "stored", statementId: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`statement ${statementId}: ${field} ${JSON.stringify(value)} is not a date`);
  }
  return date;
}
