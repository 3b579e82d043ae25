/**
 * Communication §1.5.2 multipart/mixed (RFC 2046 §5.1): reading the parts of a buffered body,
 * refusing malformed ones with a 400 that says why, and writing answers that read back.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readMultipartStatements } from "./attachmentParts.ts";
import { boundaryOf, buildMultipart, InvalidMultipart, parseMultipart } from "./multipart.ts";

const B = "-------314159265358979323846";
const body = (text: string) => Buffer.from(text.replaceAll("\n", "\r\n"));

function refusal(run: () => unknown): { status: number; code: string; message: string } {
  try {
    run();
  } catch (error) {
    return error as { status: number; code: string; message: string };
  }
  throw new Error("expected a refusal");
}

describe("Communication 1.5.2 multipart/mixed", () => {
  it("reads the boundary parameter, quoted or not; refuses a Content-Type without one", () => {
    expect(boundaryOf(`multipart/mixed; boundary=${B}`)).toBe(B);
    expect(boundaryOf('multipart/mixed; boundary="a b:c"')).toBe("a b:c");
    const missing = refusal(() => boundaryOf("multipart/mixed;"));
    expect(missing).toMatchObject({ status: 400, code: "invalid_multipart" });
    expect(missing.message).toMatch(/boundary/);
  });

  it("reads each part's headers (names without case) and bytes, ignoring preamble and epilogue", () => {
    const parts = parseMultipart(
      body(
        `preamble\n--${B}\nContent-Type: application/json\n\n{"a":1}\n--${B}\n` +
          `content-type: text/plain\nX-Experience-API-Hash: abc\n\nline one\nline two\n--${B}--\nepilogue`,
      ),
      B,
      10,
    );
    expect(parts).toHaveLength(2);
    expect(parts[0]!.headers.get("content-type")).toBe("application/json");
    expect(parts[0]!.body.toString()).toBe('{"a":1}');
    expect(parts[1]!.headers.get("x-experience-api-hash")).toBe("abc");
    expect(parts[1]!.body.toString()).toBe("line one\r\nline two");
  });

  it("finds the first boundary after a leading line break", () => {
    const parts = parseMultipart(body(`\n--${B}\nContent-Type: application/json\n\n[]\n--${B}--`), B, 10);
    expect(parts.map((part) => part.body.toString())).toEqual(["[]"]);
  });

  it("keeps binary part bytes exactly, CR and LF included", () => {
    const bytes = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]);
    const { contentType, body: built } = buildMultipart([
      { headers: { "Content-Type": "application/json" }, body: Buffer.from("[]") },
      { headers: { "Content-Type": "application/octet-stream" }, body: bytes },
    ]);
    const parts = parseMultipart(built, boundaryOf(contentType), 10);
    expect(parts.map((part) => part.body)).toEqual([Buffer.from("[]"), bytes]);
  });

  it("refuses a body where the boundary never occurs", () => {
    const problem = refusal(() => parseMultipart(body('Content-Type: application/json\n\n{"a":1}'), B, 10));
    expect(problem).toMatchObject({ status: 400, code: "invalid_multipart" });
    expect(problem.message).toMatch(/boundary .* never occurs/);
  });

  it("refuses a body without the closing boundary", () => {
    const problem = refusal(() =>
      parseMultipart(body(`--${B}\nContent-Type: application/json\n\n{}`), B, 10),
    );
    expect(problem.message).toMatch(/closing boundary/);
  });

  it("refuses a part whose headers never end", () => {
    const problem = refusal(() =>
      parseMultipart(body(`--${B}\nContent-Type: application/json\n--${B}--`), B, 10),
    );
    expect(problem.message).toMatch(/blank line/);
  });

  it("refuses more parts than allowed, before reading them all", () => {
    const many = Array.from({ length: 6 }, () => `--${B}\nContent-Type: text/plain\n\nx\n`).join("");
    const problem = refusal(() => parseMultipart(body(`${many}--${B}--`), B, 5));
    expect(problem.message).toMatch(/more than 5 parts/);
  });

  it("answers any mangled body with its parts or a 400, never another error", () => {
    const unchanged = readMultipartStatements(
      body(`--${B}\nContent-Type: application/json\n\n{"a":1}\n--${B}--\n`),
      `multipart/mixed; boundary=${B}`,
    );
    expect(unchanged.statements).toEqual({ a: 1 });
    const valid = body(
      `--${B}\nContent-Type: application/json\n\n{"a":1}\n--${B}\nContent-Type: text/plain\n` +
        `Content-Transfer-Encoding: binary\nX-Experience-API-Hash: ${createHash("sha256").update("abc").digest("hex")}\n\nabc\n--${B}--\n`,
    );
    expect(readMultipartStatements(valid, `multipart/mixed; boundary=${B}`).parts).toHaveLength(1);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length), fc.nat(valid.length), fc.uint8Array({ maxLength: 8 })), {
          maxLength: 4,
        }),
        (edits) => {
          let mangled = valid;
          for (const [at, cut, bytes] of edits) {
            const start = Math.min(at, mangled.length);
            mangled = Buffer.concat([
              mangled.subarray(0, start),
              Buffer.from(bytes),
              mangled.subarray(Math.min(mangled.length, start + (cut % 6))),
            ]);
          }
          try {
            readMultipartStatements(mangled, `multipart/mixed; boundary=${B}`);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidMultipart);
          }
        },
      ),
      { numRuns: 2000, seed: 12 },
    );
  });
});
