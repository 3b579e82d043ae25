/**
 * Data §2.3.2: a voiding statement cannot target another voiding statement. A request carrying
 * one that does (targeting a stored voiding statement, or one earlier in the same request) is
 * refused whole with 400, before anything of it is stored.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { VOIDED_VERB } from "../names.ts";
import type { PreparedStatement } from "./prepareStatement.ts";

export class VoidingVoider extends AppError {
  constructor(index: number, target: string, batch: boolean) {
    const field = `statement${batch ? `[${index}]` : ""}.object.id`;
    super(
      400,
      "invalid_void",
      `${field}: statement ${target} is a voiding statement, which cannot be voided`,
      [{ field, message: "targets a voiding statement" }],
    );
  }
}

export async function checkVoiders(db: Db, statements: PreparedStatement[], batch: boolean): Promise<void> {
  const voiding = statements.flatMap((statement, index) =>
    statement.verb.id === VOIDED_VERB && statement.object.objectType === "StatementRef"
      ? [{ index, target: statement.object.id }]
      : [],
  );
  if (voiding.length === 0) return;
  const inRequest = new Set(voiding.map(({ index }) => statements[index]!.id));
  const stored = await queryRows<{ id: string }>(
    db,
    sql`select id from statements_raw
        where id in (select jsonb_array_elements_text(${JSON.stringify(voiding.map((v) => v.target))}::jsonb)::uuid)
          and payload->'verb'->>'id' = ${VOIDED_VERB}`,
  );
  const voiders = new Set([...inRequest, ...stored.map((row) => row.id)]);
  const bad = voiding.find(({ target }) => voiders.has(target));
  if (bad) throw new VoidingVoider(bad.index, bad.target, batch);
}
