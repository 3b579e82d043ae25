/**
 * The string formats of xAPI statements (UUIDs, IRIs, timestamps, durations, language tags, …)
 * as predicates, registered as Ajv formats for `statementSchema.ts`. Decisions where the spec
 * leaves room are listed in `validateStatement.ts`.
 */
import type { Ajv } from "ajv";

/**
 * Identifiers longer than this are refused: they are indexed (object, actor), and PostgreSQL's
 * b-tree refuses entries over about 2,700 bytes, which would make the statement impossible to flatten.
 */
export const MAX_IRI_LENGTH = 2048;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Scheme, then at least one character; no whitespace, control characters, `<`, `>` or `"`. */
const IRI = /^[a-z][a-z0-9+.-]*:[^\s\p{Cc}<>"]+$/iu;
const IRL = /^[a-z][a-z0-9+.-]*:\/\/[^\s\p{Cc}<>"/?#]/iu;
const HTTP_WITHOUT_HOST = /^https?:(?!\/\/[^\s/?#])/i;
const MAILTO =
  /^mailto:[^\s\p{Cc}@<>()[\]\\,;:"]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$/iu;
const SHA1_HEX = /^[0-9a-f]{40}$/i;
/** SHA-224, -256, -384 or -512, hex-encoded. */
const SHA2_HEX = /^(?:[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/i;
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(?:\s*;.*)?$/;
const VERSION_1_0 = /^1\.0(?:\.\d+)?$/;
const VERSION_2_0 = /^2\.0(?:\.\d+)?$/;

/** RFC 5646 `Language-Tag`, well-formedness only (the token sequence and lengths, §2.2.s4.b2). */
const LANGUAGE_TAG = new RegExp(
  "^(?:" +
    // langtag: language (with up to three extlangs), script, region, variants, extensions, private use
    "(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})" +
    "(?:-[a-z]{4})?" +
    "(?:-(?:[a-z]{2}|\\d{3}))?" +
    "(?:-(?:[a-z\\d]{5,8}|\\d[a-z\\d]{3}))*" +
    "(?:-[\\da-wy-z](?:-[a-z\\d]{2,8})+)*" +
    "(?:-x(?:-[a-z\\d]{1,8})+)?" +
    // private use only, and the irregular grandfathered tags
    "|x(?:-[a-z\\d]{1,8})+" +
    "|en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao" +
    "|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE" +
    ")$",
  "i",
);

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

export function isIri(value: string): boolean {
  return IRI.test(value) && !HTTP_WITHOUT_HOST.test(value);
}

function isIrl(value: string): boolean {
  return isIri(value) && IRL.test(value);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function isTimestamp(value: string): boolean {
  const match = TIMESTAMP.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const [sign, offsetHour, offsetMinute] = [match[7], Number(match[8] ?? 0), Number(match[9] ?? 0)];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return false;
  if (hour! > 23 || minute! > 59 || second! > 59) return false;
  if (offsetHour > 23 || offsetMinute > 59) return false;
  // RFC 3339 §4.3: "-00:00" means the offset is unknown, which a point in time cannot be.
  return !(sign === "-" && offsetHour === 0 && offsetMinute === 0);
}

const NUMBER = "\\d+(?:[.,]\\d+)?";
const DURATION = new RegExp(
  `^P(?:(${NUMBER})W|(?=\\d|T\\d)(?:(${NUMBER})Y)?(?:(${NUMBER})M)?(?:(${NUMBER})D)?` +
    `(?:T(?=\\d)(?:(${NUMBER})H)?(?:(${NUMBER})M)?(?:(${NUMBER})S)?)?)$`,
);

function isDuration(value: string): boolean {
  const match = DURATION.exec(value);
  if (!match) return false;
  // ISO 8601: only the smallest unit given may carry a decimal fraction.
  const given = match.slice(1).filter((part): part is string => part !== undefined);
  return given.slice(0, -1).every((part) => !/[.,]/.test(part));
}

/** The formats `statementSchema.ts` names, each a predicate on a string. */
export const STATEMENT_FORMATS = {
  "xapi-uuid": (text: string) => UUID.test(text),
  "xapi-iri": isIri,
  "xapi-irl": isIrl,
  "xapi-mailto": (text: string) => MAILTO.test(text),
  "xapi-sha1": (text: string) => SHA1_HEX.test(text),
  "xapi-sha2": (text: string) => SHA2_HEX.test(text),
  "xapi-media-type": (text: string) => MEDIA_TYPE.test(text),
  "xapi-language-tag": (text: string) => LANGUAGE_TAG.test(text),
  "xapi-timestamp": isTimestamp,
  "xapi-duration": isDuration,
  /** `version` in a 1.0.3 request: §2.4.10, "starts with 1.0.". */
  "xapi-version-1.0.3": (text: string) => VERSION_1_0.test(text),
  /** `version` in a 2.0.0 request: the 2.0 data model is a superset of 1.0. */
  "xapi-version-2.0.0": (text: string) => VERSION_1_0.test(text) || VERSION_2_0.test(text),
} satisfies Record<string, (text: string) => boolean>;

export type StatementFormat = keyof typeof STATEMENT_FORMATS;

export function addStatementFormats(ajv: Ajv): void {
  for (const [name, validate] of Object.entries(STATEMENT_FORMATS)) {
    ajv.addFormat(name, { type: "string", validate });
  }
}
