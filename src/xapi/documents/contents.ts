/**
 * What a PUT or POST stores (Communication §2.2): PUT stores the bytes as sent; POST merges a
 * JSON object into a stored JSON object one level deep (each top-level property of the posted
 * object replaces the stored one), and stores the posted document as is where none is stored.
 * Pure: the repository reads and writes around it.
 */
import { createHash } from "node:crypto";
import { CannotMerge, MalformedJsonDocument } from "./errors.ts";

export interface DocumentContents {
  contentType: string;
  contents: Buffer;
}

/** The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}

export function isJson(contentType: string): boolean {
  return mediaType(contentType) === "application/json";
}

/** The document's ETag: the SHA-1 of its bytes, lower-case hex (xAPI's own rule for documents). */
export function etagOf(contents: Buffer): string {
  return createHash("sha1").update(contents).digest("hex");
}

const NOT_JSON = Symbol("not JSON");

function parseJson(contents: Buffer): unknown {
  try {
    return JSON.parse(contents.toString("utf8"));
  } catch {
    return NOT_JSON;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Refuses a body that says it is JSON but does not parse. */
export function checkJsonBody(document: DocumentContents): void {
  if (isJson(document.contentType) && parseJson(document.contents) === NOT_JSON) {
    throw new MalformedJsonDocument();
  }
}

/** The document a POST leaves: the merge of `posted` into `stored`, or `posted` where none is stored. */
export function mergeDocuments(
  stored: DocumentContents | undefined,
  posted: DocumentContents,
): DocumentContents {
  const postedObject = isJson(posted.contentType) ? parseJson(posted.contents) : undefined;
  if (!isPlainObject(postedObject)) {
    if (stored) throw new CannotMerge("posted");
    return posted;
  }
  if (!stored) return posted;
  const storedObject = isJson(stored.contentType) ? parseJson(stored.contents) : undefined;
  if (!isPlainObject(storedObject)) throw new CannotMerge("stored");
  const merged = { ...storedObject };
  for (const [key, value] of Object.entries(postedObject)) {
    Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { contentType: "application/json", contents: Buffer.from(JSON.stringify(merged), "utf8") };
}
