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
import { indexKey, NO_SINGLE_VERB } from "./statementIndexKeys.ts";
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
export const notVoided = (r: SQL) =>
  sql`not exists (
        select 1 from statements_raw v
        where v.payload->'verb'->>'id' = ${VOIDED} and v.payload->'object'->>'id' = ${r}.id::text
          and ${r}.payload->'verb'->>'id' <> ${VOIDED})`;

/**
 * `notVoided` for the statement of index row `i`, reading the statement only when it must: whether
 * it is itself a voiding statement is told by the row's verb (a voiding statement's object is a
 * StatementRef, so its rows carry `NO_SINGLE_VERB`; any other verb key says it is not one).
 * Written as scalar subqueries, which PostgreSQL runs per entry as a filter of the index walk, in
 * order, and never turns into a join that hashes every voiding statement first.
 */
const entryNotVoided = sql`(i.verb = ${indexKey("verb", VOIDED_VERB)}::uuid
      or (select v.id from statements_raw v
          where v.payload->'verb'->>'id' = ${VOIDED} and v.payload->'object'->>'id' = i.statement_id::text
          limit 1) is null
      or (i.verb = ${NO_SINGLE_VERB}::uuid and (
          select s.id from statements_raw s
          where s.id = i.statement_id and s.payload->'verb'->>'id' = ${VOIDED}) is not null))`;

/**
 * True when the statement of index row `i` has the verb whose index key is `verb`. The row carries
 * its statement's verb (`statement_index.verb`), so a verb beside another filter is checked on the
 * other key's index entries as they are read, instead of each entry being probed against the
 * verb's own entries (an eighth of every statement, for a common verb): a course's 50,000 entries
 * are scanned in order rather than probed 50,000 times. A statement whose object is a
 * StatementRef (it may take its target's verb key too) carries `NO_SINGLE_VERB`, and only those
 * rows are probed for the verb's key.
 */
const hasVerb = (verb: string) =>
  sql`(i.verb = ${verb}::uuid or (i.verb = ${NO_SINGLE_VERB}::uuid and (
        select 1 from statement_index v
        where v.key = ${verb}::uuid and v.stored = i.stored and v.statement_id = i.statement_id
        limit 1) is not null))`;

/**
 * One page of the statements matching `query` with `stored` ≤ `upperBound`, after `after` (in
 * the query's order) when given.
 *
 * Without a filter, `statements_raw` is walked by `stored`. With filters, the page's entries are
 * chosen in `statement_index` alone (keys, verb, bounds, voiding) and only those statements are
 * read, so however the planner orders the work it reads no more than a page of statements.
 */
export async function queryStatements(
  db: Db,
  query: StatementQuery,
  upperBound: string,
  after?: PagePosition,
): Promise<StatementPage> {
  // A verb alone is walked like any key; beside another key it only narrows that key's walk.
  const keys = query.keys.length === 0 && query.verb !== undefined ? [query.verb] : query.keys;
  const verb = query.keys.length === 0 ? undefined : query.verb;
  const [driving, ...others] = keys;
  const direction = query.ascending ? sql.raw("asc") : sql.raw("desc");
  const bounds = (stored: SQL, id: SQL): SQL[] => {
    const conditions = [sql`${stored} <= ${upperBound}::timestamptz`];
    if (query.since !== undefined) conditions.push(sql`${stored} > ${query.since}::timestamptz`);
    if (after !== undefined) {
      const position = sql`(${after.stored}::timestamptz, ${after.id}::uuid)`;
      conditions.push(
        query.ascending ? sql`(${stored}, ${id}) > ${position}` : sql`(${stored}, ${id}) < ${position}`,
      );
    }
    return conditions;
  };

  let statement: SQL;
  if (driving === undefined) {
    statement = sql`select r.payload, r.stored, r.id from statements_raw r
        where ${sql.join([...bounds(sql`r.stored`, sql`r.id`), notVoided(sql`r`)], sql` and `)}
        order by r.stored ${direction}, r.id ${direction}
        limit ${query.limit + 1}`;
  } else {
    // Further filters are inner joins on the same index (a key is unique per statement), so the
    // planner may start from whichever key its statistics say is rarer.
    const joins = others.map(
      (key, n) =>
        sql` join statement_index ${sql.raw(`x${n}`)} on ${sql.raw(`x${n}`)}.key = ${key}
             and ${sql.raw(`x${n}`)}.stored = i.stored and ${sql.raw(`x${n}`)}.statement_id = i.statement_id`,
    );
    const conditions = [sql`i.key = ${driving}`, ...bounds(sql`i.stored`, sql`i.statement_id`)];
    if (verb !== undefined) conditions.push(hasVerb(verb));
    conditions.push(entryNotVoided);
    statement = sql`select r.payload, r.stored, r.id
        from (select i.stored, i.statement_id from statement_index i${sql.join(joins, sql``)}
              where ${sql.join(conditions, sql` and `)}
              order by i.stored ${direction}, i.statement_id ${direction}
              limit ${query.limit + 1}) p
        join statements_raw r on r.id = p.statement_id
        order by p.stored ${direction}, p.statement_id ${direction}`;
  }

  type Row = { payload: StoredStatement; stored: Date | string; id: string };
  const rows =
    verb === undefined
      ? await queryRows<Row>(db, statement)
      : // PostgreSQL takes a key and a verb as independent, so it expects few entries to have both
        // (an activity's 2,000 entries, an eighth of them with a common verb) and plans to read
        // every match and sort them. A key's entries mostly share a few verbs, and then the walk in
        // order, which stops after a page, is the plan that holds at any size: the planner is told
        // not to collect the entries into a bitmap for this query.
        await db.transaction(async (tx) => {
          await tx.execute(sql`set local enable_bitmapscan = off`);
          return queryRows<Row>(tx, statement);
        });
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
