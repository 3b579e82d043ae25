/**
 * The log of refused xAPI requests: what an operator reads at `/ui/xapi-log` when content says
 * "it doesn't work" (a wrong key, a missing version header, an invalid statement).
 *
 * Invariants:
 * - **Recording never fails or slows the request it records.** `record()` runs after the answer
 *   has been sent (an `onResponse` hook), is synchronous, bounded and never throws; the rows are
 *   written later, in batches, by one writer at a time.
 * - **Memory is bounded.** At most `bufferSize` entries wait to be written, each of bounded size
 *   (every text field is truncated); beyond that an entry is dropped and counted
 *   (`cohort_lrs_xapi_log_lost_total{reason="buffer_full"}`), as is a batch the database refused
 *   (`reason="write_failed"`, logged at most every 10 s).
 * - **No secret is kept.** No header is stored; the credential is the key presented, never its
 *   secret, and the secret (or a Bearer token) found anywhere in the stored text is masked.
 * - **The table is bounded**: after writing, the log prunes rows older than `maxAgeMs` and all
 *   but the newest `maxRows`, when a minute has passed since it last did or a tenth of `maxRows`
 *   rows were added since.
 */
import type { Logger } from "pino";
import { parseAuthorization } from "../auth/basic.ts";
import { insertXapiFailures, type NewXapiFailure, pruneXapiFailures } from "../data/xapiFailedRequests.ts";
import type { Db } from "../db/client.ts";
import { storableText } from "../db/storableText.ts";
import { metrics } from "../metrics.ts";

/** How much of a refused request's body is kept, in bytes. */
export const BODY_PREFIX_BYTES = 1024;
const MAX_QUERY = 1024;
const MAX_PATH = 512;
const MAX_MESSAGE = 1024;
const MAX_KEY = 200;
const MAX_SHORT = 100;
const SECRET_MASK = "[secret]";
/** Query parameters whose value is never kept (a client may put a credential there by mistake). */
const SECRET_PARAMETER = /auth|token|secret|passw/i;
const CMI5_FETCH = "/xapi/cmi5/fetch/";

/** What the HTTP layer knows of a refused request once it has been answered. */
export interface RefusedRequest {
  at: Date;
  method: string;
  /** The URL as requested: path and query. */
  url: string;
  status: number;
  /** The answer's `error` and `message`, when it was the project's JSON error. */
  errorCode: string | undefined;
  message: string | undefined;
  authorization: string | undefined;
  /** The credential the request was authenticated as, if it was. */
  client: { key: string; credentialId: string } | undefined;
  xapiVersion: string | undefined;
  contentType: string | undefined;
  contentLength: string | undefined;
  /** The start of the body as received (at least `BODY_PREFIX_BYTES` when the body is longer); undefined when it was not read. */
  bodyPrefix: Buffer | undefined;
  /** Whether `bodyPrefix` is the whole body. */
  bodyComplete: boolean;
  clientAddress: string | undefined;
  requestId: string | undefined;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never cut a surrogate pair in half.
  const end = /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/**
 * Text as it may be stored: storable, secrets masked, at most `max` characters. `cut`: the text
 * is the beginning of a longer one, so a secret may have been cut at its end.
 */
function clean(text: string | undefined, max: number, secrets: string[], cut = false): string | null {
  if (text === undefined) return null;
  let out = storableText(truncate(text, max + 64));
  const truncated = cut || text.length > max + 64;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(SECRET_MASK);
    // A secret cut by the truncation: its beginning is masked too.
    if (!truncated) continue;
    for (let length = Math.min(secret.length - 1, out.length); length >= 4; length--) {
      if (out.endsWith(secret.slice(0, length))) {
        out = `${out.slice(0, out.length - length)}${SECRET_MASK}`;
        break;
      }
    }
  }
  return truncate(out, max);
}

function maskPath(path: string): string {
  return path.startsWith(CMI5_FETCH) && path.length > CMI5_FETCH.length ? `${CMI5_FETCH}…` : path;
}

function maskQuery(query: string): string {
  return query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, " "));
      } catch {
        // keep the raw name
      }
      return eq >= 0 && SECRET_PARAMETER.test(name) ? `${rawName}=${SECRET_MASK}` : pair;
    })
    .join("&");
}

/**
 * The first `BODY_PREFIX_BYTES` of a body as text: UTF-8 decoded, a character cut at the end
 * left out, invalid bytes as U+FFFD, NUL as U+2400.
 */
export function bodyText(prefix: Buffer): string {
  return new TextDecoder("utf-8").decode(prefix.subarray(0, BODY_PREFIX_BYTES), { stream: true });
}

