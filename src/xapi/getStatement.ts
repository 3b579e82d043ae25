/**
 * Single-statement retrieval (xAPI Communication §2.1.3): by `statementId` a statement that is not
 * voided, by `voidedStatementId` one that is. Either way a miss is a 404.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { VOIDED_VERB } from "../names.ts";
import type { StoredStatement } from "./validateStatement.ts";

export async function getStatement(
  db: Db,
  id: string,
  wantVoided: boolean,
): Promise<{ statement: StoredStatement; stored: Date } | undefined> {
  const [row] = await queryRows<{ payload: StoredStatement; stored: Date | string; voided: boolean }>(
    db,
    sql`select r.payload, r.stored,
          (r.payload->'verb'->>'id' <> ${VOIDED_VERB} and exists (
            select 1 from statements_raw v
            where v.payload->'verb'->>'id' = ${VOIDED_VERB} and v.payload->'object'->>'id' = r.id::text)) as voided
        from statements_raw r where r.id = ${id.toLowerCase()}::uuid`,
  );
  if (!row || row.voided !== wantVoided) return undefined;
  return { statement: row.payload, stored: new Date(row.stored) };
}
