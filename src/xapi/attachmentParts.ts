/**
 * Attachments of a statement request (xAPI Data §2.4.11, Communication §1.5.2). Pure.
 *
 * A statement request is `application/json` (then every attachment must name a `fileUrl`) or
 * `multipart/mixed`: the first part the statement(s) as `application/json`, then one part per
 * attachment content, each with `Content-Transfer-Encoding: binary` and `X-Experience-API-Hash`
 * equal to the SHA-2 of its bytes and to the `sha2` of an attachment of the statements. An
 * attachment with neither a part nor a `fileUrl`, and a part that no attachment names, are 400.
 *
 * The `length` of an attachment is not compared with its part: the hash already binds the
 * bytes, and the ADL suite sends lengths that differ from the part.
 */
import { createHash } from "node:crypto";
import { MIMEType } from "node:util";
import { AppError } from "../errors.ts";
import { boundaryOf, InvalidMultipart, parseMultipart } from "./multipart.ts";
import type { Attachment, Statement } from "./validateStatement.ts";

/** Most parts of one multipart statement request: a batch's statements share one part. */
export const MAX_PARTS = 200;

/** One attachment's bytes, as received (and stored once per `sha2`). */
export interface AttachmentContent {
  /** Lower-case hex. */
  sha2: string;
  contentType: string;
  contents: Buffer;
}

export interface StatementRequestBody {
  /** The statement or array of statements, parsed, not yet validated. */
  statements: unknown;
  parts: AttachmentContent[];
}

export class AttachmentMismatch extends AppError {
  constructor(field: string, problem: string) {
    super(400, "attachment_mismatch", `${field} ${problem}`, [{ field, message: problem }]);
  }
}

const HASHES: Record<number, string> = { 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512" };

/** The SHA-2 of `contents` with the algorithm a hex digest of `hex`'s length names, or undefined. */
export function sha2Like(hex: string, contents: Buffer): string | undefined {
  const algorithm = HASHES[hex.length];
  return algorithm ? createHash(algorithm).update(contents).digest("hex") : undefined;
}

function essence(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  try {
    return new MIMEType(contentType).essence;
  } catch {
    return undefined;
  }
}

/** Reads a `multipart/mixed` statement request: the statements part, then the attachment parts. */
export function readMultipartStatements(raw: Buffer, contentType: string): StatementRequestBody {
  const [first, ...rest] = parseMultipart(raw, boundaryOf(contentType), MAX_PARTS);
  if (essence(first!.headers.get("content-type")) !== "application/json") {
    throw new InvalidMultipart("must start with the statements, in a part of Content-Type application/json");
  }
  let statements: unknown;
  try {
    statements = JSON.parse(first!.body.toString("utf8"));
  } catch (error) {
    throw new InvalidMultipart(`has a first part that is not JSON: ${(error as Error).message}`);
  }
  const parts = rest.map((part, index) => {
    const name = `part ${index + 2}`;
    const hash = part.headers.get("x-experience-api-hash");
    if (!hash) throw new InvalidMultipart(`has ${name} without an X-Experience-API-Hash header`);
    const encoding = part.headers.get("content-transfer-encoding");
    if (encoding?.toLowerCase() !== "binary") {
      throw new InvalidMultipart(
        `has ${name} whose Content-Transfer-Encoding is ${encoding ? `"${encoding}"` : "missing"}; it must be binary`,
      );
    }
    const sha2 = hash.toLowerCase();
    const actual = sha2Like(sha2, part.body);
    if (actual === undefined) {
      throw new InvalidMultipart(`has ${name} whose X-Experience-API-Hash is not a SHA-2 hex digest`);
    }
    if (actual !== sha2) {
      throw new InvalidMultipart(
        `has ${name} whose X-Experience-API-Hash ${hash} is not the hash of its bytes`,
      );
    }
    const type = part.headers.get("content-type") ?? "application/octet-stream";
    // Printable Latin-1 and tabs only: a control character (NUL above all) cannot be stored.
    if (!essence(type) || !/^[\t -~\u00a0-\u00ff]*$/.test(type)) {
      throw new InvalidMultipart(`has ${name} whose Content-Type is not a media type`);
    }
    return {
      sha2,
      contentType: type,
      contents: Buffer.from(part.body),
    };
  });
  return { statements, parts };
}

/** Every attachment object of `statements` (a SubStatement's too), with its field path. */
export function attachmentsOf(
  statements: Statement[],
  batch: boolean,
): { field: string; attachment: Attachment }[] {
  const found: { field: string; attachment: Attachment }[] = [];
  for (const [i, statement] of statements.entries()) {
    const at = batch ? `statement[${i}]` : "statement";
    for (const [j, attachment] of (statement.attachments ?? []).entries()) {
      found.push({ field: `${at}.attachments[${j}]`, attachment });
    }
    const object = statement.object as { objectType?: string; attachments?: Attachment[] };
    if (object.objectType === "SubStatement") {
      for (const [j, attachment] of (object.attachments ?? []).entries()) {
        found.push({ field: `${at}.object.attachments[${j}]`, attachment });
      }
    }
  }
  return found;
}

/**
 * Checks that the parts and the attachments of validated `statements` match one to one by
 * `sha2`; answers the contents to store, one per `sha2`.
 */
export function matchAttachmentParts(
  statements: Statement[],
  batch: boolean,
  parts: AttachmentContent[],
): AttachmentContent[] {
  const attachments = attachmentsOf(statements, batch);
  const named = new Set(attachments.map(({ attachment }) => attachment.sha2.toLowerCase()));
  const bySha2 = new Map<string, AttachmentContent>();
  for (const [index, part] of parts.entries()) {
    if (!named.has(part.sha2)) {
      throw new AttachmentMismatch(
        `part ${index + 2}`,
        `(X-Experience-API-Hash ${part.sha2}) is the content of no attachment of the statements`,
      );
    }
    bySha2.set(part.sha2, part);
  }
  for (const { field, attachment } of attachments) {
    if (attachment.fileUrl === undefined && !bySha2.has(attachment.sha2.toLowerCase())) {
      throw new AttachmentMismatch(
        field,
        "has no fileUrl and no multipart/mixed part with its sha2 as X-Experience-API-Hash",
      );
    }
  }
  return [...bySha2.values()];
}
