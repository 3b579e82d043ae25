/**
 * The `worker` role's stream consumer (plan a.05: `process_statement`).
 *
 * INVARIANTS
 * - An entry is acknowledged (XACK) only after its flat row (and raw row) is committed. A crash
 *   between commit and ack only means the entry is delivered again, and ON CONFLICT makes the
 *   second write a no-op: at-least-once delivery, exactly-once rows.
 * - No entry is dropped silently: one that cannot be flattened goes to the dead stream with its
 *   error, is recorded in task_status, and only then acknowledged.
 * - Entries left pending by a consumer that died are reclaimed (XAUTOCLAIM) once idle for
 *   `claimIdleMs`, at start and then periodically.
 * - On database errors the consumer backs off (doubling up to 10 s) and retries; it never acks
 *   what it could not commit. `stop()` finishes the batch in hand.
 * - A statement our api accepted is never judged again: an entry with our `origin` is flattened
 *   from its committed row in statements_raw. Only entries this service did not validate (another
 *   publisher's, or one whose id is not stored) are validated, and only they can be dead-lettered
 *   for it.
 * - Once Redis answers again after an outage, the consumer is reading within RESUME_BOUND_MS: its
 *   connection becoming ready ends the back-off sleep and starts the doubling over (a back-off
 *   grown during a long outage would otherwise keep it off the stream for up to 10 s more), and a
 *   consumer group lost with Redis's data (NOGROUP) is created again. It then logs
 *   "stream consumer resumed" with how long it was off.
 */
import os from "node:os";
import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { logTaskStatus } from "../data/taskStatus.ts";
import { type Db, isDatabaseUnavailable, queryRows } from "../db/client.ts";
import { metrics } from "../metrics.ts";
import { CONSUMER_GROUP, DEAD_STREAM, OWN_ORIGIN, STATEMENT_STREAM } from "../names.ts";
import type { StoredStatement } from "../xapi/validateStatement.ts";
import { validateStatement } from "../xapi/validateStatement.ts";
import { negotiateVersion, type XapiVersion } from "../xapi/version.ts";
import { type FlatRow, type FlattenContext, flattenStatement } from "./flattenStatement.ts";
import { writeFlatRows } from "./writeFlatRows.ts";

/**
 * How soon after Redis answers again the consumer is reading, at most, in ms. It adds up to about
 * 2.5 s on a loaded machine: reconnecting (attempts at most 1 s apart, `connectRedis`), ioredis's
 * ready check, a NOGROUP answer when Redis lost its data and the 250 ms back-off after it, then
 * one read and the batch it brings committed; twice that leaves room for a busy event loop. The
 * Redis fault tests (test/faults/etl.test.ts) hold the worker to it.
 */
export const RESUME_BOUND_MS = 5_000;

export interface ConsumerOptions {
  stream?: string;
  group?: string;
  /** This consumer's name in the group. Default: host name and pid. */
  consumer?: string;
  /** Entries per read. Default 500. */
  batchSize?: number;
  /** How long a read waits for new entries, in ms. Default 1,000. */
  blockMs?: number;
  /** Pending entries idle this long belong to a dead consumer and are reclaimed. Default 30 s. */
  claimIdleMs?: number;
  /** Failures of one entry before it goes to the dead stream. Default 5. */
  maxAttempts?: number;
}

export interface ConsumerStats {
  batches: number;
  flattened: number;
  acked: number;
  dead: number;
  lastBatchAt: Date | null;
  /** Times the consumer came back to the stream after its connection dropped or a batch failed. */
  resumes: number;
  /** How long it was off the stream the last time it came back, in ms. */
  lastOffMs: number | null;
}

type Entry = [id: string, fields: string[]];

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The rules an entry we did not validate is judged by: the xAPI version its publisher names in
 * the entry's `version` field, else the statement's own `version` (2.0.x → 2.0.0, else 1.0.3).
 */
function validationVersion(fields: string[], statement: StoredStatement): XapiVersion {
  return (
    negotiateVersion(field(fields, "version")) ??
    (String(statement.version ?? "").startsWith("2.") ? "2.0.0" : "1.0.3")
  );
}

export class StreamConsumer {
  readonly stats: ConsumerStats = {
    batches: 0,
    flattened: 0,
    acked: 0,
    dead: 0,
    lastBatchAt: null,
    resumes: 0,
    lastOffMs: null,
  };
  private readonly stream: string;
  private readonly group: string;
  private readonly consumer: string;

  /** This consumer's name in the group. */
  get consumerName(): string {
    return this.consumer;
  }
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly claimIdleMs: number;
  private readonly maxAttempts: number;
  private readonly failures = new Map<string, number>();
  private running = false;
  private loop: Promise<void> | undefined;
  private backoffMs = 0;
  /** Ends the back-off sleep early (Redis is back, or the consumer stops). */
  private wake: (() => void) | undefined;
  /** Since when the consumer is off the stream (connection lost or a batch failed). */
  private offSince: number | undefined;
  /** When the connection last became ready. */
  private readyAt = 0;
  private readonly onClose = () => {
    this.offSince ??= Date.now();
  };
  private readonly onReady = () => {
    this.readyAt = Date.now();
    // The outage the back-off was measuring is over: read again now, and start the doubling over.
    this.backoffMs = 0;
    this.wake?.();
  };

