/**
 * The Redis stream between ingestion and the worker (DESIGN §5).
 *
 * Terminology: a stream entry is `{id, payload}` (the statement id and the stored statement as
 * JSON) appended with XADD; the worker reads entries through a consumer group and acknowledges
 * (XACK) each only after its flat row is committed. Entries that fail repeatedly go to the dead
 * stream with their error.
 */
import type { Redis } from "ioredis";

/** Stream names and the consumer group: interfaces other deployments rely on. */
export const STATEMENT_STREAM = "xapi:statements";
export const DEAD_STREAM = "xapi:statements:dead";
export const CONSUMER_GROUP = "cohort-lrs-flatten";
/** Approximate cap on stream length (XADD MAXLEN ~): acknowledged history beyond it is trimmed. */
export const STREAM_MAXLEN = 1_000_000;
/**
 * The `origin` field of entries this service publishes. Their statements were validated and
 * committed to statements_raw before publishing, so the worker need not do either again; entries
 * from any other publisher are validated and stored by the worker.
 */
export const OWN_ORIGIN = "cohort-lrs";

export interface Publishable {
  id: string;
}

/**
 * Appends statements to `stream` (plan a.04: `publish_statement`), one pipelined XADD each.
 * Rejects when Redis does not take them; the caller logs and counts that, and the sweep
 * flattens the statements from PostgreSQL instead.
 */
export async function publishStatements(
  redis: Redis,
  stream: string,
  statements: Publishable[],
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
    );
  }
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error("redis pipeline did not run");
}

/** One statement: the plan's `publish_statement(stream, statement_json)`. */
export function publishStatement(redis: Redis, stream: string, statement: Publishable): Promise<void> {
  return publishStatements(redis, stream, [statement]);
}
