/**
 * `multipart/mixed` (RFC 2046 §5.1) over a buffered body, as xAPI statement requests and answers
 * use it (Communication §1.5.2): reading the parts of a request, writing the parts of an answer.
 * Pure. The body is already bounded by the route's body limit; `maxParts` bounds the work.
 *
 * Terms: the *delimiter* is `--` and the boundary, at the body's start or after a CRLF; the
 * *close delimiter* is the delimiter followed by `--`. What comes before the first delimiter (the
 * preamble) and after the close delimiter (the epilogue) is ignored, as the RFC says.
 */
import { randomBytes } from "node:crypto";
import { MIMEType } from "node:util";
import { AppError } from "../errors.ts";

export interface MimePart {
  /** Header names lower-cased; values trimmed. */
  headers: Map<string, string>;
  body: Buffer;
}

export class InvalidMultipart extends AppError {
  constructor(problem: string) {
    super(400, "invalid_multipart", `the multipart/mixed body ${problem}`, [
      { field: "body", message: problem },
    ]);
  }
}

/** The `boundary` parameter of a `multipart/mixed` Content-Type; 400 when missing or unparsable. */
export function boundaryOf(contentType: string): string {
  let boundary: string | null = null;
  try {
    boundary = new MIMEType(contentType).params.get("boundary");
  } catch {
    // an unparsable Content-Type has no boundary either
  }
  if (!boundary) {
    throw new AppError(
      400,
      "invalid_multipart",
      "the Content-Type multipart/mixed needs a boundary parameter",
      [{ field: "Content-Type", message: "has no boundary parameter" }],
    );
  }
  if (boundary.length > 70) {
    throw new AppError(400, "invalid_multipart", "the multipart boundary is longer than 70 characters", [
      { field: "Content-Type", message: "has a boundary longer than 70 characters (RFC 2046)" },
    ]);
  }
  return boundary;
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block.split("\r\n")) {
    if (line === "") continue;
    if ((line.startsWith(" ") || line.startsWith("\t")) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`); // a folded header line
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0)
      throw new InvalidMultipart(`has a part header line without a name: "${line.slice(0, 60)}"`);
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/**
 * The parts of `body` delimited by `boundary`. 400 (`invalid_multipart`) when there is no
 * delimiter, no close delimiter, a part without its header/body separator, or more than
 * `maxParts` parts.
 */
export function parseMultipart(body: Buffer, boundary: string, maxParts: number): MimePart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.concat([CRLF, delimiter]);
  let at = 0;
  if (!body.subarray(0, delimiter.length).equals(delimiter)) {
    const found = body.indexOf(nextDelimiter);
    if (found < 0) throw new InvalidMultipart("has no part: the boundary of the Content-Type never occurs");
    at = found + CRLF.length;
  }

  const parts: MimePart[] = [];
  for (;;) {
    let after = at + delimiter.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) break; // "--": the close delimiter
    while (body[after] === 0x20 || body[after] === 0x09) after++; // transport padding
    if (!body.subarray(after, after + 2).equals(CRLF)) {
      throw new InvalidMultipart("has a boundary line that is not followed by a line break");
    }
    const start = after + CRLF.length;
    const end = body.indexOf(nextDelimiter, start);
    if (end < 0) throw new InvalidMultipart("does not end with the closing boundary");
    if (parts.length === maxParts) throw new InvalidMultipart(`has more than ${maxParts} parts`);
    parts.push(parsePart(body.subarray(start, end)));
    at = end + CRLF.length;
  }
  if (parts.length === 0) throw new InvalidMultipart("has no part before its closing boundary");
  return parts;
}

function parsePart(raw: Buffer): MimePart {
  // A part may have no headers at all: then it starts with the blank line.
  if (raw.subarray(0, 2).equals(CRLF)) return { headers: new Map(), body: raw.subarray(2) };
  const end = raw.indexOf(HEADER_END);
  if (end < 0) throw new InvalidMultipart("has a part without the blank line that ends its headers");
  return {
    headers: parseHeaders(raw.subarray(0, end).toString("latin1")),
    body: raw.subarray(end + HEADER_END.length),
  };
}

/** A `multipart/mixed` body of `parts` and its Content-Type (with a fresh random boundary). */
export function buildMultipart(parts: { headers: Record<string, string>; body: Buffer }[]): {
  contentType: string;
  body: Buffer;
} {
  const boundary = `xapi-${randomBytes(18).toString("hex")}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = Object.entries(part.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), part.body, CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
