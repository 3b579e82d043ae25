/**
 * HSTS and `upgrade-insecure-requests` only where the service is reached over https: when
 * PUBLIC_BASE_URL is https, or a trusted proxy (TRUST_PROXY) says the request came in over https
 * (`X-Forwarded-Proto`). Over plain HTTP on any other address (a LAN, a staging box, the container's
 * HOST=0.0.0.0) they would send the login form's POST and the API docs to an https port nobody
 * listens on, so they are left out there. Every other helmet header is sent on every answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../config.ts";

/** What helmet's default `Strict-Transport-Security` is; sent only over https. */
export const HSTS = "max-age=31536000; includeSubDomains";

/** True when this request reached the service over https (directly or through a trusted proxy). */
export function reachedOverHttps(config: Pick<Config, "publicBaseUrl">, request: FastifyRequest): boolean {
  return config.publicBaseUrl.startsWith("https:") || request.protocol === "https";
}

/** Adds HSTS and `upgrade-insecure-requests` to the answers of requests that came over https. */
export function installTransportSecurity(app: FastifyInstance, config: Pick<Config, "publicBaseUrl">): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (!reachedOverHttps(config, request)) return payload;
    reply.header("strict-transport-security", HSTS);
    const policy = reply.getHeader("content-security-policy");
    if (typeof policy === "string" && !policy.includes("upgrade-insecure-requests")) {
      reply.header("content-security-policy", `${policy.replace(/[;\s]+$/, "")};upgrade-insecure-requests`);
    }
    return payload;
  });
}
