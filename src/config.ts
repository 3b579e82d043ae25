/**
 * Configuration: the one module that reads `process.env`.
 *
 * Every variable is declared once below with its meaning and default (DESIGN §3). `loadConfig()`
 * parses them all at start-up into a frozen object; a bad value throws a `ConfigError` whose
 * message is one line naming the variable, and the CLI prints that line and exits non-zero.
 */
import path from "node:path";

export type EtlMode = "streaming" | "incremental";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface RateLimit {
  /** Requests allowed per window. */
  max: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

export interface Config {
  /** HTTP port; 0 picks a free one (the CLI prints which). Default 8080. */
  port: number;
  /** HTTP listen address. Default 127.0.0.1 (the container image sets 0.0.0.0). */
  host: string;
  /** Where learners and content reach the service, without a trailing slash. */
  publicBaseUrl: string;
  /** Where `publicBaseUrl` came from: PUBLIC_BASE_URL, or derived from HOST and PORT. */
  publicBaseUrlSource: "env" | "listen address";
  /** PostgreSQL URL; undefined means the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  /** Where embedded data, generated secrets and the mail outbox live (absolute). */
  dataDir: string;
  /** Redis URL; undefined means no Redis (incremental ETL, in-process scheduler). */
  redisUrl: string | undefined;
  etlMode: EtlMode;
  /** Bootstrap xAPI credential from the environment: key and secret, or undefined. */
  bootstrapCredential: { key: string; secret: string } | undefined;
  /** Admin password from the environment, or undefined (generated into `dataDir`). */
  adminPassword: string | undefined;
  /** Key that signs unsubscribe links (and admin sessions); undefined: generated once, kept in the database. */
  appSecret: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Local hour (0–23) at which learners get their reminder. Default 18. */
  reminderHour: number;
  /** Sweep interval in milliseconds (the plan's cadence is 1–5 min). Default 2 min, 5 min in streaming mode. */
  incrementalEtlIntervalMs: number;
  /** Verb IRIs that count as completing a lesson. */
  completionVerbs: readonly string[];
  /** Origins allowed to call `/xapi/*` from a browser; `["*"]` allows any. */
  corsOrigins: readonly string[];
  sqlpadUrl: string | undefined;
  /** Largest request body accepted, in bytes. Default 5 MiB. */
  bodyLimitBytes: number;
  /** Signups allowed per client IP. Default 20 per minute. */
  signupRateLimit: RateLimit;
  logLevel: LogLevel;
  /**
   * Whether to believe `X-Forwarded-For` (for client IPs in rate limits and logs): false, true,
   * a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs. Default false.
   */
  trustProxy: boolean | number | string;
  /**
   * A port on which every role serves GET /metrics without authentication (for Prometheus on a
   * private network); undefined: only the api's admin-authenticated /metrics.
   */
  metricsPort: number | undefined;
  /** How long a stream entry stays pending before another worker reclaims it (a dead worker's). Default 30 s. */
  workerClaimIdleMs: number;
  /**
   * How long a reminder being sent (`sending`) belongs to the attempt that claimed it; after that
   * a process is presumed to have died mid-send and the reminder is sent again (or, if the mail
   * server already had the whole message, marked `unconfirmed`). Longer than the
   * SMTP client's timeouts allow a send to take. Default 10 min.
   */
  reminderSendLeaseMs: number;
  /** Refused xAPI requests older than this are pruned from the log (`/ui/xapi-log`), ms. Default 7 days. */
  xapiLogMaxAgeMs: number;
  /** The most refused xAPI requests the log keeps (the newest). Default 10,000. */
  xapiLogMaxRows: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** A set, non-blank value of `name`, trimmed; undefined when unset or blank. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL (expected ${protocols.join(" or ")}//…)`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.join(" or ")}//, got ${parsed.protocol}//`);
  }
  return raw;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses "90s", "2m", "1500ms", "7d" or a bare number of seconds into milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "s"]!);
}

function duration(env: Env, name: string, fallbackMs: number, minMs: number, maxMs: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ConfigError(name, `must be a duration such as 90s or 2m, got "${raw}"`);
  if (ms < minMs || ms > maxMs) {
    throw new ConfigError(name, `must be between ${minMs / 1000}s and ${maxMs / 1000}s, got "${raw}"`);
  }
  return ms;
}

