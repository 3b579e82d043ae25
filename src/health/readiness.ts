/**
 * Readiness: whether this process can do its work now, for a load balancer or an orchestrator.
 *
 * What "ready" needs depends on the role. PostgreSQL is needed by every role (a 2xx means the
 * statement is committed there). Redis is needed by the roles that work on it (the stream worker,
 * the BullMQ scheduler, and `all`, which runs both): without it they are not ready. The `api`
 * role works on without Redis (statements are committed, their publish fails and the sweep
 * flattens them later), so a Redis outage leaves it ready, reported as `degraded`: a load
 * balancer that dropped every api replica for it would turn a degraded service into no service.
 */
import type { Redis } from "ioredis";
import { type Database, withTimeout } from "../db/client.ts";

export interface Readiness {
  /** `ok`: everything answers; `degraded`: ready, but an optional dependency does not answer; `unavailable`: not ready. */
  status: "ok" | "degraded" | "unavailable";
  /** Each dependency checked: `ok`, or why it failed (`unreachable: …`). */
  checks: Record<string, string>;
}

export interface ReadinessProbe {
  database: Pick<Database, "ping">;
  /** Present when REDIS_URL is configured. */
  redis?: Pick<Redis, "ping"> | undefined;
  /** True for roles that cannot work without Redis (worker, scheduler, `all` with Redis). */
  redisRequired: boolean;
  /** How long each dependency has to answer, in ms. Default 2,000. */
  timeoutMs?: number;
}

export async function checkReadiness(probe: ReadinessProbe): Promise<Readiness> {
  const timeoutMs = probe.timeoutMs ?? 2_000;
  const probes: Record<string, Promise<unknown>> = { database: probe.database.ping(timeoutMs) };
  if (probe.redis) probes.redis = withTimeout(probe.redis.ping(), timeoutMs, "redis");
  const names = Object.keys(probes);
  const results = await Promise.allSettled(Object.values(probes));
  const checks: Record<string, string> = {};
  results.forEach((result, i) => {
    checks[names[i]!] =
      result.status === "fulfilled"
        ? "ok"
        : `unreachable: ${(result.reason as Error).message ?? result.reason}`;
  });
  const failed = names.filter((name) => checks[name] !== "ok");
  const required = failed.filter((name) => name !== "redis" || probe.redisRequired);
  const status = required.length > 0 ? "unavailable" : failed.length > 0 ? "degraded" : "ok";
  return { status, checks };
}
