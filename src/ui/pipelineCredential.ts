/**
 * The credential the admin area's pipeline test sends its sample statement with. Its secret is
 * derived from the signing key, so every replica knows it without storing it; the database holds
 * only its scrypt hash, as for any credential. It is listed (and revocable) on the keys page.
 */
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { hashSecret, verifySecret } from "../auth/secrets.ts";
import type { Db } from "../db/client.ts";
import { apiCredentials } from "../db/schema.ts";

export const PIPELINE_TEST_KEY = "cohort-lrs-pipeline-test";

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
