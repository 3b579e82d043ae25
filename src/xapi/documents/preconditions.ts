/**
 * Concurrency (Communication §3.1): `If-Match` and `If-None-Match` on PUT, POST and DELETE, as
 * RFC 7232 describes them, against the stored document's ETag (the SHA-1 of its bytes).
 */
import {
  BadParameter,
  ConcurrencyHeaderMissing,
  ConcurrencyHeaderRequired,
  PreconditionFailed,
} from "./errors.ts";

/** `*`, or the entity tags listed (lower-case hex, without quotes or `W/`). */
export type EntityTags = "*" | string[];

export interface Preconditions {
  ifMatch?: EntityTags;
  ifNoneMatch?: EntityTags;
}

const ENTITY_TAG = /^(?:W\/)?"([^"]*)"$/;

/** Parses one `If-Match` / `If-None-Match` header; 400 naming it when it is not `*` or a tag list. */
export function parseEntityTags(
  header: "If-Match" | "If-None-Match",
  value: string | undefined,
): EntityTags | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "*") return "*";
  const tags: string[] = [];
  for (const part of text.split(",")) {
    const match = ENTITY_TAG.exec(part.trim());
    // Some clients send the SHA-1 without quotes; accept a bare hex tag as the same tag.
    const bare = /^[0-9a-f]{40}$/i.test(part.trim()) ? part.trim() : undefined;
    const tag = match?.[1] ?? bare;
    if (tag === undefined) {
      throw new BadParameter(
        header,
        'must be * or a list of quoted ETags, such as "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"',
      );
    }
    tags.push(tag.toLowerCase());
  }
  return tags;
}

/**
 * When a PUT must carry If-Match or If-None-Match (§3.1):
 * - `optional`: never (a 1.0.3 State PUT overwrites);
 * - `on-overwrite`: over an existing document (409 otherwise): the profiles, and the 2.0.0 State;
 * - `always`: also for a new document (400 otherwise): the 1.0.3 profiles, as the ADL conformance
 *   suite reads 1.0.3 Communication §2.6/§2.7 (XAPI-00273); TinCanJS sends `If-None-Match: *` then.
 */
export type ConcurrencyHeaderRule = "optional" | "on-overwrite" | "always";

/**
 * Throws when the preconditions do not hold for the stored document's ETag (`undefined`: no
 * document), or when a PUT lacks the header its `rule` requires.
 */
export function checkPreconditions(
  current: string | undefined,
  preconditions: Preconditions,
  rule: ConcurrencyHeaderRule,
): void {
  const { ifMatch, ifNoneMatch } = preconditions;
  if (ifMatch !== undefined) {
    if (current === undefined) throw new PreconditionFailed("If-Match", "no document is stored here");
    if (ifMatch !== "*" && !ifMatch.includes(current)) {
      throw new PreconditionFailed(
        "If-Match",
        "the stored document has a different ETag (it changed since you read it)",
      );
    }
  }
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === "*")
      throw new PreconditionFailed("If-None-Match", "a document is already stored here");
    if (ifNoneMatch.includes(current)) {
      throw new PreconditionFailed("If-None-Match", "the stored document has one of the ETags given");
    }
  }
  if (rule === "optional" || ifMatch !== undefined || ifNoneMatch !== undefined) return;
  if (current !== undefined) throw new ConcurrencyHeaderRequired();
  if (rule === "always") throw new ConcurrencyHeaderMissing();
}
