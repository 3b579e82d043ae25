/**
 * METRICS_PORT: a listener of its own that serves GET /metrics without authentication, so every
 * role (workers and schedulers have no HTTP server otherwise) can be scraped on a private network.
 * With a readiness check it also answers GET /health/ready for the role (200 ready, 503 not; see
 * health/readiness.ts), so a worker that has lost Redis can be seen not to be ready.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { checkReadiness, type Readiness } from "../health/readiness.ts";
import { registry } from "../metrics.ts";
import type { Runtime } from "./runtime.ts";

export async function startMetricsServer(
  port: number,
  host: string,
  readiness?: () => Promise<Readiness>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const path = request.url?.split("?")[0];
    if (request.method === "GET" && path === "/health/ready" && readiness) {
      readiness().then(
        (ready) =>
          response
            .writeHead(ready.status === "unavailable" ? 503 : 200, { "content-type": "application/json" })
            .end(JSON.stringify(ready)),
        (error: Error) =>
          response
            .writeHead(503, { "content-type": "application/json" })
            .end(JSON.stringify({ status: "unavailable", checks: { process: error.message } })),
      );
      return;
    }
    if (request.method !== "GET" || path !== "/metrics") {
      response
        .writeHead(404, { "content-type": "text/plain" })
        .end(readiness ? "only GET /metrics and /health/ready here\n" : "only GET /metrics here\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { "content-type": "text/plain" }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/metrics`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The role's METRICS_PORT listener, when METRICS_PORT is set (no auth: a private network): GET
 * /metrics, and GET /health/ready for what the role needs (`redisRequired`: it cannot work
 * without Redis). Returns what stops it, for the role's shutdown list.
 */
export async function startRoleMetrics(
  runtime: Runtime,
  redisRequired: boolean,
): Promise<(() => Promise<void>)[]> {
  const { config } = runtime;
  if (!config.metricsPort) return [];
  const server = await startMetricsServer(config.metricsPort, config.host, () =>
    checkReadiness({ database: runtime.database, redis: runtime.redis, redisRequired }),
  );
  process.stdout.write(`cohort-lrs: metrics at ${server.url}\n`);
  return [server.stop];
}