  constructor(
    private readonly deps: { db: Db; redis: Redis; log: Logger; context: FlattenContext },
    options: ConsumerOptions = {},
  ) {
    this.stream = options.stream ?? STATEMENT_STREAM;
    this.group = options.group ?? CONSUMER_GROUP;
    this.consumer = options.consumer ?? `${os.hostname()}-${process.pid}`;
    this.batchSize = options.batchSize ?? 500;
    this.blockMs = options.blockMs ?? 1_000;
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** Creates the consumer group if needed (reading the stream from its start) and starts consuming. */
  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.deps.redis.on("close", this.onClose).on("ready", this.onReady);
    this.loop = this.run();
  }

  /** Creates the consumer group (reading the stream from its start) unless it exists. */
  private async ensureGroup(): Promise<void> {
    try {
      await this.deps.redis.xgroup("CREATE", this.stream, this.group, "0", "MKSTREAM");
    } catch (error) {
      if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
    }
  }

  /** Stops after the batch in hand is committed and acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.deps.redis.off("close", this.onClose).off("ready", this.onReady);
  }

  private async run(): Promise<void> {
    const { log, redis } = this.deps;
    let lastClaim = 0;
    // Our own entries left pending by a previous life of this consumer name come first.
    let readPendingFirst = true;
    while (this.running) {
      try {
        if (Date.now() - lastClaim >= Math.min(this.claimIdleMs, 10_000)) {
          lastClaim = Date.now();
          const claimed = await this.reclaim();
          if (claimed.length) {
            log.info({ count: claimed.length }, "reclaimed stream entries of a dead consumer");
            await this.process(claimed);
          }
        }
        const entries = await this.read(readPendingFirst ? "0" : ">");
        if (readPendingFirst && entries.length === 0) readPendingFirst = false;
        if (entries.length) await this.process(entries);
        this.backoffMs = 0;
        if (this.offSince !== undefined && redis.status === "ready") this.resumed();
      } catch (error) {
        this.offSince ??= Date.now();
        this.backoffMs = Math.min(this.backoffMs ? this.backoffMs * 2 : 250, 10_000);
        log.warn({ err: error, backoffMs: this.backoffMs }, "stream consumer error; backing off");
        // Redis came back without its data (no persistence): the group is gone; make it again.
        if (String((error as Error).message).includes("NOGROUP")) await this.ensureGroup().catch(() => {});
        readPendingFirst = true; // retry what we hold before reading anything new
        await this.pause(this.backoffMs);
      }
    }
  }

  /** Sleeps `ms`, or less: until the connection is ready again or the consumer stops. */
  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** The first whole read-and-commit after an outage: say how long the consumer was off. */
  private resumed(): void {
    const now = Date.now();
    const offMs = now - (this.offSince ?? now);
    this.offSince = undefined;
    this.stats.resumes += 1;
    this.stats.lastOffMs = offMs;
    this.deps.log.info(
      { offMs, ...(this.readyAt > now - offMs ? { sinceReconnectMs: now - this.readyAt } : {}) },
      "stream consumer resumed",
    );
  }

  private async read(from: "0" | ">"): Promise<Entry[]> {
    const { redis } = this.deps;
    const reply = (
      from === ">"
        ? await redis.xreadgroup(
            "GROUP",
            this.group,
            this.consumer,
            "COUNT",
            this.batchSize,
            "BLOCK",
            this.blockMs,
            "STREAMS",
            this.stream,
            ">",
          )
        : await redis.xreadgroup(
            "GROUP",
            this.group,
            this.consumer,
            "COUNT",
            this.batchSize,
            "STREAMS",
            this.stream,
            "0",
          )
    ) as [string, Entry[]][] | null;
    // Pending entries whose data was trimmed come back as [id, null]: nothing to flatten, ack them.
    return (reply?.[0]?.[1] ?? []).map(([id, fields]) => [id, fields ?? []] as Entry);
  }

  private async reclaim(): Promise<Entry[]> {
    const reply = (await this.deps.redis.xautoclaim(
      this.stream,
      this.group,
      this.consumer,
      this.claimIdleMs,
      "0",
      "COUNT",
      this.batchSize,
    )) as [string, Entry[]];
    return (reply?.[1] ?? [])
      .filter((entry) => entry !== null)
      .map(([id, fields]) => [id, fields ?? []] as Entry);
  }

