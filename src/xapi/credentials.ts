/**
 * xAPI client authentication (plan: `verify_basic_credentials`): HTTP Basic with a key and secret
 * from `api_credentials`. Secrets are scrypt hashes, so checking one costs tens of milliseconds
 * of CPU; a successful check is remembered for a short while (keyed by a SHA-256 of key and
 * secret, never the secret itself) so a busy client does not pay it on every request. Revoking a
 * credential takes effect within that time (`CACHE_MS`) on every process.
 */
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { parseAuthorization } from "../auth/basic.ts";
import { verifySecret } from "../auth/secrets.ts";
import type { Db } from "../db/client.ts";
import { apiCredentials } from "../db/schema.ts";
import { unstorableTextProblem } from "../db/storableText.ts";

export interface XapiClient {
  credentialId: string;
  key: string;
  name: string;
  scopes: string[];
}

/** How long a verified credential is trusted without asking the database again. */
const CACHE_MS = 30_000;
/** How often `last_used_at` is written for one credential, at most. */
const TOUCH_MS = 60_000;

export class CredentialVerifier {
  private readonly verified = new Map<string, { client: XapiClient; until: number }>();
  private readonly touched = new Map<string, number>();
  /** Checks under way, so a burst of requests with one credential runs scrypt once, not per request. */
  private readonly checking = new Map<string, Promise<XapiClient | undefined>>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** The client an `Authorization` header authenticates, or undefined. */
  async verify(header: string | undefined): Promise<XapiClient | undefined> {
    const credentials = parseAuthorization(header);
    if (credentials?.scheme !== "basic" || !credentials.username || !credentials.password) return undefined;
    // No credential holds a NUL: asking PostgreSQL for such a key would fail with 500, and scrypt
    // (HMAC underneath) would take a secret with NULs appended for the secret itself.
    if (unstorableTextProblem(credentials.username) || unstorableTextProblem(credentials.password)) {
      return undefined;
    }
    const cacheKey = createHash("sha256")
      .update(`${credentials.username}\u0000${credentials.password}`)
      .digest("base64");
    const cached = this.verified.get(cacheKey);
    if (cached && cached.until > this.now()) {
      this.touch(cached.client);
      return cached.client;
    }
    this.verified.delete(cacheKey);
    const underway = this.checking.get(cacheKey);
    if (underway) return underway;
    const check = this.check(cacheKey, credentials.username, credentials.password).finally(() =>
      this.checking.delete(cacheKey),
    );
    this.checking.set(cacheKey, check);
    return check;
  }

  private async check(cacheKey: string, key: string, secret: string): Promise<XapiClient | undefined> {
    const [row] = await this.db.select().from(apiCredentials).where(eq(apiCredentials.key, key));
    // Verify against a dummy hash when the key is unknown, so timing does not reveal which keys exist.
    const ok = await verifySecret(secret, row?.secretHash ?? DUMMY_HASH);
    if (!row || !ok || row.revokedAt) return undefined;
    const client = { credentialId: row.id, key: row.key, name: row.name, scopes: row.scopes };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(cacheKey, { client, until: this.now() + CACHE_MS });
    this.touch(client);
    return client;
  }

  /** Forgets every cached verification (after a credential is revoked in this process). */
  forget(): void {
    this.verified.clear();
  }

  private touch(client: XapiClient): void {
    const last = this.touched.get(client.credentialId) ?? 0;
    if (this.now() - last < TOUCH_MS) return;
    this.touched.set(client.credentialId, this.now());
    void this.db
      .update(apiCredentials)
      .set({ lastUsedAt: new Date(this.now()) })
      .where(eq(apiCredentials.id, client.credentialId))
      .catch(() => {}); // bookkeeping only: never fail a request over it
  }
}

/** scrypt hash of a random value nobody knows; used to spend the same time on unknown keys. */
const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$Sv6hT6bJOj0oJbDfF7gY3c2S3lHf8m3Yc3l9vYwqkQk";
