/**
 * Adding learners in bulk from a CSV file (the admin area's upload): each row is a signup, checked
 * exactly as `POST /api/signup` checks its body (the same text check, the same schema, then
 * `signUp` itself, so the same messages), and signed up on its own. A row that is refused changes
 * nothing; the others are added. A row whose email has already signed up is reported as such and
 * changes nothing either, so uploading a corrected file again adds only what was missing.
 *
 * The file: UTF-8 (a byte-order mark is ignored), a header row naming the columns (`name`,
 * `email`, `avatar`, `cohortId`, optionally `timezone`; letter case, spaces, `_` and `-` do not
 * matter), then at most `MAX_IMPORT_ROWS` rows. Cells are trimmed, and an empty cell is a
 * field not given (so an empty `timezone` means UTC, as in the API).
 */
import type { ErrorObject } from "ajv";
import { findLearnerIdByEmail } from "../data/learners.ts";
import type { Db } from "../db/client.ts";
import { fieldPath, findUnstorableText } from "../db/storableText.ts";
import { AppError, type ErrorDetail, ValidationFailed } from "../errors.ts";
import { describeValidationErrors, validatorCompiler } from "../http/validation.ts";
import { CsvError, parseCsv, sniffDelimiter } from "../reports/parseCsv.ts";
import { SignupRequest } from "../routes/signup/schema.ts";
import { signUp } from "./signUp.ts";

/** Rows of learners one file may hold (the header not counted). */
export const MAX_IMPORT_ROWS = 1_000;
/** The largest file accepted, in bytes: 256 KiB holds 1,000 rows of long names and addresses. */
export const MAX_IMPORT_BYTES = 256 * 1024;

/** The columns, as the API names the fields. */
export const IMPORT_COLUMNS = ["name", "email", "avatar", "cohortId", "timezone"] as const;
const REQUIRED_COLUMNS = ["name", "email", "avatar", "cohortId"] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

const validateSignup = validatorCompiler({
  schema: SignupRequest,
  httpPart: "body",
  method: "POST",
  url: "/api/signup",
}) as ((body: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** One data row of the file: its spreadsheet row number and the fields it gives. */
export interface ImportRow {
  /** 1-based, the header being row 1: the number a spreadsheet shows. */
  row: number;
  fields: Partial<Record<Column, string>>;
  /** A problem with the row's shape (too many cells), found while reading the file. */
  problem?: ErrorDetail;
}

export type ImportOutcome = "added" | "exists" | "refused";

export interface ImportResult {
  row: number;
  /** The row's email as given (empty when it gave none). */
  email: string;
  outcome: ImportOutcome;
  /** The learner added, or the one who had already signed up with this email. */
  userId?: string;
  /** Why the row was refused: each field and what is wrong with it, as the API says it. */
  problems: ErrorDetail[];
}

const fileProblem = (message: string) => new ValidationFailed([{ field: "file", message }]);

/** `cohort_id`, `Cohort ID` → `cohortid`: how a header cell is matched to a column. */
const columnKey = (header: string) =>
  header
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, "");
const COLUMN_BY_KEY = new Map<string, Column>(IMPORT_COLUMNS.map((column) => [columnKey(column), column]));

/**
 * The rows of an uploaded file. Refuses the whole file (`ValidationFailed` on the field `file`)
 * when it is empty, too large, not UTF-8, not CSV, has more than `MAX_IMPORT_ROWS` rows, or its
 * header lacks a required column or names one that does not exist.
 */
export function readLearnerCsv(bytes: Buffer): ImportRow[] {
  if (bytes.length === 0) throw fileProblem("the file is empty");
  if (bytes.length > MAX_IMPORT_BYTES) {
    throw fileProblem(`the file is larger than ${MAX_IMPORT_BYTES / 1024} KiB; split it into smaller files`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw fileProblem('the file is not UTF-8 text; save it as "CSV UTF-8"');
  }
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter: sniffDelimiter(text), maxRecords: MAX_IMPORT_ROWS + 1 });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw fileProblem(
      error.row > MAX_IMPORT_ROWS + 1
        ? `the file has more than ${MAX_IMPORT_ROWS} learners; split it into smaller files`
        : `the file is not valid CSV: ${error.message}`,
    );
  }
  const [header, ...rows] = records;
  if (!header) throw fileProblem("the file has no header row");
  const columns: Column[] = [];
  for (const cell of header) {
    const column = COLUMN_BY_KEY.get(columnKey(cell));
    if (!column) {
      throw fileProblem(
        `the header names the column "${cell.trim().slice(0, 60)}", which is not one of ${IMPORT_COLUMNS.join(", ")}`,
      );
    }
    if (columns.includes(column)) throw fileProblem(`the header names the column ${column} twice`);
    columns.push(column);
  }
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.includes(column));
  if (missing.length) {
    throw fileProblem(
      `the header row lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (it needs ${REQUIRED_COLUMNS.join(", ")}, and may have timezone)`,
    );
  }
  const found: ImportRow[] = [];
  rows.forEach((cells, i) => {
    if (cells.every((cell) => cell.trim() === "")) return; // a row of empty cells, as spreadsheets leave
    const row: ImportRow = { row: i + 2, fields: {} };
    cells.forEach((cell, c) => {
      const value = cell.trim();
      const column = columns[c];
      if (column && value !== "") row.fields[column] = value;
    });
    if (cells.length > columns.length) {
      row.problem = {
        field: "row",
        message: `has ${cells.length} cells; the header has ${columns.length} columns (quote a value that holds a comma)`,
      };
    }
    found.push(row);
  });
  if (found.length === 0) throw fileProblem("the file has a header row but no learners");
  return found;
}

