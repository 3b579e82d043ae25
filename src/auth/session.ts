/**
 * Admin sessions and CSRF tokens, both signed with the process-wide signing key (no server-side
 * session store: a session is a signed, expiring cookie value).
 *
 * - Session cookie `cohort_lrs_session`: `<id>~<expires ms>` signed for "admin-session"; http-only,
 *   SameSite=Strict, Secure behind HTTPS, 8 hours. Logging out clears it in the browser.
 * - CSRF: every admin form carries `_csrf`, an HMAC of the session id (or of "basic" when the
 *   browser is logged in with HTTP Basic, which browsers also send on their own). The login form's
 *   token is bound to a random nonce in a short-lived `cohort_lrs_login` cookie instead.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
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
