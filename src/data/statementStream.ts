/**
 * The Redis stream between ingestion and the worker (DESIGN §5).
 *
 * Terminology: a stream entry is `{id, payload, origin, version}` (the statement id, the stored
 * statement as JSON, who published it, and the xAPI version its request was accepted under)
 * appended with XADD; the worker reads entries through a consumer group and acknowledges (XACK)
 * each only after its flat row is committed. Entries that fail repeatedly go to the dead stream
 * with their error.
 *
 * Trust boundary: only cohort-lrs and the publishers an operator adds write to this Redis. An
 * entry with our `origin` is not believed on its word: the worker flattens the statement that
 * `statements_raw` holds under the entry's id (committed by our api after validation), never the
 * entry's payload, and an entry whose id is not stored is validated like any other publisher's.
 * So writing a false `origin` can neither change a stored statement's flat row nor slip an
 * unvalidated statement in. Entries from any other publisher are validated (by the xAPI version in
 * their `version` field, else by the statement's own `version`) and stored by the worker.
 *
 * The stream's names (STATEMENT_STREAM, DEAD_STREAM, CONSUMER_GROUP, OWN_ORIGIN) are in `src/names.ts`.
 */
import type { Redis } from "ioredis";
import { OWN_ORIGIN } from "../names.ts";

/** Approximate cap on stream length (XADD MAXLEN ~): acknowledged history beyond it is trimmed. */
export const STREAM_MAXLEN = 1_000_000;

export interface Publishable {
  id: string;
}

/**
 * Appends statements to `stream` (plan a.04: `publish_statement`), one pipelined XADD each, with
 * our `origin` and `version`, the xAPI version (`X-Experience-API-Version`) their request was
 * validated and accepted under, which is not always the statement's own `version` property.
 * Rejects when Redis does not take them; the caller logs and counts that, and the sweep
 * flattens the statements from PostgreSQL instead.
 */
export async function publishStatements(
  redis: Redis,
  stream: string,
  statements: Publishable[],
  version: string,
): Promise<void> {
  if (statements.length === 0) return;
  const pipeline = redis.pipeline();
  for (const statement of statements) {
    pipeline.xadd(
      stream,
      "MAXLEN",
      "~",
      STREAM_MAXLEN,
      "*",
      "id",
      statement.id,
      "payload",
      JSON.stringify(statement),
      "origin",
      OWN_ORIGIN,
      "version",
      version,
    );
  }
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error("redis pipeline did not run");
}

/** One statement: the plan's `publish_statement(stream, statement_json)`. */
export function publishStatement(
  redis: Redis,
  stream: string,
  statement: Publishable,
  version: string,
): Promise<void> {
  return publishStatements(redis, stream, [statement], version);
}

/**
 * The id of the stream entry that carries statement `statementId`, looked for among the newest
 * `newest` entries of `stream`; undefined when it is not there or Redis does not answer.
 */
export async function findStreamEntry(
  redis: Redis,
  stream: string,
  statementId: string,
  newest = 200,
): Promise<string | undefined> {
  const entries = await redis.xrevrange(stream, "+", "-", "COUNT", newest).catch(() => []);
  return entries.find(([, fields]) => fields.includes(statementId))?.[0];
}