/** The row a refused request becomes. Pure: no IO. */
export function describeFailure(request: RefusedRequest): NewXapiFailure {
  const credentials = parseAuthorization(request.authorization);
  const secrets: string[] = [];
  if (credentials?.scheme === "basic") {
    if (credentials.password.length >= 4) secrets.push(credentials.password);
    const encoded = request.authorization!.slice(request.authorization!.indexOf(" ") + 1).trim();
    if (encoded.length >= 4) secrets.push(encoded);
  } else if (credentials?.scheme === "bearer" && credentials.token.length >= 4) {
    secrets.push(credentials.token);
  }
  const presentedKey =
    credentials?.scheme === "basic" && credentials.username ? credentials.username : undefined;
  const key = request.client?.key ?? presentedKey;

  const question = request.url.indexOf("?");
  const path = question < 0 ? request.url : request.url.slice(0, question);
  const query = question < 0 ? "" : request.url.slice(question + 1);

  const declaredLength = /^\d{1,15}$/.test(request.contentLength ?? "")
    ? Number(request.contentLength)
    : null;
  let body: string | null = null;
  let bodyBytes = declaredLength;
  if (request.bodyPrefix) {
    const cut = !request.bodyComplete || request.bodyPrefix.length > BODY_PREFIX_BYTES;
    body = clean(bodyText(request.bodyPrefix), BODY_PREFIX_BYTES, secrets, cut);
    if (request.bodyComplete) bodyBytes ??= request.bodyPrefix.length;
  }

  return {
    at: request.at,
    method: truncate(request.method, 16),
    path: clean(maskPath(path), MAX_PATH, secrets)!,
    query: query ? clean(maskQuery(query), MAX_QUERY, secrets) : null,
    status: request.status,
    errorCode: clean(request.errorCode, MAX_SHORT, secrets),
    message: clean(request.message, MAX_MESSAGE, secrets),
    credentialKey: clean(key, MAX_KEY, secrets),
    credentialStatus: request.client ? "verified" : key !== undefined ? "unverified" : "none",
    credentialId: request.client?.credentialId || null,
    xapiVersion: clean(request.xapiVersion, 64, secrets),
    contentType: clean(request.contentType, 200, secrets),
    body,
    bodyBytes,
    clientAddress: clean(request.clientAddress, 64, []),
    requestId: clean(request.requestId, 128, []),
  };
}

export interface FailureLogOptions {
  maxAgeMs: number;
  maxRows: number;
  log: Pick<Logger, "warn">;
  /** Entries waiting to be written, at most. Default 1,000. */
  bufferSize?: number;
  /** Rows per insert. Default 200. */
  batchSize?: number;
  /** How long an entry waits for others before a write starts, ms. Default 500. */
  flushDelayMs?: number;
  /** Prune at least this often while rows are written, ms. Default 60 s. */
  pruneEveryMs?: number;
  /** Writes a batch; default one multi-row insert into `xapi_failed_requests`. */
  write?: (db: Db, rows: NewXapiFailure[]) => Promise<void>;
}

const WARN_EVERY_MS = 10_000;

export class XapiFailureLog {
  private buffer: NewXapiFailure[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private insertedSincePrune = 0;
  private lastPruneAt = 0;
  private lastWarnAt = 0;
  private lostSinceWarn = 0;
  private readonly bufferSize: number;
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private readonly pruneEveryMs: number;
  private readonly write: (db: Db, rows: NewXapiFailure[]) => Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly options: FailureLogOptions,
  ) {
    this.bufferSize = options.bufferSize ?? 1_000;
    this.batchSize = options.batchSize ?? 200;
    this.flushDelayMs = options.flushDelayMs ?? 500;
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.write = options.write ?? insertXapiFailures;
  }

  /** Queues a refused request for the log. Synchronous; never throws. */
  record(request: RefusedRequest): void {
    try {
      metrics.xapiFailedRequests.inc({ status: String(request.status), code: request.errorCode ?? "none" });
      if (this.closed || this.buffer.length >= this.bufferSize) {
        metrics.xapiLogLost.inc({ reason: "buffer_full" });
        return;
      }
      this.buffer.push(describeFailure(request));
      this.schedule();
    } catch (error) {
      this.warn(error, 1);
    }
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Writes everything queued so far (and waits for a write under way). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    if (this.buffer.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = undefined;
      if (this.buffer.length && !this.closed) this.schedule();
    });
    await this.writing;
  }

  /** Writes what is queued; later entries are dropped and counted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushDelayMs);
    this.timer.unref();
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        await this.write(this.db, batch);
        this.insertedSincePrune += batch.length;
      } catch (error) {
        metrics.xapiLogLost.inc({ reason: "write_failed" }, batch.length);
        this.warn(error, batch.length);
      }
    }
    const due =
      Date.now() - this.lastPruneAt >= this.pruneEveryMs ||
      this.insertedSincePrune >= Math.max(1, Math.floor(this.options.maxRows / 10));
    if (due && this.insertedSincePrune > 0) await this.prune();
  }

  /** Prunes by age and by count now. */
  async prune(): Promise<{ byAge: number; byCount: number } | undefined> {
    this.lastPruneAt = Date.now();
    this.insertedSincePrune = 0;
    try {
      return await pruneXapiFailures(this.db, {
        maxAgeMs: this.options.maxAgeMs,
        maxRows: this.options.maxRows,
      });
    } catch (error) {
      this.warn(error, 0);
      return undefined;
    }
  }

  private warn(error: unknown, lost: number): void {
    this.lostSinceWarn += lost;
    if (Date.now() - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = Date.now();
    try {
      this.options.log.warn(
        { err: error, lost: this.lostSinceWarn },
        "could not write refused xAPI requests to the log (counted in cohort_lrs_xapi_log_lost_total)",
      );
    } catch {
      // a logger that throws must not reach the request path either
    }
    this.lostSinceWarn = 0;
  }
}
