/**
 * `api_credentials` as the admin area manages it: the keys page lists, creates and revokes xAPI
 * credentials, and the pipeline test has a credential of its own. (Verifying a credential on an
 * xAPI request is `src/xapi/credentials.ts`.) Secrets are stored only as scrypt hashes.
 */
import { createHmac } from "node:crypto";
import { and, desc, eq, gt, isNull, or } from "drizzle-orm";
import { hashSecret, randomToken, verifySecret } from "../auth/secrets.ts";
import type { Db } from "../db/client.ts";
import { type ApiCredential, apiCredentials } from "../db/schema.ts";

/** Every credential, newest first. */
export async function listApiCredentials(db: Db): Promise<ApiCredential[]> {
  return db.select().from(apiCredentials).orderBy(desc(apiCredentials.createdAt));
}

/** The credential with this id, revoked or not. */
export async function getApiCredential(db: Db, id: string): Promise<ApiCredential | undefined> {
  const [row] = await db.select().from(apiCredentials).where(eq(apiCredentials.id, id));
  return row;
}

/** A new credential named `name` with one scope; its secret is returned once and stored hashed. */
export async function createApiCredential(
  db: Db,
  name: string,
  scope: string,
): Promise<{ key: string; secret: string }> {
  const key = `lrs_${randomToken(9)}`;
  const secret = randomToken(24);
  await db
    .insert(apiCredentials)
    .values({ name, key, secretHash: await hashSecret(secret), scopes: [scope] });
  return { key, secret };
}

/**
 * Revokes the active credential with this id (one not revoked yet, or set to expire later, as a
 * cmi5 launch's is); its key, or undefined when there is none.
 */
export async function revokeApiCredential(db: Db, id: string): Promise<string | undefined> {
  const now = new Date();
  const [revoked] = await db
    .update(apiCredentials)
    .set({ revokedAt: now })
    .where(
      and(eq(apiCredentials.id, id), or(isNull(apiCredentials.revokedAt), gt(apiCredentials.revokedAt, now))),
    )
    .returning({ key: apiCredentials.key });
  return revoked?.key;
}

export const PIPELINE_TEST_KEY = "cohort-lrs-pipeline-test";

/**
 * The credential the admin area's pipeline test sends its sample statement with. Its secret is
 * derived from the signing key, so every replica knows it without storing it; the database holds
 * only its scrypt hash, as for any credential. It is listed (and revocable) on the keys page.
 */
export async function pipelineTestCredential(
  db: Db,
  signingSecret: string,
): Promise<{ key: string; secret: string; revoked: boolean }> {
  const secret = createHmac("sha256", signingSecret).update("pipeline-test-credential").digest("base64url");
  const [row] = await db.select().from(apiCredentials).where(eq(apiCredentials.key, PIPELINE_TEST_KEY));
  if (!row) {
    await db
      .insert(apiCredentials)
      .values({
        name: "admin area: pipeline test",
        key: PIPELINE_TEST_KEY,
        secretHash: await hashSecret(secret),
        scopes: ["statements/write"],
      })
      .onConflictDoNothing();
  } else if (!(await verifySecret(secret, row.secretHash))) {
    await db
      .update(apiCredentials)
      .set({ secretHash: await hashSecret(secret) })
      .where(eq(apiCredentials.id, row.id));
  }
  return { key: PIPELINE_TEST_KEY, secret, revoked: Boolean(row?.revokedAt) };
}
