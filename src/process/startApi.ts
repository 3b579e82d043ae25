/** Role `api` (and the HTTP part of `all`): the HTTP service, listening. */
import type { AddressInfo } from "node:net";
import { type AppDeps, createApp } from "../app.ts";
import { settleListenPort } from "../config.ts";
import type { Runtime } from "./runtime.ts";

export interface RunningApi {
  /** The base URL it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Stops accepting connections and waits for in-flight requests. */
  stop(): Promise<void>;
}

export async function startApi(
  runtime: Runtime,
  hooks: Pick<AppDeps, "onStatementsStored" | "runTask" | "redisRequired"> = {},
): Promise<RunningApi> {
  const app = await createApp({
    config: runtime.config,
    database: runtime.database,
    adminPassword: runtime.adminPassword.password,
    redis: runtime.redis,
    logger: runtime.log,
    signingSecret: runtime.signingSecret,
    email: runtime.email,
    ...hooks,
  });
  await app.listen({ port: runtime.config.port, host: runtime.config.host });
  const address = app.server.address() as AddressInfo;
  settleListenPort(runtime.config, address.port);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, stop: () => app.close() };
}