/** Parses "20/minute", "100/hour", "5/10s": a count per window. */
function rateLimit(env: Env, name: string, fallback: RateLimit): RateLimit {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const match = /^(\d+)\s*\/\s*(second|minute|hour|\d+(?:ms|s|m|h))$/.exec(raw);
  const windows: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000 };
  const windowMs = match ? (windows[match[2]!] ?? parseDuration(match[2]!)) : undefined;
  if (!match || !windowMs || Number(match[1]) < 1) {
    throw new ConfigError(name, `must be a count per window such as 20/minute or 5/10s, got "${raw}"`);
  }
  return { max: Number(match[1]), windowMs };
}

function byteSize(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw);
  const factor: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };
  const bytes = match ? Number(match[1]) * factor[(match[2] ?? "b").toLowerCase()]! : Number.NaN;
  if (!(bytes >= 1024 && bytes <= 512 * 1024 * 1024)) {
    throw new ConfigError(name, `must be a size from 1kb to 512mb such as 5mb, got "${raw}"`);
  }
  return bytes;
}

function list(env: Env, name: string, fallback: readonly string[]): string[] {
  const raw = read(env, name);
  if (raw === undefined) return [...fallback];
  const items = raw
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new ConfigError(name, "must list at least one value, separated by commas");
  return items;
}

