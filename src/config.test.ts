import { describe, expect, it } from "vitest";
import {
  ConfigError,
  DEFAULT_COMPLETION_VERBS,
  loadConfig,
  parseDuration,
  settleListenPort,
} from "./config.ts";

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives the documented defaults for an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      publicBaseUrl: "http://localhost:8080",
      publicBaseUrlSource: "listen address",
      databaseUrl: undefined,
      redisUrl: undefined,
      etlMode: "incremental",
      reminderHour: 18,
      incrementalEtlIntervalMs: 120_000,
      completionVerbs: [...DEFAULT_COMPLETION_VERBS],
      corsOrigins: ["*"],
      bodyLimitBytes: 5 * 1024 * 1024,
      trustProxy: false,
      workerClaimIdleMs: 30_000,
      reminderSendLeaseMs: 600_000,
    });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("defaults ETL_MODE to streaming, and the sweep to 5 minutes, when Redis is configured", () => {
    const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(config.etlMode).toBe("streaming");
    expect(config.incrementalEtlIntervalMs).toBe(300_000);
  });

  it.each([
    [{ PORT: "3000" }, "http://localhost:3000"],
    [{ PORT: "3000", HOST: "0.0.0.0" }, "http://localhost:3000"],
    [{ HOST: "::" }, "http://localhost:8080"],
    [{ PORT: "9000", HOST: "10.1.2.3" }, "http://10.1.2.3:9000"],
    [{ HOST: "fd00::5" }, "http://[fd00::5]:8080"],
    [{ HOST: "lrs.internal" }, "http://lrs.internal:8080"],
  ])("defaults PUBLIC_BASE_URL to the address listened on: %o is %s", (env, expected) => {
    const config = loadConfig(env);
    expect(config.publicBaseUrl).toBe(expected);
    expect(config.publicBaseUrlSource).toBe("listen address");
  });

  it("with PORT=0 the default PUBLIC_BASE_URL names the port picked at listen; a set one stays", () => {
    const picked = loadConfig({ PORT: "0", HOST: "0.0.0.0" });
    settleListenPort(picked, 43210);
    expect(picked.publicBaseUrl).toBe("http://localhost:43210");
    const fixed = loadConfig({ PORT: "0", PUBLIC_BASE_URL: "https://course.example.com" });
    settleListenPort(fixed, 43210);
    expect(fixed.publicBaseUrl).toBe("https://course.example.com");
    const eighty = loadConfig({ PORT: "8080" });
    settleListenPort(eighty, 43210);
    expect(eighty.publicBaseUrl).toBe("http://localhost:8080");
  });

  it("parses the values it is given", () => {
    const config = loadConfig({
      PORT: "9000",
      PUBLIC_BASE_URL: "https://course.example.com/",
      REMINDER_HOUR: "7",
      INCREMENTAL_ETL_INTERVAL: "90s",
      COMPLETION_VERBS:
        "http://adlnet.gov/expapi/verbs/completed, https://w3id.org/xapi/dod-isd/verbs/finished",
      SIGNUP_RATE_LIMIT: "5/10s",
      BODY_LIMIT: "1mb",
      PUBLIC_PEM: "course-content",
      SECRET_PEM: "a-long-enough-secret",
      REMINDER_SEND_LEASE: "15m",
      XAPI_LOG_MAX_AGE: "2d",
      XAPI_LOG_MAX_ROWS: "500",
    });
    expect(config.port).toBe(9000);
    expect(config.xapiLogMaxAgeMs).toBe(2 * 86_400_000);
    expect(config.xapiLogMaxRows).toBe(500);
    expect(loadConfig({})).toMatchObject({ xapiLogMaxAgeMs: 7 * 86_400_000, xapiLogMaxRows: 10_000 });
    expect(config.reminderSendLeaseMs).toBe(900_000);
    expect(config.publicBaseUrl).toBe("https://course.example.com");
    expect(config.publicBaseUrlSource).toBe("env");
    expect(config.reminderHour).toBe(7);
    expect(config.incrementalEtlIntervalMs).toBe(90_000);
    expect(config.completionVerbs).toHaveLength(2);
    expect(config.signupRateLimit).toEqual({ max: 5, windowMs: 10_000 });
    expect(config.bodyLimitBytes).toBe(1024 * 1024);
    expect(config.bootstrapCredential).toEqual({ key: "course-content", secret: "a-long-enough-secret" });
  });

  it.each([
    [{ ETL_MODE: "fast" }, "ETL_MODE", "must be one of streaming, incremental"],
    [{ ETL_MODE: "streaming" }, "ETL_MODE", "needs REDIS_URL"],
    [{ PORT: "abc" }, "PORT", "whole number"],
    [{ PORT: "70000" }, "PORT", "0 to 65535"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL", "not a valid URL"],
    [{ DATABASE_URL: "mysql://localhost/db" }, "DATABASE_URL", "must start with postgres:"],
    [{ DATABASE_URL: "postgres:///db" }, "DATABASE_URL", "names no host"],
    [{ REDIS_URL: "http://localhost" }, "REDIS_URL", "must start with redis:"],
    [{ REMINDER_HOUR: "24" }, "REMINDER_HOUR", "0 to 23"],
    [{ INCREMENTAL_ETL_INTERVAL: "soon" }, "INCREMENTAL_ETL_INTERVAL", "duration"],
    [{ PUBLIC_PEM: "key" }, "SECRET_PEM", "set together"],
    [{ PUBLIC_PEM: "a:b", SECRET_PEM: "0123456789abcdef" }, "PUBLIC_PEM", "must not contain ':'"],
    [{ ADMIN_PASSWORD: "short" }, "ADMIN_PASSWORD", "at least 12"],
    [{ COMPLETION_VERBS: "completed" }, "COMPLETION_VERBS", "not an IRI"],
    [{ CORS_ORIGINS: "example.com" }, "CORS_ORIGINS", "not an origin"],
    [{ SIGNUP_RATE_LIMIT: "lots" }, "SIGNUP_RATE_LIMIT", "count per window"],
    [{ BODY_LIMIT: "1tb" }, "BODY_LIMIT", "size"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL", "must be one of"],
    [{ TRUST_PROXY: "maybe" }, "TRUST_PROXY", "must be true, false"],
    [{ METRICS_PORT: "abc" }, "METRICS_PORT", "whole number"],
    [{ APP_SECRET: "short" }, "APP_SECRET", "at least 32"],
    [{ REMINDER_SEND_LEASE: "a while" }, "REMINDER_SEND_LEASE", "duration"],
    [{ REMINDER_SEND_LEASE: "1s" }, "REMINDER_SEND_LEASE", "between 5s and 3600s"],
    [{ XAPI_LOG_MAX_AGE: "a week" }, "XAPI_LOG_MAX_AGE", "duration"],
    [{ XAPI_LOG_MAX_AGE: "400d" }, "XAPI_LOG_MAX_AGE", "between 60s and"],
    [{ XAPI_LOG_MAX_ROWS: "10" }, "XAPI_LOG_MAX_ROWS", "100 to 1000000"],
  ])("rejects %o naming %s", (env, variable, fragment) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toContain(fragment);
    expect(error.message).not.toContain("\n");
  });

  it("never echoes a DATABASE_URL password in its error", () => {
    expect(errorOf({ DATABASE_URL: "mysql://u:hunter2@localhost/db" }).message).not.toContain("hunter2");
  });
});

describe("parseDuration", () => {
  it.each([
    ["1500ms", 1500],
    ["90s", 90_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["7d", 604_800_000],
    ["30", 30_000],
    ["1.5m", 90_000],
    ["two", undefined],
    ["5 days", undefined],
  ])("%s → %s", (raw, ms) => expect(parseDuration(raw)).toBe(ms));
});
