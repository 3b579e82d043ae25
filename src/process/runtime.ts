/**
 * What every role opens before it starts: configuration, logger, database (migrated or checked),
 * Redis when configured, and the first-start secrets. `close()` releases all of it.
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";
import {
  type AdminPassword,
  type BootstrapCredential,
  ensureAdminPassword,
  ensureBootstrapCredential,
} from "../auth/bootstrap.ts";
import { ensureSigningSecret } from "../auth/signing.ts";
import type { Config } from "../config.ts";
import { type Database, openDatabase } from "../db/client.ts";
import { DirLockedError } from "../db/dirLock.ts";
import { migrate, SchemaError, schemaState } from "../db/migrate.ts";
import { createLogger } from "../logger.ts";
import { type EmailClient, emailClientFor } from "../mail/emailClient.ts";
import { indexStoredStatements } from "../xapi/indexStoredStatements.ts";

export interface Runtime {
  config: Readonly<Config>;
  log: Logger;
  database: Database;
  redis: Redis | undefined;
  /** The first-start secrets; present for roles that serve requests (`secrets: true`). */
  adminPassword: AdminPassword;
  bootstrapCredential: BootstrapCredential;
  /** The key that signs unsubscribe links; "" for `migrate`. */
  signingSecret: string;
  /** Where reminder emails go (SMTP_URL, or the outbox). */
  email: EmailClient;
  /** Migrations applied by this start (empty when the schema was already current). */
  migrationsApplied: string[];
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /**
   * Apply pending migrations on start (role `all`, and every role on the embedded database,
   * which only one process can open). Otherwise a database with pending migrations is refused.
   */
  migrate: boolean;
  /**
   * Create (or load) the admin password and bootstrap xAPI credential. Roles that serve requests
   * do, and print where they are; `migrate` and `run-task` don't, so a secret is never generated
   * by a command that would not show it. Default true.
   */
  secrets?: boolean;
  /** Only migrating: no Redis, no signing key. */
  migrateOnly?: boolean;
}

export function connectRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    // Commands issued in the same tick (e.g. the XADDs of concurrent requests) share one round trip.
    enableAutoPipelining: true,
    // Commands fail after a bounded wait instead of queueing forever while Redis is away.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // Reconnect attempts at most 1 s apart, so every role is back within a second of Redis
    // answering again: the api publishes again instead of leaving statements to the sweep, and
    // the worker keeps its resume bound (RESUME_BOUND_MS in src/etl/streamConsumer.ts).
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  let warned = false;
  redis.on("error", (error) => {
    if (!warned) log.warn({ err: error }, "redis connection error (will keep retrying)");
    warned = true;
  });
  redis.on("ready", () => {
    if (warned) log.info("redis connection restored");
    warned = false;
  });
  return redis;
}

/**
 * The runtime of a one-off command (`run-task`, `cmi5-launch`): no migrations, no first-start
 * secrets. Undefined when the embedded database is held by a running server (DirLockedError):
 * the command then asks that server instead (serverFile.ts).
 */
export async function commandRuntime(config: Readonly<Config>): Promise<Runtime | undefined> {
  try {
    return await startRuntime(config, { migrate: false, secrets: false });
  } catch (error) {
    if (error instanceof DirLockedError) return undefined;
    throw error;
  }
}

export async function startRuntime(config: Readonly<Config>, options: RuntimeOptions): Promise<Runtime> {
  const log = createLogger(config.logLevel);
  const database = await openDatabase(config, {
    // The message and code only: pg-pool hangs the whole client object on the error.
    onPoolError: (error) =>
      log.warn(
        { error: error.message, code: (error as { code?: string }).code },
        "idle database connection failed",
      ),
  });
  let redis: Redis | undefined;
  try {
    let migrationsApplied: string[] = [];
    if (options.migrate || database.kind === "pglite") {
      migrationsApplied = await migrate(database.db);
      if (migrationsApplied.length) log.info({ migrations: migrationsApplied }, "database migrated");
      const indexed = await indexStoredStatements(database.db);
      if (indexed)
        log.info({ statements: indexed }, "indexed the statements stored before statement queries");
    } else {
      const state = await schemaState(database.db);
      if (state.pending.length) {
        throw new SchemaError(
          `the database has ${state.pending.length} pending migration(s) (${state.pending.join(", ")}); ` +
            "run `cohort-lrs migrate` first",
        );
      }
    }
    const withSecrets = options.secrets ?? true;
    const adminPassword = withSecrets
      ? ensureAdminPassword(config)
      : { password: "", source: "env" as const };
    const bootstrapCredential = withSecrets
      ? await ensureBootstrapCredential(database.db, config)
      : { id: "", key: "", source: "env" as const };
    const signingSecret = options.migrateOnly ? "" : await ensureSigningSecret(database.db, config.appSecret);
    const email = emailClientFor(config);
    redis = config.redisUrl && !options.migrateOnly ? connectRedis(config.redisUrl, log) : undefined;
    const openRedis = redis;
    return {
      config,
      log,
      database,
      redis,
      adminPassword,
      bootstrapCredential,
      signingSecret,
      email,
      migrationsApplied,
      async close() {
        email.close();
        if (openRedis) await openRedis.quit().catch(() => openRedis.disconnect());
        await database.close();
      },
    };
  } catch (error) {
    redis?.disconnect();
    await database.close();
    throw error;
  }
}
