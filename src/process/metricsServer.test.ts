import { describe, expect, it } from "vitest";
import { startMetricsServer } from "./metricsServer.ts";

describe("the METRICS_PORT listener", () => {
  it("serves /metrics without authentication, and nothing else", async () => {
    const server = await startMetricsServer(0, "127.0.0.1");
    try {
      const metrics = await fetch(server.url);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain("# TYPE cohort_lrs_statements_ingested_total counter");
      expect((await fetch(server.url.replace("/metrics", "/admin"))).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
