/**
 * `GET /xapi/statements` (xAPI Communication §2.1.3): one statement by `statementId` or
 * `voidedStatementId`, a query, or the next page of one (`more`). Answers what the route
 * presents: the body (a statement, or a StatementResult `{statements, more}`), and the times of
 * the `Last-Modified` and `X-Experience-API-Consistent-Through` headers.
 */
import type { Db } from "../db/client.ts";
import { NotFound } from "../errors.ts";
import { readAttachmentContents } from "./attachmentContents.ts";
import { type AttachmentContent, attachmentsOf } from "./attachmentParts.ts";
import { consistentThrough } from "./consistentThrough.ts";
import { formatStatement } from "./formatStatement.ts";
import { getStatement } from "./getStatement.ts";
import { MORE_VALIDITY_MS, moreLink, readMoreToken } from "./moreLink.ts";
import type { StatementRequest } from "./parseStatementQuery.ts";
import { queryStatements } from "./queryStatements.ts";
import type { StoredStatement } from "./validateStatement.ts";

export interface StatementResult {
  statements: StoredStatement[];
  /** Relative IRL of the next page; `""` when this is the last. */
  more: string;
}

export interface ReadAnswer {
  body: StoredStatement | StatementResult;
  /**
   * With `attachments=true`: the stored contents the answered statements name, one per sha2
   * (the route answers multipart/mixed). Otherwise undefined.
   */
  attachments?: AttachmentContent[] | undefined;
  lastModified: Date;
  consistentThrough: Date;
}

export interface ReadDeps {
  db: Db;
  /** Signs and checks `more` links. */
  signingSecret: string;
}

export async function readStatements(
  deps: ReadDeps,
  request: StatementRequest,
  options: { acceptLanguage?: string | undefined; now?: Date } = {},
): Promise<ReadAnswer> {
  const now = options.now ?? new Date();
  const through = await consistentThrough(deps.db, now);

  if (request.kind === "single") {
    const found = await getStatement(deps.db, request.id, request.voided);
    if (!found) throw new NotFound(`${request.voided ? "voided statement" : "statement"} ${request.id}`);
    return {
      body: formatStatement(found.statement, request.format, options.acceptLanguage),
      attachments: request.attachments ? await contentsFor(deps.db, [found.statement]) : undefined,
      lastModified: found.stored,
      consistentThrough: through,
    };
  }

  const cursor =
    request.kind === "more" ? readMoreToken(deps.signingSecret, request.token, now.getTime()) : undefined;
  const query = cursor?.query ?? (request.kind === "query" ? request.query : undefined)!;
  // The result's upper bound is fixed by its first page: later pages never grow it.
  const upperBound =
    cursor?.upperBound ??
    new Date(
      Math.min(now.getTime(), query.until ? Date.parse(query.until) : Number.POSITIVE_INFINITY),
    ).toISOString();
  const page = await queryStatements(deps.db, query, upperBound, cursor?.after);

  const newest = page.statements.reduce(
    (latest, statement) => Math.max(latest, Date.parse(statement.stored)),
    Number.NEGATIVE_INFINITY,
  );
  return {
    body: {
      statements: page.statements.map((statement) =>
        formatStatement(statement, query.format, options.acceptLanguage),
      ),
      more: page.next
        ? moreLink(deps.signingSecret, {
            query,
            upperBound,
            after: page.next,
            expires: now.getTime() + MORE_VALIDITY_MS,
          })
        : "",
    },
    attachments: query.attachments ? await contentsFor(deps.db, page.statements) : undefined,
    lastModified: Number.isFinite(newest) ? new Date(newest) : through,
    consistentThrough: through,
  };
}

/** The stored attachment contents `statements` name (their SubStatements' too). */
function contentsFor(db: Db, statements: StoredStatement[]): Promise<AttachmentContent[]> {
  const sha2s = statements.flatMap((statement) =>
    attachmentsOf([statement], false).map(({ attachment }) => attachment.sha2.toLowerCase()),
  );
  return readAttachmentContents(db, sha2s);
}
