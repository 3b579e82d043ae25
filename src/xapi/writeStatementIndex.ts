/**
 * Writes the `statement_index` rows of newly inserted statements. Runs inside the transaction
 * that inserts them into `statements_raw`, so a statement is queryable the moment its insert
 * commits (read-your-writes), and a rolled-back insert leaves no index rows.
 *
 * A statement whose object is a StatementRef also gets the keys of the statement it targets (and,
 * recursively, of what that one targets): Communication §2.1.3 says such a statement meets a
 * filter (other than since, until, limit) when its target does. The target's keys are taken when
 * the referring statement is stored; a target stored later does not add keys to it.
 *
 * Every row also carries its statement's verb key (`verb`), so a query filtering on a verb and
 * another key narrows the other key's entries as it reads them. A statement whose object is a
 * StatementRef may take its target's verb key too, so it carries `NO_SINGLE_VERB` (a pure function
 * of the statement, so the backfill and migration 0012 write the same rows).
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import {
  hashKey,
  indexKey,
  NO_SINGLE_VERB,
  statementIndexKeys,
  statementRefTarget,
} from "./statementIndexKeys.ts";
import type { StoredStatement } from "./validateStatement.ts";

/** How many StatementRef hops are followed for inherited keys. */
const MAX_REF_DEPTH = 10;

/**
 * Indexes `statements` (already inserted in the transaction `tx`). `fresh`: the statements were
 * inserted by this very transaction (the insert path), so none of their rows can exist and a
 * plain INSERT does (an `ON CONFLICT` check costs a speculative insertion per row, about a third
 * of the index's write time); otherwise rows already there are kept (the backfill).
 */
export async function writeStatementIndex(
  tx: Pick<Db, "execute">,
  statements: readonly StoredStatement[],
  { fresh }: { fresh: boolean },
): Promise<void> {
  if (statements.length === 0) return;
  const known = new Map<string, StoredStatement>(statements.map((statement) => [statement.id, statement]));
  await loadTargets(tx, statements, known);

  const keys: string[] = [];
  const stored: string[] = [];
  const ids: string[] = [];
  const verbs: string[] = [];
  for (const statement of statements) {
    const own = new Set(statementIndexKeys(statement));
    let target = statementRefTarget(statement);
    for (let depth = 0; target !== undefined && depth < MAX_REF_DEPTH; depth++) {
      const targeted = known.get(target);
      if (!targeted) break;
      for (const key of statementIndexKeys(targeted)) own.add(key);
      target = statementRefTarget(targeted);
    }
    const verb =
      statementRefTarget(statement) === undefined ? indexKey("verb", statement.verb.id) : NO_SINGLE_VERB;
    for (const key of own) {
      keys.push(hashKey(key));
      stored.push(statement.stored);
      ids.push(statement.id);
      verbs.push(verb);
    }
  }
  await tx.execute(
    sql`insert into statement_index (key, stored, statement_id, verb)
        select * from unnest(${sql.param(keys)}::uuid[], ${sql.param(stored)}::timestamptz[],
                             ${sql.param(ids)}::uuid[], ${sql.param(verbs)}::uuid[])
        ${fresh ? sql`` : sql`on conflict do nothing`}`,
  );
}

/** Adds to `known` the stored statements the StatementRefs of `statements` lead to. */
async function loadTargets(
  tx: Pick<Db, "execute">,
  statements: readonly StoredStatement[],
  known: Map<string, StoredStatement>,
): Promise<void> {
  let frontier = statements;
  for (let depth = 0; depth < MAX_REF_DEPTH; depth++) {
    const wanted = [
      ...new Set(frontier.map(statementRefTarget).filter((id): id is string => !!id && !known.has(id))),
    ];
    if (wanted.length === 0) return;
    const found = await queryRows<{ payload: StoredStatement }>(
      tx,
      sql`select payload from statements_raw
          where id in (select jsonb_array_elements_text(${JSON.stringify(wanted)}::jsonb)::uuid)`,
    );
    frontier = found.map((row) => row.payload);
    for (const statement of frontier) known.set(statement.id, statement);
  }
}
