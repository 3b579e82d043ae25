/** Reading CSV: what `csv.ts` writes reads back as it was, and a malformed file names its row. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CsvError, parseCsv, sniffDelimiter } from "./parseCsv.ts";

/** RFC 4180 writing without the formula guard, so any text must come back unchanged. */
const write = (records: string[][], delimiter: "," | ";") =>
  records
    .map((record) =>
      record
        .map((field) =>
          /[",;\r\n]/.test(field) || field === "" ? `"${field.replaceAll('"', '""')}"` : field,
        )
        .join(delimiter),
    )
    .join("\r\n");

describe("parseCsv", () => {
  it("reads back any records written as RFC 4180, with either delimiter", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: "grapheme" }), { minLength: 1, maxLength: 5 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.constantFrom<"," | ";">(",", ";"),
        (records, delimiter) => {
          expect(parseCsv(write(records, delimiter), { delimiter })).toEqual(records);
        },
      ),
    );
  });

  it("takes LF or CRLF, skips blank lines, and keeps empty fields", () => {
    expect(parseCsv("a,b\n\r\n1,\n,2\n\n")).toEqual([
      ["a", "b"],
      ["1", ""],
      ["", "2"],
    ]);
  });

  it("names the row of a malformed record", () => {
    const problem = (text: string) => {
      try {
        parseCsv(text);
      } catch (error) {
        return error instanceof CsvError ? error.message : String(error);
      }
      return "parsed";
    };
    expect(problem('a,b\n1,"open\n')).toBe("row 2: a quoted field is never closed");
    expect(problem('a,b\n1,"x"y\n')).toMatch(/^row 2: text follows a closing quote/);
    expect(problem('a,b\n1,x"y\n')).toMatch(/^row 2: a quote inside an unquoted field/);
    expect(problem("a\n1\n2\n3\n")).toBe("parsed");
    expect(() => parseCsv("a\n1\n2\n3\n", { maxRecords: 3 })).toThrow("row 4: more than 3 rows");
  });

  it("takes the delimiter from the header line", () => {
    expect(sniffDelimiter("name;email\nA,B;c")).toBe(";");
    expect(sniffDelimiter("name,email;x\n")).toBe(",");
    expect(sniffDelimiter("name\n")).toBe(",");
  });
});
