/**
 * METRICS_PORT: a listener of its own that serves GET /metrics without authentication, so every
 * role (workers and schedulers have no HTTP server otherwise) can be scraped on a private network.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { registry } from "../metrics.ts";

export async function startMetricsServer(
  port: number,
  host: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
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
