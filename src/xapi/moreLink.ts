/**
 * The `more` IRL of a StatementResult (xAPI Communication §2.1.3): a relative link to the next
 * page of the same result. It carries the resolved query, the result's fixed upper bound on
 * `stored`, and where the page ended, signed with the service's signing key, so it needs no
 * server state, works on every replica, and cannot be altered. It is valid for `MORE_VALIDITY_MS`
 * after the page that gave it.
 */
import { signToken, verifyToken } from "../auth/signing.ts";
import { InvalidParameter, type StatementQuery } from "./parseStatementQuery.ts";
import type { PagePosition } from "./queryStatements.ts";

/** How long a `more` link stays valid: 24 hours. */
export const MORE_VALIDITY_MS = 24 * 60 * 60 * 1000;
const PURPOSE = "xapi-statements-more";

export interface MoreCursor {
  query: StatementQuery;
  /** The result's upper bound on `stored`, fixed when its first page was read. */
  upperBound: string;
  after: PagePosition;
  /** Unix ms after which the link is refused. */
  expires: number;
}

/** The relative IRL of the page after `cursor.after`. */
export function moreLink(secret: string, cursor: MoreCursor): string {
  const subject = Buffer.from(JSON.stringify(cursor)).toString("base64url");
  return `/xapi/statements?more=${signToken(secret, PURPOSE, subject)}`;
}

/** The cursor of a `more` token; a forged, altered or expired one is a 400 naming `more`. */
export function readMoreToken(secret: string, token: string, now: number): MoreCursor {
  const subject = verifyToken(secret, PURPOSE, token);
  if (subject === undefined) {
    throw new InvalidParameter(
      "more",
      "is not a more link this LRS issued (altered or forged)",
      "invalid_more",
    );
  }
  const cursor = JSON.parse(Buffer.from(subject, "base64url").toString("utf8")) as MoreCursor;
  if (cursor.expires < now) {
    throw new InvalidParameter(
      "more",
      "has expired (more links are valid for 24 hours); run the query again",
      "expired_more",
    );
  }
  return cursor;
}
