/**
 * Storing statements: the durability step. When a store resolves, every statement it was given
 * is committed in `statements_raw` (DESIGN §5: a 2xx means it is in PostgreSQL).
 *
 * Requests are group-committed: the statements of all requests that arrive while a commit is in
 * flight go into the next one, one multi-row INSERT in one transaction, so a burst of small
 * requests costs one WAL flush rather than one each. An id that is already stored is accepted
 * when the stored statement matches (`sameStatement`); when it does not, that request fails with
 * 409 and nothing of it is stored.
 *
 * One client never fails another's request: a group that fails for any reason but an outage (a
 * conflicting id, or anything else the database refuses in one request's statements) is rolled
 * back and its requests are stored again one transaction each, so only the request at fault
 * fails, with its own error, and every other is committed. Only a database that cannot be reached
 * (`isDatabaseUnavailable`: connection refused, pool timeout, not queryable) fails the whole
 * group at once, as 503: retrying one by one would only wait for the outage again, request after
 * request.
 */
import { sql } from "drizzle-orm";
import { type Db, isDatabaseUnavailable, queryRows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { insertAttachmentContents } from "./attachmentContents.ts";
import type { AttachmentContent } from "./attachmentParts.ts";
import type { PreparedStatement } from "./prepareStatement.ts";
import { sameStatement } from "./sameStatement.ts";
import { writeStatementIndex } from "./writeStatementIndex.ts";

export class StatementConflict extends AppError {
  constructor(readonly statementId: string) {
    super(409, "statement_conflict", `a different statement with id ${statementId} is already stored`);
  }
}

export interface StoreResult {
  /** Statements newly stored (a resent identical statement is not among them). */
  inserted: PreparedStatement[];
}

interface Request {
  statements: PreparedStatement[];
  credentialId: string | null;
  /** The request's attachment contents (multipart parts), stored once per sha2. */
  attachments: AttachmentContent[];
}

type Executor = Pick<Db, "execute">;

/**
 * Inserts the statements of `requests` in the transaction `tx`. Returns, per request, what it
 * inserted, or the id of its first conflicting statement.
 */
async function insertRequests(
  tx: Executor,
  requests: Request[],
): Promise<({ inserted: PreparedStatement[] } | { conflict: string })[]> {
  const rows = requests.flatMap((request) =>
    request.statements.map((statement) => ({ s: statement, c: request.credentialId })),
  );
  const insertedIds = await queryRows<{ id: string }>(
    tx,
    sql`insert into statements_raw (id, payload, stored, credential_id)
        select (e->'s'->>'id')::uuid, e->'s', (e->'s'->>'stored')::timestamptz, (e->>'c')::uuid
        from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) as e
        on conflict (id) do nothing
        returning id`,
  );
  const inserted = new Set(insertedIds.map((row) => row.id));
  // An id inserted once in this batch is "new" for the first request that sent it only.
  const claimed = new Set<string>();
  const skipped = new Set<string>();
  const outcomes = requests.map((request) =>
    request.statements.filter((statement) => {
      if (inserted.has(statement.id) && !claimed.has(statement.id)) {
        claimed.add(statement.id);
        return true;
      }
      skipped.add(statement.id);
      return false;
    }),
  );
  // Query keys are written in this same transaction: a statement is queryable once it commits.
  await writeStatementIndex(tx, outcomes.flat(), { fresh: true });
  // So are attachment contents: a statement is never stored without the parts it was sent with.
  await insertAttachmentContents(
    tx,
    requests.flatMap((request) => request.attachments),
  );
  if (skipped.size === 0) return outcomes.map((mine) => ({ inserted: mine }));

  const existing = await queryRows<{ id: string; payload: object }>(
    tx,
    sql`select id, payload from statements_raw
        where id in (select jsonb_array_elements_text(${JSON.stringify([...skipped])}::jsonb)::uuid)`,
  );
  const byId = new Map(existing.map((row) => [row.id, row.payload]));
  return requests.map((request, i) => {
    const mine = outcomes[i]!;
    for (const statement of request.statements) {
      if (mine.includes(statement)) continue;
      const stored = byId.get(statement.id);
      if (!stored || !sameStatement(stored, statement)) return { conflict: statement.id };
    }
    return { inserted: mine };
  });
}

/** Stores one request's statements in a transaction of its own. */
export async function storeStatements(
  db: Db,
  statements: PreparedStatement[],
  credentialId: string | null,
  attachments: AttachmentContent[] = [],
): Promise<StoreResult> {
  if (statements.length === 0) return { inserted: [] };
  return db.transaction(async (tx) => {
    const [outcome] = await insertRequests(tx, [{ statements, credentialId, attachments }]);
    if (outcome && "conflict" in outcome) throw new StatementConflict(outcome.conflict);
    return { inserted: outcome!.inserted };
  });
}

class BatchConflict extends Error {}

interface Waiting extends Request {
  resolve(result: StoreResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit for concurrent requests. `store()` resolves once the request's statements are
 * committed (or rejects with its own error); requests that arrive while `maxInFlight` commits
 * are running wait and are committed together in the next one.
 */
export class StatementStore {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Db,
    /**
     * Commits running at once. Default 4: while some wait for their WAL flush, the next gather
     * requests; more would only split batches (and use more pool connections).
     */
    private readonly maxInFlight = 4,
    /** Most statements in one commit. Default 5,000. */
    private readonly maxStatements = 5_000,
  ) {}

  store(
    statements: PreparedStatement[],
    credentialId: string | null,
    attachments: AttachmentContent[] = [],
  ): Promise<StoreResult> {
    if (statements.length === 0) return Promise.resolve({ inserted: [] });
    return new Promise((resolve, reject) => {
      this.waiting.push({ statements, credentialId, attachments, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length) {
      const batch: Waiting[] = [];
      let size = 0;
      while (
        this.waiting.length &&
        (batch.length === 0 || size + this.waiting[0]!.statements.length <= this.maxStatements)
      ) {
        const next = this.waiting.shift()!;
        size += next.statements.length;
        batch.push(next);
      }
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        this.drain();
      });
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting];
      await storeStatements(this.db, only.statements, only.credentialId, only.attachments).then(
        only.resolve,
        only.reject,
      );
      return;
    }
    try {
      const outcomes = await this.db.transaction(async (tx) => {
        const results = await insertRequests(tx, batch);
        if (results.some((result) => "conflict" in result)) throw new BatchConflict();
        return results as { inserted: PreparedStatement[] }[];
      });
      for (const [i, request] of batch.entries()) request.resolve(outcomes[i]!);
    } catch (error) {
      if (!(error instanceof BatchConflict) && isDatabaseUnavailable(error)) {
        for (const request of batch) request.reject(error);
        return;
      }
      // Rolled back: store each request on its own, so only the one at fault fails.
      for (const request of batch) {
        await storeStatements(this.db, request.statements, request.credentialId, request.attachments).then(
          request.resolve,
          request.reject,
        );
      }
    }
  }
}
