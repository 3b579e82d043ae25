/**
 * Signed statements (xAPI Data §2.6). A statement is signed by an attachment of usageType
 * `http://adlnet.gov/expapi/attachments/signature`, whose content (a multipart part) is a JWS in
 * compact serialization. Every signature is checked before anything is stored; a malformed or
 * mismatched one is 400 `invalid_signature`, naming the attachment and why:
 *
 * - the attachment's contentType is `application/octet-stream`, and its part is there;
 * - the JWS has three base64url segments, a JSON header with `alg` RS256, RS384 or RS512, and a
 *   payload that is JSON of a statement matching the signed one as statements are compared
 *   (`sameStatement`: `attachments`, `authority`, `stored`, `version` ignored; durations to
 *   0.01 s, as 2.0.0 Data §4.2.7 asks), with the same id when both have one;
 * - with an `x5c` header: the signature verifies with the first certificate's RSA key, and each
 *   certificate is issued and signed by the next. The chain is not checked against trusted roots
 *   (the LRS has none to trust); without `x5c` the signature's bytes cannot be checked at all, as
 *   the spec allows, and only its form is.
 */
import { verify, X509Certificate } from "node:crypto";
import { AppError } from "../errors.ts";
import type { AttachmentContent } from "./attachmentParts.ts";
import { sameStatement } from "./sameStatement.ts";
import type { Statement } from "./validateStatement.ts";

export const SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature";
const ALGORITHMS: Record<string, string> = { RS256: "sha256", RS384: "sha384", RS512: "sha512" };

export class InvalidSignature extends AppError {
  constructor(field: string, problem: string) {
    super(400, "invalid_signature", `${field} ${problem}`, [{ field, message: problem }]);
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeJson(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Checks one JWS against the statement it signs; throws `InvalidSignature` naming `field`. */
export function verifySignature(jws: string, statement: Statement, field: string): void {
  const invalid = (problem: string) => new InvalidSignature(field, problem);
  const segments = jws.trim().split(".");
  if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) {
    throw invalid("is not a JWS in compact serialization (three base64url segments)");
  }
  const [headerPart, payloadPart, signaturePart] = segments as [string, string, string];
  let header: { alg?: unknown; x5c?: unknown };
  try {
    header = decodeJson(headerPart) as typeof header;
  } catch {
    throw invalid("has a JWS header that is not JSON");
  }
  if (typeof header !== "object" || header === null) throw invalid("has a JWS header that is not an object");
  const digest = typeof header.alg === "string" ? ALGORITHMS[header.alg] : undefined;
  if (!digest)
    throw invalid(`uses the JWS algorithm ${JSON.stringify(header.alg)}; use RS256, RS384 or RS512`);
  let payload: unknown;
  try {
    payload = decodeJson(payloadPart);
  } catch {
    throw invalid("has a JWS payload that is not a JSON serialization of the statement");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw invalid("has a JWS payload that is not a statement");
  }
  const payloadId = (payload as { id?: unknown }).id;
  const idsDiffer =
    typeof payloadId === "string" &&
    statement.id !== undefined &&
    payloadId.toLowerCase() !== statement.id.toLowerCase();
  if (idsDiffer || !sameStatement(payload, statement)) {
    throw invalid("has a JWS payload that differs from the statement it signs");
  }
  if (header.x5c === undefined) return;
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) {
    throw invalid("has an x5c header that is not a list of certificates");
  }
  let chain: X509Certificate[];
  try {
    chain = header.x5c.map((der) => new X509Certificate(Buffer.from(String(der), "base64")));
  } catch {
    throw invalid("has an x5c certificate that cannot be read");
  }
  const key = chain[0]!.publicKey;
  if (key.asymmetricKeyType !== "rsa") throw invalid("has an x5c certificate whose key is not RSA");
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  if (!verify(digest, signed, key, Buffer.from(signaturePart, "base64url"))) {
    throw invalid("has a signature that the key of its x5c certificate does not verify");
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) {
      throw invalid(`has an x5c chain whose certificate ${i} is not issued by certificate ${i + 1}`);
    }
  }
}

/**
 * Checks every signature attachment of the statements (not of SubStatements: a signature signs
 * the whole statement) against its content among `parts`.
 */
export function verifySignatures(statements: Statement[], batch: boolean, parts: AttachmentContent[]): void {
  const bySha2 = new Map(parts.map((part) => [part.sha2, part]));
  for (const [i, statement] of statements.entries()) {
    for (const [j, attachment] of (statement.attachments ?? []).entries()) {
      if (attachment.usageType !== SIGNATURE_USAGE) continue;
      const field = `${batch ? `statement[${i}]` : "statement"}.attachments[${j}]`;
      if (attachment.contentType.split(";")[0]!.trim().toLowerCase() !== "application/octet-stream") {
        throw new InvalidSignature(
          field,
          "is a signature, so its contentType must be application/octet-stream",
        );
      }
      const part = bySha2.get(attachment.sha2.toLowerCase());
      if (!part)
        throw new InvalidSignature(field, "is a signature without its JWS as a multipart/mixed part");
      verifySignature(part.contents.toString("utf8"), statement, field);
    }
  }
}
