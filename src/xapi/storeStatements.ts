/**
 * Storing statements: the durability step. When this resolves, every statement of the request is
 * committed in `statements_raw` (DESIGN §5: a 2xx means it is in PostgreSQL).
 *
 * One transaction per request, one multi-row INSERT for all its statements. An id that is already
 * stored is accepted when the stored statement matches (`sameStatement`), and makes the whole
 * request fail with 409 when it does not; the transaction is rolled back, so nothing of that
 * request is stored.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import type { PreparedStatement } from "./prepareStatement.ts";
import { sameStatement } from "./sameStatement.ts";

export class StatementConflict extends AppError {
  constructor(readonly statementId: string) {
    super(409, "statement_conflict", `a different statement with id ${statementId} is already stored`);
  }
}

export interface StoreResult {
  /** Statements newly stored by this call (a resent identical statement is not among them). */
  inserted: PreparedStatement[];
}

export async function storeStatements(
  db: Db,
  statements: PreparedStatement[],
  credentialId: string | null,
): Promise<StoreResult> {
  if (statements.length === 0) return { inserted: [] };
  return db.transaction(async (tx) => {
    const insertedIds = await queryRows<{ id: string }>(
      tx,
      sql`insert into statements_raw (id, payload, stored, credential_id)
          select (s->>'id')::uuid, s, (s->>'stored')::timestamptz, ${credentialId}::uuid
          from jsonb_array_elements(${JSON.stringify(statements)}::jsonb) as s
          on conflict (id) do nothing
          returning id`,
    );
    const inserted = new Set(insertedIds.map((row) => row.id));
    const skipped = statements.filter((statement) => !inserted.has(statement.id));
    if (skipped.length) {
      const existing = await queryRows<{ id: string; payload: Record<string, unknown> }>(
        tx,
        sql`select id, payload from statements_raw
            where id in (select jsonb_array_elements_text(${JSON.stringify(skipped.map((s) => s.id))}::jsonb)::uuid)`,
      );
      const byId = new Map(existing.map((row) => [row.id, row.payload]));
      for (const statement of skipped) {
        const stored = byId.get(statement.id);
        if (!stored || !sameStatement(stored, statement)) throw new StatementConflict(statement.id);
      }
    }
    return { inserted: statements.filter((statement) => inserted.has(statement.id)) };
  });
}
