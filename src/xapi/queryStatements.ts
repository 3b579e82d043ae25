/**
 * Statement queries (xAPI Communication §2.1.3) over `statements_raw` and `statement_index`, both
 * written in the insert transaction: a statement is found as soon as its POST has answered (never
 * through the asynchronous `statements_flat`).
 *
 * Pages are a keyset over (`stored`, id), newest first unless `ascending`, below a fixed upper
 * bound, so the next page of a result is the same result even while statements arrive. Voided
 * statements (Data §2.3.2: the target of a voiding statement that is not itself a voiding
 * statement) are left out; statements that target them are not.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { VOIDED_VERB } from "../names.ts";
import type { StatementQuery } from "./parseStatementQuery.ts";
import type { StoredStatement } from "./validateStatement.ts";

/** Where a page ends: the last statement returned, by (`stored`, id). */
export interface PagePosition {
  stored: string;
  id: string;
}

export interface StatementPage {
  statements: StoredStatement[];
  /** Where the next page starts, when there is one. */
  next?: PagePosition | undefined;
}

const VOIDED = sql.raw(`'${VOIDED_VERB}'`);

/**
 * True when the statement `r` is not voided: no voiding statement targets it, or it is itself a
 * voiding statement. Written as one plain NOT EXISTS, with the condition on `r` inside it, so
 * PostgreSQL plans an anti-join that probes the partial index of voiding statements
 * (`statements_raw_voided_target_idx`) for each row a page reads. The equivalent
 * `verb = voided OR NOT EXISTS (…)` made it hash every voiding statement first on each query
 * (20,000 rows at 1,000,000 statements), whatever the page.
 */
const notVoided = (r: SQL) =>
  sql`not exists (
        select 1 from statements_raw v
        where v.payload->'verb'->>'id' = ${VOIDED} and v.payload->'object'->>'id' = ${r}.id::text
          and ${r}.payload->'verb'->>'id' <> ${VOIDED})`;

/**
 * One page of the statements matching `query` with `stored` ≤ `upperBound`, after `after` (in
 * the query's order) when given.
 */
export async function queryStatements(
  db: Db,
  query: StatementQuery,
  upperBound: string,
  after?: PagePosition,
): Promise<StatementPage> {
  const [driving, ...others] = query.keys;
  // Filtered: walk a key's index entries in (stored, id) order.
  const stored = driving === undefined ? sql`r.stored` : sql`i.stored`;
  const id = driving === undefined ? sql`r.id` : sql`i.statement_id`;
  const conditions: SQL[] = [sql`${stored} <= ${upperBound}::timestamptz`];
  if (driving !== undefined) conditions.push(sql`i.key = ${driving}`);
  if (query.since !== undefined) conditions.push(sql`${stored} > ${query.since}::timestamptz`);
  if (after !== undefined) {
    const position = sql`(${after.stored}::timestamptz, ${after.id}::uuid)`;
    conditions.push(
      query.ascending ? sql`(${stored}, ${id}) > ${position}` : sql`(${stored}, ${id}) < ${position}`,
    );
  }
  conditions.push(notVoided(sql`r`));
  const direction = query.ascending ? sql.raw("asc") : sql.raw("desc");
  // Further filters are inner joins on the same index (a key is unique per statement), so the
  // planner may start from whichever key its statistics say is rarer.
  const joins = others.map(
    (key, n) =>
      sql` join statement_index ${sql.raw(`x${n}`)} on ${sql.raw(`x${n}`)}.key = ${key}
             and ${sql.raw(`x${n}`)}.stored = i.stored and ${sql.raw(`x${n}`)}.statement_id = i.statement_id`,
  );
  const from =
    driving === undefined
      ? sql`statements_raw r`
      : sql`statement_index i${sql.join(joins, sql``)} join statements_raw r on r.id = i.statement_id`;

  const rows = await queryRows<{ payload: StoredStatement; stored: Date | string; id: string }>(
    db,
    sql`select r.payload, r.stored, r.id from ${from}
        where ${sql.join(conditions, sql` and `)}
        order by ${stored} ${direction}, ${id} ${direction}
        limit ${query.limit + 1}`,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    statements: page.map((row) => row.payload),
    next:
      rows.length > query.limit && last
        ? { stored: new Date(last.stored).toISOString(), id: last.id }
        : undefined,
  };
}
