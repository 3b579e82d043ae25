/**
 * Signed tokens: the unsubscribe links in reminder emails and admin session cookies. The key
 * is `APP_SECRET`, or one generated on first start and kept in the `settings` table, so every
 * replica signs and checks with the same key and links keep working across restarts.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { settings } from "../db/schema.ts";
import { randomToken } from "./secrets.ts";

const SIGNING_KEY = "signing_secret";

/** The signing key: `APP_SECRET`, or the stored one, created if there is none yet. */
export async function ensureSigningSecret(db: Db, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  await db
    .insert(settings)
    .values({ key: SIGNING_KEY, value: randomToken(32) })
    .onConflictDoNothing();
  const [row] = await db
    .select({ value: settings.value })
    .from(settings)
    .where(eq(settings.key, SIGNING_KEY));
  return row!.value;
}

function mac(secret: string, purpose: string, subject: string): string {
  return createHmac("sha256", secret).update(`${purpose}\u0000${subject}`).digest("base64url");
}

/** `<subject>.<signature>`, valid for `purpose` only. */
export function signToken(secret: string, purpose: string, subject: string): string {
  return `${subject}.${mac(secret, purpose, subject)}`;
}

/**
 * The subject of a token signed for `purpose` with `secret`, or undefined when it is not. Only the
 * exact signature this module writes is accepted: base64url decoding forgives padding, `+/`, and
 * stray trailing bits, so comparing decoded bytes would let one token be spelled several ways.
 */
export function verifyToken(secret: string, purpose: string, token: string): string | undefined {
  const dot = token.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const subject = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), "utf8");
  const expected = Buffer.from(mac(secret, purpose, subject), "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected) ? subject : undefined;
}