function trustProxy(env: Env, name: string): boolean | number | string {
  const raw = read(env, name);
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/^[0-9a-f.:/, ]+$/i.test(raw)) return raw;
  throw new ConfigError(
    name,
    `must be true, false, a number of hops or a list of proxy addresses, got "${raw}"`,
  );
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T)) {
    throw new ConfigError(name, `must be one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

export const DEFAULT_COMPLETION_VERBS = [
  "http://adlnet.gov/expapi/verbs/completed",
  "http://adlnet.gov/expapi/verbs/passed",
] as const;

/**
 * The default PUBLIC_BASE_URL: the address the api listens on. A loopback or wildcard HOST
 * (127.0.0.1, ::1, 0.0.0.0, ::) is reached as `localhost` on this machine; any other HOST as
 * itself. Learners and content on other machines need PUBLIC_BASE_URL set to the name they use.
 */
export function listenAddressUrl(host: string, port: number): string {
  const local = ["127.0.0.1", "::1", "0.0.0.0", "::", "localhost", ""].includes(host);
  const name = local ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

const settledBaseUrls = new WeakMap<object, string>();

/**
 * With PORT=0 (a free port, picked when the api listens) and no PUBLIC_BASE_URL, the default
 * public URL can name its port only once the api listens; the api calls this then, before any
 * request can arrive. Readers take `config.publicBaseUrl` when they run, not when they are built.
 */
export function settleListenPort(config: Readonly<Config>, port: number): void {
  if (config.port !== 0 || config.publicBaseUrlSource !== "listen address") return;
  settledBaseUrls.set(config, listenAddressUrl(config.host, port));
}

/** Parses and validates the environment. Throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const port = integer(env, "PORT", 8080, 0, 65535);
  const host = read(env, "HOST") ?? "127.0.0.1";
  const configuredBaseUrl = url(env, "PUBLIC_BASE_URL", ["http:", "https:"]);
  const publicBaseUrl = (configuredBaseUrl ?? listenAddressUrl(host, port)).replace(/\/+$/, "");
  const databaseUrl = url(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  if (databaseUrl && !new URL(databaseUrl).hostname && !new URL(databaseUrl).searchParams.get("host")) {
    throw new ConfigError("DATABASE_URL", "names no host (expected postgres://user@host:5432/database)");
  }
  const dataDir = path.resolve(read(env, "DATA_DIR") ?? "./data");
  const redisUrl = url(env, "REDIS_URL", ["redis:", "rediss:"]);
  const etlMode = oneOf<EtlMode>(
    env,
    "ETL_MODE",
    ["streaming", "incremental"],
    redisUrl ? "streaming" : "incremental",
  );
  if (etlMode === "streaming" && !redisUrl) {
    throw new ConfigError("ETL_MODE", "streaming needs REDIS_URL; set REDIS_URL or use ETL_MODE=incremental");
  }

  const publicPem = read(env, "PUBLIC_PEM");
  const secretPem = read(env, "SECRET_PEM");
  if ((publicPem === undefined) !== (secretPem === undefined)) {
    throw new ConfigError(
      publicPem ? "SECRET_PEM" : "PUBLIC_PEM",
      "PUBLIC_PEM and SECRET_PEM must be set together",
    );
  }
  if (publicPem?.includes(":"))
    throw new ConfigError("PUBLIC_PEM", "must not contain ':' (it is a Basic auth username)");
  if (secretPem !== undefined && secretPem.length < 16) {
    throw new ConfigError("SECRET_PEM", "must be at least 16 characters");
  }
  const adminPassword = read(env, "ADMIN_PASSWORD");
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError("ADMIN_PASSWORD", "must be at least 12 characters");
  }

  const appSecret = read(env, "APP_SECRET");
  if (appSecret !== undefined && appSecret.length < 32) {
    throw new ConfigError("APP_SECRET", "must be at least 32 characters");
  }

  const completionVerbs = list(env, "COMPLETION_VERBS", DEFAULT_COMPLETION_VERBS);
  for (const verb of completionVerbs) {
    if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(verb)) {
      throw new ConfigError("COMPLETION_VERBS", `"${verb}" is not an IRI`);
    }
  }
  const corsOrigins = list(env, "CORS_ORIGINS", ["*"]);
  for (const origin of corsOrigins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        "CORS_ORIGINS",
        `"${origin}" is not an origin such as https://lessons.example.com`,
      );
    }
  }

  return Object.freeze({
    port,
    host,
    // A getter: with PORT=0 the default names the port picked at listen (settleListenPort).
    get publicBaseUrl(): string {
      return settledBaseUrls.get(this) ?? publicBaseUrl;
    },
    publicBaseUrlSource: configuredBaseUrl ? "env" : "listen address",
    databaseUrl,
    dataDir,
    redisUrl,
    etlMode,
    bootstrapCredential: publicPem && secretPem ? { key: publicPem, secret: secretPem } : undefined,
    adminPassword,
    appSecret,
    smtpUrl: url(env, "SMTP_URL", ["smtp:", "smtps:"]),
    mailFrom: read(env, "MAIL_FROM") ?? "cohort-lrs <no-reply@localhost>",
    reminderHour: integer(env, "REMINDER_HOUR", 18, 0, 23),
    incrementalEtlIntervalMs: duration(
      env,
      "INCREMENTAL_ETL_INTERVAL",
      etlMode === "streaming" ? 300_000 : 120_000,
      1_000,
      3_600_000,
    ),
    completionVerbs: Object.freeze(completionVerbs),
    corsOrigins: Object.freeze(corsOrigins),
    sqlpadUrl: url(env, "SQLPAD_URL", ["http:", "https:"]),
    bodyLimitBytes: byteSize(env, "BODY_LIMIT", 5 * 1024 * 1024),
    signupRateLimit: rateLimit(env, "SIGNUP_RATE_LIMIT", { max: 20, windowMs: 60_000 }),
    logLevel: oneOf<LogLevel>(
      env,
      "LOG_LEVEL",
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      "info",
    ),
    trustProxy: trustProxy(env, "TRUST_PROXY"),
    workerClaimIdleMs: duration(env, "WORKER_CLAIM_IDLE", 30_000, 1_000, 3_600_000),
    reminderSendLeaseMs: duration(env, "REMINDER_SEND_LEASE", 600_000, 5_000, 3_600_000),
    xapiLogMaxAgeMs: duration(env, "XAPI_LOG_MAX_AGE", 7 * 86_400_000, 60_000, 366 * 86_400_000),
    xapiLogMaxRows: integer(env, "XAPI_LOG_MAX_ROWS", 10_000, 100, 1_000_000),
    metricsPort:
      read(env, "METRICS_PORT") === undefined ? undefined : integer(env, "METRICS_PORT", 0, 1, 65535),
  });
}
