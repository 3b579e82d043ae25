/**
 * Writes flat rows: the one SQL both the stream worker and the incremental sweep use, so the
 * two paths cannot disagree.
 *
 * In one set-based statement it inserts the rows (`ON CONFLICT DO NOTHING`: a row flattened twice,
 * by a redelivered stream entry or two concurrent sweeps, is written once), resolves each actor to
 * a registered learner (`learnerOfActor`, the completion rule's actor match), and marks a row voided when its voiding statement is
 * already stored. A second statement then voids the targets of voiding statements that were
 * flattened before them.
 */
import { sql } from "drizzle-orm";
import { learnerOfActor } from "../data/completion.ts";
import { type Db, queryRows } from "../db/client.ts";
import { VOIDED_VERB } from "../names.ts";
import type { FlatRow } from "./flattenStatement.ts";

type Executor = Pick<Db, "execute">;

/** Inserts `rows` (skipping ones already there); returns how many were new. */
export async function writeFlatRows(db: Executor, rows: FlatRow[], publicBaseUrl: string): Promise<number> {
  if (rows.length === 0) return 0;
  const input = JSON.stringify(
    rows.map((row) => ({
      statement_id: row.statementId,
      actor_mbox: row.actorMbox,
      actor_account_homepage: row.actorAccountHomepage,
      actor_account_name: row.actorAccountName,
      actor_name: row.actorName,
      verb_id: row.verbId,
      verb_display: row.verbDisplay,
      object_id: row.objectId,
      object_type: row.objectType,
      object_name: row.objectName,
      result_success: row.resultSuccess,
      result_completion: row.resultCompletion,
      result_score_scaled: row.resultScoreScaled,
      result_score_raw: row.resultScoreRaw,
      result_duration_ms: row.resultDurationMs,
      context_registration: row.contextRegistration,
      timestamp: row.timestamp instanceof Date ? row.timestamp.toISOString() : row.timestamp,
      stored: row.stored instanceof Date ? row.stored.toISOString() : row.stored,
      is_completion: row.isCompletion,
    })),
  );
  const inserted = await queryRows<{
    statement_id: string;
    verb_id: string;
    object_id: string;
    object_type: string;
  }>(
    db,
    sql`
    insert into statements_flat (
      statement_id, actor_mbox, actor_account_homepage, actor_account_name, actor_name, user_id,
      verb_id, verb_display, object_id, object_type, object_name,
      result_success, result_completion, result_score_scaled, result_score_raw, result_duration_ms,
      context_registration, "timestamp", stored, is_completion, voided)
    select
      i.statement_id, i.actor_mbox, i.actor_account_homepage, i.actor_account_name, i.actor_name,
      ${learnerOfActor(publicBaseUrl)},
      i.verb_id, i.verb_display, i.object_id, i.object_type, i.object_name,
      i.result_success, i.result_completion, i.result_score_scaled, i.result_score_raw, i.result_duration_ms,
      i.context_registration, i."timestamp", i.stored, i.is_completion,
      i.verb_id <> ${VOIDED_VERB} and exists (
        select 1 from statements_raw v
        where v.payload->'verb'->>'id' = ${VOIDED_VERB}
          and v.payload->'object'->>'id' = i.statement_id::text)
    from jsonb_to_recordset(${input}::jsonb) as i(
      statement_id uuid, actor_mbox text, actor_account_homepage text, actor_account_name text, actor_name text,
      verb_id text, verb_display text, object_id text, object_type text, object_name text,
      result_success boolean, result_completion boolean, result_score_scaled double precision,
      result_score_raw double precision, result_duration_ms bigint, context_registration uuid,
      "timestamp" timestamptz, stored timestamptz, is_completion boolean)
    on conflict (statement_id) do nothing
    returning statement_id, verb_id, object_id, object_type`,
  );
  const voidedTargets = inserted
    .filter((row) => row.verb_id === VOIDED_VERB && row.object_type === "StatementRef")
    .map((row) => row.object_id.toLowerCase());
  if (voidedTargets.length) await markVoided(db, voidedTargets);
  return inserted.length;
}

/** Marks the flat rows of `statementIds` voided (a voiding statement cannot itself be voided). */
async function markVoided(db: Executor, statementIds: string[]): Promise<void> {
  await db.execute(sql`
    update statements_flat set voided = true
    where statement_id::text in (select jsonb_array_elements_text(${JSON.stringify(statementIds)}::jsonb))
      and verb_id <> ${VOIDED_VERB} and not voided`);
}

/**
 * Catches voids that raced with flattening (a target flattened in a transaction that could not
 * yet see its voiding statement). Driven by the partial index of voiding statements: cheap.
 */
export async function reconcileVoided(db: Executor): Promise<number> {
  const rows = await queryRows<{ statement_id: string }>(
    db,
    sql`
    update statements_flat f set voided = true
    from statements_raw v
    where v.payload->'verb'->>'id' = ${VOIDED_VERB}
      and f.statement_id::text = v.payload->'object'->>'id'
      and f.verb_id <> ${VOIDED_VERB} and not f.voided
    returning f.statement_id`,
  );
  return rows.length;
}
