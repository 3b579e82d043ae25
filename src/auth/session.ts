/**
 * Admin sessions and CSRF tokens, both signed with the process-wide signing key.
 *
 * - Session cookie `cohort_lrs_session`: `<id>~<expires ms>` signed for "admin-session"; http-only,
 *   SameSite=Strict, Secure behind HTTPS, 8 hours. A signed cookie alone is not enough: its session
 *   must also be live in `admin_sessions` (`SessionStore`), so logging out ends it on the server
 *   (a copied cookie stops working too) and "log out everywhere" ends every session at once, on
 *   every replica.
 * - CSRF: every admin form carries `_csrf`, an HMAC of the session id (or of "basic" when the
 *   browser is logged in with HTTP Basic, which browsers also send on their own). The login form's
 *   token is bound to a random nonce in a short-lived `cohort_lrs_login` cookie instead.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { adminSessions } from "../db/schema.ts";
import { randomToken } from "./secrets.ts";
import { signToken, verifyToken } from "./signing.ts";

export const SESSION_COOKIE = "cohort_lrs_session";
export const LOGIN_COOKIE = "cohort_lrs_login";
/** How long an admin session lasts. */
export const SESSION_TTL_MS = 8 * 3_600_000;
const SESSION_PURPOSE = "admin-session";

export interface AdminSession {
  id: string;
  expiresAt: number;
}

export function createSession(secret: string, now = Date.now()): { value: string; session: AdminSession } {
  const session = { id: randomToken(16), expiresAt: now + SESSION_TTL_MS };
  return { value: signToken(secret, SESSION_PURPOSE, `${session.id}~${session.expiresAt}`), session };
}

/** The session a cookie value carries, or undefined when it is forged, malformed or expired. */
export function readSession(
  secret: string,
  value: string | undefined,
  now = Date.now(),
): AdminSession | undefined {
  if (!value) return undefined;
  const subject = verifyToken(secret, SESSION_PURPOSE, value);
  const [id, expires] = subject?.split("~") ?? [];
  const expiresAt = Number(expires);
  if (!id || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
  return { id, expiresAt };
}

/** The row id of a session: its id hashed, so the table holds nothing a cookie could be made from. */
function rowId(session: AdminSession): string {
  return createHash("sha256").update(session.id).digest("hex");
}

/** Admin sessions that are live, in the database, so every replica agrees on who is logged in. */
export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly secret: string,
  ) {}

  /** Starts a session; returns the cookie value. Sessions that have expired are cleared out on the way. */
  async start(now = Date.now()): Promise<string> {
    const { value, session } = createSession(this.secret, now);
    await this.db.delete(adminSessions).where(lte(adminSessions.expiresAt, new Date(now)));
    await this.db
      .insert(adminSessions)
      .values({ id: rowId(session), expiresAt: new Date(session.expiresAt) });
    return value;
  }

  /** The session a cookie value carries when it is signed, unexpired and not ended; else undefined. */
  async read(value: string | undefined, now = Date.now()): Promise<AdminSession | undefined> {
    const session = readSession(this.secret, value, now);
    if (!session) return undefined;
    const [row] = await this.db
      .select({ id: adminSessions.id })
      .from(adminSessions)
      .where(and(eq(adminSessions.id, rowId(session)), gt(adminSessions.expiresAt, new Date(now))));
    return row ? session : undefined;
  }

  /** Ends one session (logging out). */
  async end(session: AdminSession): Promise<void> {
    await this.db.delete(adminSessions).where(eq(adminSessions.id, rowId(session)));
  }

  /** Ends every admin session ("log out everywhere"); returns how many there were. */
  async endAll(): Promise<number> {
    return (await this.db.delete(adminSessions).returning({ id: adminSessions.id })).length;
  }
}

function mac(secret: string, purpose: string, subject: string): string {
  return createHmac("sha256", secret).update(`${purpose}\u0000${subject}`).digest("base64url");
}

/** The CSRF token of forms shown to `holder` (a session id, or "basic"). */
export function csrfToken(secret: string, holder: string): string {
  return mac(secret, "csrf", holder);
}

export function verifyCsrf(secret: string, holder: string, token: unknown): boolean {
  if (typeof token !== "string" || token.length > 200) return false;
  const expected = Buffer.from(csrfToken(secret, holder));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function loginCsrfToken(secret: string, nonce: string): string {
  return mac(secret, "login-csrf", nonce);
}
