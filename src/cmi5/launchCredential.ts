/**
 * The xAPI credential of one cmi5 launch, and its one-time fetch URL (cmi5 spec, "fetch URL").
 *
 * A launch gets a row in `api_credentials` (key `cmi5_…`, scopes `statements/write` and
 * `agent:<the learner>`, see `xapi/agentScope.ts`) whose
 * `secret_hash` is the marker `PENDING` until the AU fetches it: no secret matches the marker,
 * so the credential cannot be used before then. The fetch URL carries the key and an HMAC of it
 * under the signing secret; the first valid POST replaces the marker with the scrypt hash of a
 * fresh secret in one conditional UPDATE (`where secret_hash = PENDING`), so of two concurrent
 * fetches exactly one gets the token, and every later one is told the URL was used.
 *
 * Lifetimes: the fetch URL works for `FETCH_WINDOW_MS` after the launch was created; the
 * credential stops working `SESSION_MS` after it (its `revoked_at` is set to that instant when
 * the launch is created, and the credential check refuses a credential once `revoked_at` has
 * passed).
 */
import { and, eq, gt } from "drizzle-orm";
import { hashSecret, randomToken } from "../auth/secrets.ts";
import { signToken, verifyToken } from "../auth/signing.ts";
import type { Db } from "../db/client.ts";
import { apiCredentials } from "../db/schema.ts";
import { agentScope } from "../xapi/agentScope.ts";
import type { Agent } from "../xapi/validateStatement.ts";

/** How long a fetch URL can be used after the launch is created: 30 minutes. */
export const FETCH_WINDOW_MS = 30 * 60_000;
/** How long a launch's credential works after the launch is created: 12 hours. */
export const SESSION_MS = 12 * 60 * 60_000;
const PENDING = "cmi5-fetch-pending";
const FETCH_PURPOSE = "cmi5-fetch";
export const CMI5_KEY_PREFIX = "cmi5_";

export interface PendingCredential {
  id: string;
  key: string;
  /** The token of the fetch URL: `<key>.<signature>`. */
  fetchToken: string;
  expiresAt: Date;
}

/** Creates the (not yet usable) credential of a launch. */
export async function createLaunchCredential(
  db: Db,
  signingSecret: string,
  name: string,
  learner: Agent,
  now = new Date(),
): Promise<PendingCredential> {
  const key = `${CMI5_KEY_PREFIX}${randomToken(12)}`;
  const expiresAt = new Date(now.getTime() + SESSION_MS);
  const [row] = await db
    .insert(apiCredentials)
    .values({
      name,
      key,
      secretHash: PENDING,
      scopes: ["statements/write", agentScope(learner)],
      createdAt: now,
      revokedAt: expiresAt,
    })
    .returning({ id: apiCredentials.id });
  return { id: row!.id, key, fetchToken: signToken(signingSecret, FETCH_PURPOSE, key), expiresAt };
}

/** Why a fetch gets no token, with the cmi5 error code it answers. */
export type FetchRefusal =
  | { errorCode: "1"; reason: "already_used" }
  | { errorCode: "2"; reason: "expired" }
  | { errorCode: "3"; reason: "unknown" };

/**
 * Claims the credential of `fetchToken`: the `auth-token` (the Basic credential value,
 * base64 of `key:secret`) the first time, a refusal afterwards or for a token that is not ours.
 */
export async function claimLaunchCredential(
  db: Db,
  signingSecret: string,
  fetchToken: string,
  now = new Date(),
): Promise<{ authToken: string } | FetchRefusal> {
  const key = verifyToken(signingSecret, FETCH_PURPOSE, fetchToken);
  if (!key?.startsWith(CMI5_KEY_PREFIX)) return { errorCode: "3", reason: "unknown" };
  const [row] = await db
    .select({
      secretHash: apiCredentials.secretHash,
      createdAt: apiCredentials.createdAt,
      revokedAt: apiCredentials.revokedAt,
    })
    .from(apiCredentials)
    .where(eq(apiCredentials.key, key));
  if (!row) return { errorCode: "3", reason: "unknown" };
  if (row.secretHash !== PENDING) return { errorCode: "1", reason: "already_used" };
  const revoked = row.revokedAt !== null && row.revokedAt <= now;
  if (revoked || now.getTime() - row.createdAt.getTime() > FETCH_WINDOW_MS)
    return { errorCode: "2", reason: "expired" };
  // Only a valid, unused token reaches scrypt: a stranger's POST costs one indexed read.
  const secret = randomToken(24);
  const claimed = await db
    .update(apiCredentials)
    .set({ secretHash: await hashSecret(secret) })
    .where(
      and(
        eq(apiCredentials.key, key),
        eq(apiCredentials.secretHash, PENDING),
        gt(apiCredentials.revokedAt, now),
      ),
    )
    .returning({ id: apiCredentials.id });
  if (claimed.length === 0) return { errorCode: "1", reason: "already_used" };
  return { authToken: Buffer.from(`${key}:${secret}`).toString("base64") };
}
