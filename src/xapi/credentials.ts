/**
 * xAPI client authentication (plan: `verify_basic_credentials`): HTTP Basic with a key and secret
 * from `api_credentials`. Secrets are scrypt hashes, so checking one costs tens of milliseconds of
 * CPU and 16 MiB. What keeps that cost from being a weapon:
 *
 * - **Failed attempts are counted before the check** (`FailureLimiter.begin`, per client
 *   address): at most 20 checks a minute run for one address, however many of its requests arrive
 *   at once. A right secret gives its attempt back.
 * - **Checks run through a `WorkGate`**: a few at once, a bounded queue, 503 beyond it.
 * - **A verified secret is remembered per key**, as an HMAC under a random key of this process
 *   (never the secret itself), compared in constant time, so a busy client does not pay scrypt on
 *   every request. A remembered secret is confirmed against the database every `RECHECK_MS` (the
 *   row is not revoked and holds the same hash: one indexed read, no scrypt), so a revoked
 *   credential stops working within that time in every process, and at once in the process that
 *   revoked it (`forget()`).
 * - A credential whose `revoked_at` is in the future (a cmi5 launch's) works until then, and not
 *   a moment longer, remembered or not.
 * - Concurrent requests with the same key and secret share one check; a failed one is counted
 *   for each of them when it ends.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import { parseAuthorization } from "../auth/basic.ts";
import { FailureLimiter, XAPI_FAILURE_LIMITS } from "../auth/failureLimiter.ts";
import { verifySecret } from "../auth/secrets.ts";
import { WorkGate } from "../auth/workGate.ts";
import type { Db } from "../db/client.ts";
import { apiCredentials } from "../db/schema.ts";
import { unstorableTextProblem } from "../db/storableText.ts";
import { TooManyFailures, Unauthorized } from "../errors.ts";
import { metrics } from "../metrics.ts";

export interface XapiClient {
  credentialId: string;
  key: string;
  name: string;
  scopes: string[];
}

/** How long a remembered secret is trusted before the database confirms its credential again, ms. */
const RECHECK_MS = 5_000;
/** How often `last_used_at` is written for one credential, at most, ms. */
const TOUCH_MS = 60_000;
/** Remembered keys per process; only verified secrets are remembered, so only clients fill it. */
const MAX_KNOWN = 10_000;

interface Known {
  /** HMAC of the secret under `hmacKey`. */
  digest: Buffer;
  /** The scrypt hash the secret was verified against. */
  secretHash: string;
  client: XapiClient;
  confirmedAt: number;
  /** When the credential expires (a future `revoked_at`), ms; honoured between confirmations too. */
  expiresAt: number;
}

export interface VerifierOptions {
  /** Failed attempts per client address; default `XAPI_FAILURE_LIMITS` (20 a minute). */
  limiter?: FailureLimiter;
  /** Where scrypt runs; default a `WorkGate` with its defaults. */
  gate?: WorkGate;
  now?: () => number;
}