/** What is wrong with a row as a signup body, as the API would say it (before `signUp`). */
function signupProblems(fields: ImportRow["fields"]): ErrorDetail[] {
  const unstorable = findUnstorableText(fields).map(({ path, message }) => ({
    field: fieldPath(path),
    message,
  }));
  if (unstorable.length) return unstorable;
  if (validateSignup(fields)) return [];
  return describeValidationErrors(validateSignup.errors ?? [], undefined).details;
}

/**
 * Signs up each row (see the file comment), in file order, and reports each. A row whose email or
 * avatar an earlier row of the same file claimed is refused, naming that row.
 */
export async function addLearners(db: Db, rows: ImportRow[], publicBaseUrl: string): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  const rowOfEmail = new Map<string, number>();
  const rowOfAvatar = new Map<string, number>();
  for (const { row, fields, problem } of rows) {
    const email = fields.email ?? "";
    const refuse = (problems: ErrorDetail[]) => results.push({ row, email, outcome: "refused", problems });
    if (problem) {
      refuse([problem]);
      continue;
    }
    const problems = signupProblems(fields);
    if (problems.length) {
      refuse(problems);
      continue;
    }
    const emailKey = email.toLowerCase();
    const earlier = rowOfEmail.get(emailKey);
    const earlierAvatar = rowOfAvatar.get(fields.avatar!);
    if (earlier !== undefined || earlierAvatar !== undefined) {
      refuse([
        ...(earlier !== undefined
          ? [{ field: "email", message: `the same as row ${earlier} of this file` }]
          : []),
        ...(earlierAvatar !== undefined
          ? [{ field: "avatar", message: `the same as row ${earlierAvatar} of this file` }]
          : []),
      ]);
      continue;
    }
    rowOfEmail.set(emailKey, row);
    rowOfAvatar.set(fields.avatar!, row);
    try {
      const learner = await signUp(db, fields as SignupRequest, publicBaseUrl);
      results.push({ row, email, outcome: "added", userId: learner.id, problems: [] });
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      // Whichever unique index PostgreSQL checked first, a known email means "already signed up".
      const existing =
        error.code === "email_taken" || error.code === "avatar_taken"
          ? await findLearnerIdByEmail(db, email)
          : undefined;
      if (existing) {
        results.push({ row, email, outcome: "exists", userId: existing, problems: [] });
      } else {
        refuse(error.details ?? [{ field: "row", message: error.message }]);
      }
    }
  }
  return results;
}
