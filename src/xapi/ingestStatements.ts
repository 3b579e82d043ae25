/**
 * Storing statements, as named steps that read like the spec (xAPI Communication §2.1):
 * validate → match attachments to their parts → verify signatures → prepare (id, stored, timestamp, authority, version) → check voiders → store (one transaction; 409 on
 * a conflicting id) → hand over to the ETL after the commit (publish to the stream, or nudge the
 * sweep). A failed hand-over never fails the request: the statements are already stored, and the
 * sweep will flatten them.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { EtlMode } from "../config.ts";
import { publishStatements } from "../data/statementStream.ts";
import { type Db, withTimeout } from "../db/client.ts";
import { AppError, type ErrorDetail } from "../errors.ts";
import { metrics } from "../metrics.ts";
import { STATEMENT_STREAM } from "../names.ts";
import { checkStatementActors } from "./agentScope.ts";
import { type AttachmentContent, matchAttachmentParts } from "./attachmentParts.ts";
import { checkVoiders } from "./checkVoiders.ts";
import { trackStore } from "./consistentThrough.ts";
import type { XapiClient } from "./credentials.ts";
import { type PreparedStatement, prepareStatement } from "./prepareStatement.ts";
import type { StatementStore } from "./storeStatements.ts";
import { type Statement, type StatementProblem, validateStatements } from "./validateStatement.ts";
import { verifySignatures } from "./verifySignatures.ts";
import type { XapiVersion } from "./version.ts";

export class InvalidStatement extends AppError {
  constructor(problems: StatementProblem[], batch: boolean) {
    const details: ErrorDetail[] = problems.map((problem) => ({
      field: `statement${batch ? "" : problem.path ? "." : ""}${problem.path}`.replace(
        "statement.[",
        "statement[",
      ),
      message: problem.message,
    }));
    const shown = details.slice(0, 5).map((detail) => `${detail.field} ${detail.message}`);
    const more = details.length > 5 ? ` (and ${details.length - 5} more problems)` : "";
    super(400, "invalid_statement", `${shown.join("; ")}${more}`, details);
  }
}

export interface IngestDeps {
  /** The group-committing store statements are written through. */
  store: StatementStore;
  /** For the checks that read what is stored (a voiding statement's target). */
  db: Db;
  log: Logger;
  publicBaseUrl: string;
  etlMode: EtlMode;
  redis?: Redis | undefined;
  /** Called after the commit in incremental mode (the in-process sweeper's nudge). */
  onStored?: (() => void) | undefined;
}

export interface IngestRequest {
  body: unknown;
  client: XapiClient;
  version: XapiVersion;
  /** PUT: the `statementId` parameter the single statement must carry (or is given). */
  statementId?: string;
  /** The attachment parts of a `multipart/mixed` request, hashes checked (none for JSON). */
  parts?: AttachmentContent[];
}

/** Validates, stores and hands over statements; resolves with their ids in request order. */
export async function ingestStatements(deps: IngestDeps, request: IngestRequest): Promise<string[]> {
  const { body, version } = request;
  const batch = Array.isArray(body);
  const problems = validateStatements(body, version);
  if (problems.length) throw new InvalidStatement(problems, batch);
  let statements = (batch ? body : [body]) as Statement[];
  checkStatementActors(request.client, statements, batch);
  if (request.statementId !== undefined) {
    const given = statements[0]!.id;
    if (batch) throw new AppError(400, "invalid_statement", "PUT takes a single statement, not an array");
    if (given !== undefined && given.toLowerCase() !== request.statementId.toLowerCase()) {
      throw new AppError(
        400,
        "invalid_statement",
        `the statement's id ${given} differs from statementId ${request.statementId}`,
        [{ field: "statement.id", message: "must equal the statementId parameter" }],
      );
    }
    statements = [{ ...statements[0]!, id: request.statementId }];
  }
  const attachments = matchAttachmentParts(statements, batch, request.parts ?? []);
  verifySignatures(statements, batch, attachments);

  const stored = new Date();
  const prepared = statements.map((statement) =>
    prepareStatement(statement, {
      client: request.client,
      version,
      stored,
      publicBaseUrl: deps.publicBaseUrl,
    }),
  );
  await checkVoiders(deps.db, prepared, batch);
  const untrack = trackStore(stored);
  const { inserted } = await deps.store
    .store(prepared, request.client.credentialId, attachments)
    .finally(untrack);
  metrics.statementsIngested.inc(inserted.length);
  if (inserted.length) await handOver(deps, inserted, version);
  return prepared.map((statement) => statement.id);
}

/** After the commit: publish to the stream (streaming) or nudge the sweep (incremental). */
async function handOver(
  deps: IngestDeps,
  inserted: PreparedStatement[],
  version: XapiVersion,
): Promise<void> {
  if (deps.etlMode === "incremental" || !deps.redis) {
    deps.onStored?.();
    return;
  }
  try {
    // Don't queue behind a Redis that is away: the sweep is the safety net.
    if (deps.redis.status !== "ready") throw new Error(`redis is ${deps.redis.status}`);
    await withTimeout(publishStatements(deps.redis, STATEMENT_STREAM, inserted, version), 2_000, "redis");
  } catch (error) {
    metrics.publishFailures.inc(inserted.length);
    deps.log.warn(
      { err: error, count: inserted.length },
      "stored statements were not published to the stream; the sweep will flatten them",
    );
  }
}
