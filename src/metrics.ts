/**
 * Process metrics (Prometheus, prom-client). Each role has its own registry; counters are
 * defined here, in one place, and incremented where the work happens.
 */
import { Counter, Registry } from "prom-client";

export const registry = new Registry();

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
    help: "Background job attempts, by job and outcome (succeeded, retrying, failed)",
    labelNames: ["job", "outcome"] as const,
    registers: [registry],
  }),
  xapiAuthFailures: new Counter({
    name: "cohort_lrs_xapi_auth_failures_total",
    help: "xAPI requests refused for missing or wrong credentials",
    registers: [registry],
  }),
};
