/**
 * First-start secrets: the admin password and the bootstrap xAPI credential.
 *
 * - Admin password: `ADMIN_PASSWORD`, or `DATA_DIR/admin-password` (mode 0600), generated the
 *   first time. Only the file's path is ever printed.
 * - Bootstrap xAPI credential: `PUBLIC_PEM`/`SECRET_PEM`, or one generated the first time. Either
 *   way it is a row of `api_credentials` holding only the scrypt hash of the secret. A generated
 *   secret is printed once, when it is made, and kept for the operator in
 *   `DATA_DIR/xapi-credential.json` (mode 0600); it is never logged.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { apiCredentials } from "../db/schema.ts";
import { hashSecret, randomToken, verifySecret } from "./secrets.ts";

export const ADMIN_PASSWORD_FILE = "admin-password";
export const XAPI_CREDENTIAL_FILE = "xapi-credential.json";
const BOOTSTRAP_LOCK_KEY = 7_420_117_002;

export interface AdminPassword {
  password: string;
  source: "env" | "file" | "generated";
  /** The file holding it, when it is not from the environment. */
  file?: string;
}

/** Writes a file only its owner can read (0600), in a directory only its owner can enter. */
function writePrivateFile(file: string, contents: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, contents, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync keeps the mode of a file that already existed
}

/** The admin password: from the environment, from `DATA_DIR/admin-password`, or newly generated. */
export function ensureAdminPassword(config: Pick<Config, "adminPassword" | "dataDir">): AdminPassword {
  if (config.adminPassword) return { password: config.adminPassword, source: "env" };
  const file = path.join(config.dataDir, ADMIN_PASSWORD_FILE);
  if (existsSync(file)) {
    const password = readFileSync(file, "utf8").trim();
    if (password.length < 12) {
      throw new Error(
        `${file} holds no usable password (at least 12 characters); delete it to generate a new one`,
      );
    }
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { password, source: "file", file };
  }
  const password = randomToken(18);
  writePrivateFile(file, `${password}\n`);
  return { password, source: "generated", file };
}

export interface BootstrapCredential {
  id: string;
  key: string;
  source: "env" | "stored" | "generated";
  /** The secret, only when it was generated now (to be shown once). */
  secret?: string;
  /** Where a generated credential was written for the operator. */
  file?: string;
}

/**
 * Makes sure the bootstrap xAPI credential exists in `api_credentials`. Safe to call from
 * several processes at once: an advisory lock makes exactly one of them create it.
 */
export async function ensureBootstrapCredential(
  db: Db,
  config: Pick<Config, "bootstrapCredential" | "dataDir">,
): Promise<BootstrapCredential> {
  const fromEnv = config.bootstrapCredential;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
    if (fromEnv) {
      const [existing] = await tx.select().from(apiCredentials).where(eq(apiCredentials.key, fromEnv.key));
      if (!existing) {
        const [row] = await tx
          .insert(apiCredentials)
          .values({
            name: "bootstrap (PUBLIC_PEM)",
            key: fromEnv.key,
            secretHash: await hashSecret(fromEnv.secret),
            bootstrap: true,
          })
          .returning({ id: apiCredentials.id });
        return { id: row!.id, key: fromEnv.key, source: "env" as const };
      }
      // SECRET_PEM changed since the row was written: the environment is the source of truth.
      if (
        !(await verifySecret(fromEnv.secret, existing.secretHash)) ||
        existing.revokedAt ||
        !existing.bootstrap
      ) {
        await tx
          .update(apiCredentials)
          .set({ secretHash: await hashSecret(fromEnv.secret), revokedAt: null, bootstrap: true })
          .where(eq(apiCredentials.id, existing.id));
      }
      return { id: existing.id, key: fromEnv.key, source: "env" as const };
    }

    const [stored] = await tx
      .select({ id: apiCredentials.id, key: apiCredentials.key })
      .from(apiCredentials)
      .where(and(eq(apiCredentials.bootstrap, true), isNull(apiCredentials.revokedAt)))
      .limit(1);
    if (stored) {
      const file = path.join(config.dataDir, XAPI_CREDENTIAL_FILE);
      return { ...stored, source: "stored" as const, ...(existsSync(file) ? { file } : {}) };
    }

    const key = `lrs_${randomToken(9)}`;
    const secret = randomToken(24);
    const [row] = await tx
      .insert(apiCredentials)
      .values({ name: "bootstrap (generated)", key, secretHash: await hashSecret(secret), bootstrap: true })
      .returning({ id: apiCredentials.id });
    // Overwrites a file left by an earlier database: it describes a credential that no longer exists.
    const file = path.join(config.dataDir, XAPI_CREDENTIAL_FILE);
    writePrivateFile(file, `${JSON.stringify({ endpoint: "/xapi/", key, secret }, null, 2)}\n`);
    return { id: row!.id, key, secret, source: "generated" as const, file };
  });
}