  /** Flattens, commits, then acknowledges one batch. Throws (acking nothing) on database errors. */
  private async process(entries: Entry[]): Promise<void> {
    const { db, context, log } = this.deps;
    const rows: FlatRow[] = [];
    const raws: StoredStatement[] = [];
    const dead: { entryId: string; statementId?: string; error: string; payload?: string }[] = [];
    const good: string[] = [];
    const committed = await this.committedStatements(entries);
    for (const [entryId, fields] of entries) {
      const payload = field(fields, "payload");
      if (payload === undefined) {
        good.push(entryId); // trimmed or empty entry: nothing left to do
        continue;
      }
      try {
        // Ours: validated when it was accepted, and committed; flatten what PostgreSQL holds.
        const ours = committed.get(field(fields, "id")?.toLowerCase() ?? "");
        if (ours) {
          rows.push(flattenStatement(ours, context));
          good.push(entryId);
          continue;
        }
        // Another publisher's (or one claiming our origin for a statement we never stored):
        // validate, and store the raw statement with the flat row.
        const statement = JSON.parse(payload) as StoredStatement;
        const problems = validateStatement(statement, { version: validationVersion(fields, statement) });
        if (problems.length || typeof statement.stored !== "string" || typeof statement.id !== "string") {
          const first = problems[0];
          throw new Error(first ? `${first.path || "statement"}: ${first.message}` : "missing id or stored");
        }
        raws.push(statement);
        rows.push(flattenStatement(statement, context));
        good.push(entryId);
      } catch (error) {
        dead.push({ entryId, statementId: field(fields, "id"), error: (error as Error).message, payload });
      }
    }

    try {
      const written = await db.transaction(async (tx) => {
        // Entries from another publisher may not be in statements_raw yet; ours always are.
        if (raws.length) {
          await tx.execute(sql`
            insert into statements_raw (id, payload, stored)
            select (s->>'id')::uuid, s, (s->>'stored')::timestamptz
            from jsonb_array_elements(${JSON.stringify(raws)}::jsonb) as s
            on conflict (id) do nothing`);
        }
        return writeFlatRows(tx, rows, context.publicBaseUrl);
      });
      this.stats.flattened += written;
      metrics.rowsFlattened.inc({ path: "stream" }, written);
    } catch (error) {
      // An outage: back off and retry the same entries (they stay pending, unacknowledged).
      if (isDatabaseUnavailable(error)) throw error;
      // Otherwise one entry may be poison: retry them one by one to find it.
      if (entries.length > 1) {
        for (const entry of entries) await this.process([entry]);
        return;
      }
      const [entryId, fields] = entries[0]!;
      const attempts = (this.failures.get(entryId) ?? 0) + 1;
      this.failures.set(entryId, attempts);
      if (attempts < this.maxAttempts) throw error;
      dead.push({
        entryId,
        statementId: field(fields, "id"),
        error: (error as Error).message,
        payload: field(fields, "payload"),
      });
      good.length = 0;
    }

    if (dead.length) await this.bury(dead);
    const ackIds = [...good, ...dead.map((entry) => entry.entryId)];
    if (ackIds.length) {
      await this.deps.redis.xack(this.stream, this.group, ...ackIds);
      for (const id of ackIds) this.failures.delete(id);
    }
    this.stats.batches += 1;
    this.stats.acked += ackIds.length;
    this.stats.lastBatchAt = new Date();
    log.debug(
      { entries: entries.length, flattened: rows.length, dead: dead.length },
      "stream batch committed",
    );
  }

  /**
   * The committed statements of the entries that say they are ours, by id. An entry's `origin`
   * only says where to look: what is flattened is the row our api committed after validating it,
   * so a forged entry cannot change it (see the trust boundary in stream.ts). Throws on database
   * errors, acknowledging nothing.
   */
  private async committedStatements(entries: Entry[]): Promise<Map<string, StoredStatement>> {
    const ids = entries
      .filter(([, fields]) => field(fields, "origin") === OWN_ORIGIN)
      .map(([, fields]) => field(fields, "id")?.toLowerCase())
      .filter((id): id is string => id !== undefined && UUID.test(id));
    if (ids.length === 0) return new Map();
    const rows = await queryRows<{ id: string; payload: StoredStatement }>(
      this.deps.db,
      sql`select id::text, payload from statements_raw
          where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)`,
    );
    return new Map(rows.map((row) => [row.id, row.payload]));
  }

  /** Moves entries to the dead stream with their error and records them in task_status. */
  private async bury(
    dead: { entryId: string; statementId?: string; error: string; payload?: string }[],
  ): Promise<void> {
    const pipeline = this.deps.redis.pipeline();
    for (const entry of dead) {
      pipeline.xadd(
        DEAD_STREAM,
        "*",
        "entry",
        entry.entryId,
        "id",
        entry.statementId ?? "",
        "error",
        entry.error,
        "payload",
        entry.payload ?? "",
      );
    }
    await pipeline.exec();
    this.stats.dead += dead.length;
    await logTaskStatus(
      this.deps.db,
      "stream-dead-letter",
      "failed",
      {
        count: dead.length,
        entries: dead
          .slice(0, 20)
          .map(({ entryId, statementId, error }) => ({ entryId, statementId, error })),
      },
      { error: dead[0]!.error },
    ).catch((error) => this.deps.log.error({ err: error }, "could not record dead entries"));
    this.deps.log.warn(
      { count: dead.length, first: dead[0]!.error },
      "stream entries moved to the dead stream",
    );
  }
}
