/**
 * Process metrics (Prometheus, prom-client). Each role has its own registry; counters are
 * defined here, in one place, and incremented where the work happens.
 */
import type { Redis } from "ioredis";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { CONSUMER_GROUP, STATEMENT_STREAM } from "./names.ts";

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "cohort_lrs_" });

export const metrics = {
  statementsIngested: new Counter({
    name: "cohort_lrs_statements_ingested_total",
    help: "Statements committed to statements_raw by the xAPI endpoint",
    registers: [registry],
  }),
  publishFailures: new Counter({
    name: "cohort_lrs_stream_publish_failures_total",
    help: "Statements stored but not published to the Redis stream (the sweep flattens them)",
    registers: [registry],
  }),
  rowsFlattened: new Counter({
    name: "cohort_lrs_rows_flattened_total",
    help: "Flat rows written, by path",
    labelNames: ["path"] as const,
    registers: [registry],
  }),
  jobs: new Counter({
    name: "cohort_lrs_job_attempts_total",
    help: "Background job attempts, by job and outcome (succeeded, retrying, waiting, failed)",
    labelNames: ["job", "outcome"] as const,
    registers: [registry],
  }),
  httpRequests: new Counter({
    name: "cohort_lrs_http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  }),
  httpDuration: new Histogram({
    name: "cohort_lrs_http_request_duration_seconds",
    help: "HTTP request latency, by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  sweepRuns: new Counter({
    name: "cohort_lrs_sweep_runs_total",
    help: "Incremental ETL sweeps, by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  }),
  xapiAuthFailures: new Counter({
    name: "cohort_lrs_xapi_auth_failures_total",
    help: "xAPI requests refused for missing or wrong credentials",
    registers: [registry],
  }),
  xapiSecretChecks: new Counter({
    name: "cohort_lrs_xapi_secret_checks_total",
    help: "scrypt checks of xAPI secrets run (each one a secret not yet verified, admitted by the failure limit)",
    registers: [registry],
  }),
  xapiFailedRequests: new Counter({
    name: "cohort_lrs_xapi_failed_requests_total",
    help: "xAPI requests refused (4xx or 5xx under /xapi), by status and error code",
    labelNames: ["status", "code"] as const,
    registers: [registry],
  }),
  xapiLogLost: new Counter({
    name: "cohort_lrs_xapi_log_lost_total",
    help: "Refused xAPI requests not written to the log, by reason (buffer_full: a flood beyond the buffer; write_failed: a database error)",
    labelNames: ["reason"] as const,
    registers: [registry],
  }),
  adminAuthFailures: new Counter({
    name: "cohort_lrs_admin_auth_failures_total",
    help: "wrong admin passwords (login form, HTTP Basic or Bearer)",
    registers: [registry],
  }),
};

/**
 * Gauges of the statement stream, read from Redis when Prometheus scrapes: entries delivered but
 * not acknowledged (pending) and entries not yet delivered to the consumer group (lag).
 */
export function registerStreamGauges(redis: Redis): void {
  if (registry.getSingleMetric("cohort_lrs_stream_pending")) return;
  const groupField = async (field: "pending" | "lag"): Promise<number | undefined> => {
    try {
      const groups = (await redis.xinfo("GROUPS", STATEMENT_STREAM)) as unknown[][];
      for (const group of groups) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i < group.length - 1; i += 2) fields.set(String(group[i]), group[i + 1]);
        if (fields.get("name") === CONSUMER_GROUP && fields.get(field) !== null)
          return Number(fields.get(field));
      }
    } catch {
      // no stream yet, or Redis away: the gauge keeps no value
    }
    return undefined;
  };
  new Gauge({
    name: "cohort_lrs_stream_pending",
    help: "Stream entries delivered to a worker and not yet acknowledged",
    registers: [registry],
    async collect() {
      const value = await groupField("pending");
      if (value !== undefined) this.set(value);
    },
  });
  new Gauge({
    name: "cohort_lrs_stream_consumer_lag",
    help: "Stream entries not yet delivered to the workers' consumer group",
    registers: [registry],
    async collect() {
      const value = await groupField("lag");
      if (value !== undefined) this.set(value);
    },
  });
}