export class CredentialVerifier {
  private readonly known = new Map<string, Known>();
  private readonly touched = new Map<string, number>();
  /** Checks under way, so a burst of requests with one credential runs scrypt once, not per request. */
  private readonly checking = new Map<string, Promise<XapiClient | undefined>>();
  private readonly hmacKey = randomBytes(32);
  private readonly limiter: FailureLimiter;
  private readonly gate: WorkGate;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    options: VerifierOptions = {},
  ) {
    this.limiter = options.limiter ?? new FailureLimiter(XAPI_FAILURE_LIMITS);
    this.gate = options.gate ?? new WorkGate();
    this.now = options.now ?? Date.now;
  }

  /**
   * The client an `Authorization` header authenticates, for a request from `address`. Throws
   * `Unauthorized` (401), `TooManyFailures` (429: the address failed too often) or `ServerBusy`
   * (503: too many checks under way).
   */
  async authenticate(header: string | undefined, address: string): Promise<XapiClient> {
    const blocked = this.limiter.retryAfterS(address);
    if (blocked > 0) throw new TooManyFailures(blocked);
    const credentials = parseAuthorization(header);
    if (credentials?.scheme !== "basic" || !credentials.username || !credentials.password) {
      return this.refuse(address);
    }
    const { username: key, password: secret } = credentials;
    // No credential holds a NUL: asking PostgreSQL for such a key would fail with 500, and scrypt
    // (HMAC underneath) would take a secret with NULs appended for the secret itself.
    if (unstorableTextProblem(key) || unstorableTextProblem(secret)) return this.refuse(address);
    const digest = createHmac("sha256", this.hmacKey).update(secret).digest();

    const known = this.known.get(key);
    if (known && timingSafeEqual(known.digest, digest)) {
      if (this.now() - known.confirmedAt < RECHECK_MS && this.now() < known.expiresAt) {
        this.touch(known.client);
        return known.client;
      }
      const confirmed = await this.shared(`confirm\u0000${key}`, () => this.confirm(key, known));
      if (confirmed) return confirmed;
      // Revoked, or its secret replaced: the full check below decides, and counts a failure.
    }

    const shareKey = `check\u0000${key}\u0000${digest.toString("base64")}`;
    const underway = this.checking.get(shareKey);
    if (underway) return (await underway) ?? this.refuse(address);

    // Counted as a failure before the expensive check; given back when the secret is right.
    const attempt = this.limiter.begin(address);
    if (!attempt.allowed) throw new TooManyFailures(attempt.retryAfterS);
    let client: XapiClient | undefined;
    try {
      client = await this.shared(shareKey, () => this.check(key, secret, digest));
    } catch (error) {
      attempt.cancel();
      throw error;
    }
    if (!client) {
      metrics.xapiAuthFailures.inc();
      throw unauthorized();
    }
    attempt.succeeded();
    return client;
  }

  /** Forgets every remembered secret (after a credential is revoked in this process). */
  forget(): void {
    this.known.clear();
  }

  /** A failure that ran no check of its own: counted now; 429 instead of 401 once over the limit. */
  private refuse(address: string): never {
    metrics.xapiAuthFailures.inc();
    const attempt = this.limiter.begin(address);
    if (!attempt.allowed) throw new TooManyFailures(attempt.retryAfterS);
    throw unauthorized();
  }

  private shared(
    shareKey: string,
    run: () => Promise<XapiClient | undefined>,
  ): Promise<XapiClient | undefined> {
    const underway = this.checking.get(shareKey);
    if (underway) return underway;
    const check = run().finally(() => this.checking.delete(shareKey));
    this.checking.set(shareKey, check);
    return check;
  }

  /** The full check: the row, and scrypt of the secret against its hash, through the gate. */
  private check(key: string, secret: string, digest: Buffer): Promise<XapiClient | undefined> {
    return this.gate.run(async () => {
      const [row] = await this.db.select().from(apiCredentials).where(eq(apiCredentials.key, key));
      metrics.xapiSecretChecks.inc();
      // Verify against a dummy hash when the key is unknown, so timing does not reveal which keys exist.
      const ok = await verifySecret(secret, row?.secretHash ?? DUMMY_HASH);
      if (!row || !ok || isRevoked(row.revokedAt, this.now())) return undefined;
      const client = { credentialId: row.id, key: row.key, name: row.name, scopes: row.scopes };
      if (this.known.size >= MAX_KNOWN) this.known.clear();
      const expiresAt = row.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY;
      this.known.set(key, { digest, secretHash: row.secretHash, client, confirmedAt: this.now(), expiresAt });
      this.touch(client);
      return client;
    });
  }

  /** A remembered secret is still good while its row is unrevoked and holds the same hash. */
  private async confirm(key: string, known: Known): Promise<XapiClient | undefined> {
    const [row] = await this.db.select().from(apiCredentials).where(eq(apiCredentials.key, key));
    if (!row || isRevoked(row.revokedAt, this.now()) || row.secretHash !== known.secretHash) {
      if (this.known.get(key) === known) this.known.delete(key);
      return undefined;
    }
    const client = { credentialId: row.id, key: row.key, name: row.name, scopes: row.scopes };
    this.known.set(key, { ...known, client, confirmedAt: this.now() });
    this.touch(client);
    return client;
  }

  private touch(client: XapiClient): void {
    const last = this.touched.get(client.credentialId) ?? 0;
    if (this.now() - last < TOUCH_MS) return;
    if (this.touched.size >= MAX_KNOWN) this.touched.clear();
    this.touched.set(client.credentialId, this.now());
    void this.db
      .update(apiCredentials)
      .set({ lastUsedAt: new Date(this.now()) })
      .where(eq(apiCredentials.id, client.credentialId))
      .catch(() => {}); // bookkeeping only: never fail a request over it
  }
}

/**
 * A credential stops working at its `revoked_at`: in the past when an operator revoked it, in the
 * future for one that expires (a cmi5 launch's credential, see `cmi5/launchCredential.ts`).
 */
export function isRevoked(revokedAt: Date | null, now: number): boolean {
  return revokedAt !== null && revokedAt.getTime() <= now;
}

const unauthorized = () =>
  new Unauthorized(
    "a valid xAPI credential is required (HTTP Basic: key and secret)",
    'Basic realm="cohort-lrs xAPI", charset="UTF-8"',
  );

/** scrypt hash of a random value nobody knows; used to spend the same time on unknown keys. */
const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$Sv6hT6bJOj0oJbDfF7gY3c2S3lHf8m3Yc3l9vYwqkQk";
