import type { Credentials } from "./basic.ts";
import { safeEqual } from "./secrets.ts";

export const ADMIN_USER = "admin";

/**
 * True when credentials carry the admin password: HTTP Basic as user `admin`, or
 * `Bearer <password>` (DESIGN §11). Compared in constant time.
 */
export function isAdminCredentials(credentials: Credentials, adminPassword: string): boolean {
  if (credentials.scheme === "bearer") return safeEqual(credentials.token, adminPassword);
  // Evaluate both comparisons so the timing does not reveal which part was wrong.
  const userOk = safeEqual(credentials.username, ADMIN_USER);
  const passwordOk = safeEqual(credentials.password, adminPassword);
  return userOk && passwordOk;
}
