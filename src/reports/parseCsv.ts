/**
 * Reading CSV (RFC 4180), the other way round from `csv.ts`: records separated by CRLF or LF,
 * fields by the delimiter (`,`, or `;` as spreadsheets write in some locales), a field quoted
 * with `"` when it holds the delimiter, a quote or a line break, inner quotes doubled. Pure.
 *
 * Strict where a guess could put a value in the wrong column: a quote inside an unquoted field,
 * text after a closing quote, or a quote never closed is an error naming the record, not a
 * silently mangled row. Blank lines are skipped (a file ends with one, or several).
 */

export class CsvError extends Error {
  constructor(
    /** 1-based record (spreadsheet row) the problem is in. */
    readonly row: number,
    problem: string,
  ) {
    super(`row ${row}: ${problem}`);
    this.name = "CsvError";
  }
}

export interface ParseCsvOptions {
  /** Default `,`. */
  delimiter?: "," | ";";
  /** Stop with `CsvError` past this many records (blank lines not counted). Default: no limit. */
  maxRecords?: number;
}

/** The delimiter a file's first line uses: `;` when it has semicolons and no comma, else `,`. */
export function sniffDelimiter(text: string): "," | ";" {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  return !firstLine.includes(",") && firstLine.includes(";") ? ";" : ",";
}

/** The records of `text`, each an array of its fields. */
export function parseCsv(text: string, options: ParseCsvOptions = {}): string[][] {
  const delimiter = options.delimiter ?? ",";
  const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let at = 0;
  /** Whether the current record has anything yet (a blank line has not). */
  let started = false;

  const endRecord = () => {
    if (started) {
      record.push(field);
      if (records.length === maxRecords) {
        throw new CsvError(records.length + 1, `more than ${maxRecords} rows`);
      }
      records.push(record);
    }
    record = [];
    field = "";
    started = false;
  };

  while (at < text.length) {
    const c = text[at]!;
    if (c === '"' && field === "") {
      // A quoted field: up to the quote that is not doubled.
      started = true;
      let end = at + 1;
      let value = "";
      for (;;) {
        const quote = text.indexOf('"', end);
        if (quote < 0) throw new CsvError(records.length + 1, "a quoted field is never closed");
        value += text.slice(end, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          end = quote + 2;
          continue;
        }
        end = quote + 1;
        break;
      }
      const next = text[end];
      if (
        next !== undefined &&
        next !== delimiter &&
        next !== "\n" &&
        !(next === "\r" && text[end + 1] === "\n")
      ) {
        throw new CsvError(
          records.length + 1,
          'text follows a closing quote (write a quote inside a field as "")',
        );
      }
      field = value;
      at = end;
      continue;
    }
    if (c === delimiter) {
      started = true;
      record.push(field);
      field = "";
      at += 1;
    } else if (c === "\n" || (c === "\r" && text[at + 1] === "\n")) {
      endRecord();
      at += c === "\n" ? 1 : 2;
    } else if (c === '"') {
      throw new CsvError(
        records.length + 1,
        "a quote inside an unquoted field (quote the whole field, and double the quote)",
      );
    } else {
      started = true;
      field += c;
      at += 1;
    }
  }
  endRecord();
  return records;
}
