/** Building multipart/mixed statement requests and JWS signatures, as xAPI clients send them. */
import { createHash, type KeyObject, sign } from "node:crypto";

export const BOUNDARY = "-------314159265358979323846";
export const SIGNATURE = "http://adlnet.gov/expapi/attachments/signature";

export const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

export interface Part {
  body: Buffer | string;
  /** Default: text/plain, binary, the SHA-256 of the body as X-Experience-API-Hash. */
  headers?: Record<string, string>;
}

/** An attachment object for `contents` (sha2 and length from the bytes). */
export function attachmentFor(
  contents: Buffer | string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    usageType: "http://example.com/attachment-usage/test",
    display: { "en-US": "A test attachment" },
    contentType: "text/plain",
    length: Buffer.byteLength(contents),
    sha2: sha256(contents),
    ...overrides,
  };
}

/** A multipart/mixed body: the statements as JSON first, then `parts`. */
export function multipartBody(statements: unknown, parts: Part[] = [], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [
    Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(statements)}\r\n`),
  ];
  for (const part of parts) {
    const headers = part.headers ?? {
      "Content-Type": "text/plain",
      "Content-Transfer-Encoding": "binary",
      "X-Experience-API-Hash": sha256(part.body),
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), Buffer.from(part.body), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export const multipartType = (boundary = BOUNDARY) => `multipart/mixed; boundary=${boundary}`;

/** A compact JWS of `payload` signed with `key` (RS256 unless `alg` says otherwise). */
export function jws(
  payload: unknown,
  key: KeyObject,
  header: Record<string, unknown> = { alg: "RS256" },
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signed = `${encode(header)}.${typeof payload === "string" ? Buffer.from(payload).toString("base64url") : encode(payload)}`;
  const digest = { RS256: "sha256", RS384: "sha384", RS512: "sha512" }[String(header.alg)] ?? "sha256";
  return `${signed}.${sign(digest, Buffer.from(signed), key).toString("base64url")}`;
}

/**
 * `statement` with a signature attachment over it, and the multipart body carrying the JWS
 * (which signs `signed` when given, else the statement itself).
 */
export function signedRequest(
  statement: Record<string, unknown>,
  key: KeyObject,
  options: { header?: Record<string, unknown>; signed?: unknown; contentType?: string } = {},
): Buffer {
  const signature = jws(options.signed ?? statement, key, options.header);
  const withSignature = {
    ...statement,
    attachments: [
      attachmentFor(signature, {
        usageType: SIGNATURE,
        contentType: options.contentType ?? "application/octet-stream",
      }),
    ],
  };
  return multipartBody(withSignature, [
    {
      body: signature,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Transfer-Encoding": "binary",
        "X-Experience-API-Hash": sha256(signature),
      },
    },
  ]);
}
