/**
 * A small CSV encoder for the reports (RFC 4180): a header row, CRLF line ends, and a field
 * quoted (with inner quotes doubled) when it holds a comma, a quote, CR or LF.
 *
 * Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in
 * some, a tab or CR) as a formula, and learner-supplied text (a name such as
 * `=HYPERLINK("http://evil.example", "click")`) reaches these files. Such a text cell is written
 * with a leading `'`, which spreadsheets treat as "this is text" (OWASP's advice). Numbers,
 * booleans and dates are written as they are: a negative score stays `-0.5`, not `'-0.5`.
 * No byte-order mark is written: the response says `charset=utf-8`.
 */
import type { CompletionRow, IncompleteRow } from "../data/completionReports.ts";
import type { User } from "../db/schema.ts";

export type CsvValue = string | number | boolean | null | undefined;

export interface CsvColumn<T> {
  header: string;
  value: (row: T) => CsvValue;
}

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** One field: null and undefined are empty; text that a spreadsheet would run is neutralised. */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value !== "string") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, with its CRLF. */
export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/**
 * The CSV text of `pages`, as chunks: the header line first, then one chunk per page. Pages are
 * pulled one at a time, so a consumer that reads slowly (a `Readable.from` behind a slow client)
 * holds back the next query instead of buffering the whole report.
 */
export async function* toCsv<T>(
  columns: readonly CsvColumn<T>[],
  pages: AsyncIterable<readonly T[]>,
): AsyncGenerator<string> {
  yield csvLine(columns.map((column) => column.header));
  for await (const page of pages) {
    if (page.length === 0) continue;
    let chunk = "";
    for (const row of page) chunk += csvLine(columns.map((column) => column.value(row)));
    yield chunk;
  }
}

export const COMPLETION_CSV_COLUMNS: readonly CsvColumn<CompletionRow>[] = [
  { header: "userId", value: (row) => row.userId },
  { header: "name", value: (row) => row.name },
  { header: "email", value: (row) => row.email },
  { header: "avatar", value: (row) => row.avatar },
  { header: "lessonId", value: (row) => row.lessonId },
  { header: "lessonTitle", value: (row) => row.lessonTitle },
  { header: "lessonDate", value: (row) => row.lessonDate },
  { header: "completedAt", value: (row) => row.completedAt },
  { header: "scoreScaled", value: (row) => row.scoreScaled },
  { header: "scoreRaw", value: (row) => row.scoreRaw },
];

export const INCOMPLETE_CSV_COLUMNS: readonly CsvColumn<IncompleteRow>[] = [
  { header: "userId", value: (row) => row.userId },
  { header: "name", value: (row) => row.name },
  { header: "email", value: (row) => row.email },
  { header: "avatar", value: (row) => row.avatar },
  { header: "timezone", value: (row) => row.timezone },
  { header: "remindersEnabled", value: (row) => row.remindersEnabled },
];

/** The learners page's export (`/ui/learners?format=csv`). */
export const LEARNER_CSV_COLUMNS: readonly CsvColumn<User>[] = [
  { header: "userId", value: (row) => row.id },
  { header: "name", value: (row) => row.name },
  { header: "email", value: (row) => row.email },
  { header: "avatar", value: (row) => row.avatar },
  { header: "cohortId", value: (row) => row.cohortId },
  { header: "timezone", value: (row) => row.timezone },
  { header: "remindersEnabled", value: (row) => row.remindersEnabled },
  { header: "signedUpAt", value: (row) => row.createdAt.toISOString() },
];
