/**
 * Every route declares who may call it, in `config.auth`:
 *
 * - `public`: anyone (health, signup, docs);
 * - `admin`: the operator (HTTP Basic `admin` / `Bearer`, with the admin password);
 * - `xapi`: an xAPI client credential from `api_credentials`.
 *
 * The check is attached here, once, to every route of a class, so a handler cannot forget it;
 * a route that declares no class fails at start-up. The class is also written into the route's
 * OpenAPI `security`.
 */
import type { onRequestHookHandler, RouteOptions } from "fastify";
import { ADMIN_USER, isAdminCredentials } from "../auth/admin.ts";
import { parseAuthorization } from "../auth/basic.ts";
import type { FailureLimiter } from "../auth/failureLimiter.ts";
import { SESSION_COOKIE, type SessionStore } from "../auth/session.ts";
import { TooManyFailures, Unauthorized } from "../errors.ts";
import { metrics } from "../metrics.ts";
import type { CredentialVerifier, XapiClient } from "../xapi/credentials.ts";

export type AuthClass = "public" | "admin" | "xapi";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call this route. Required on every route (see http/routeAuth.ts). */
    auth?: AuthClass;
  }
}

/** Routes registered by plugins that are public by nature: Swagger UI, and CORS preflights. */
const PUBLIC_PREFIXES = ["/docs"];
const isPluginPublic = (route: RouteOptions) =>
  route.method === "OPTIONS" || PUBLIC_PREFIXES.some((prefix) => route.url.startsWith(prefix));

export const securitySchemes = {
  adminBasic: { type: "http", scheme: "basic", description: 'user "admin", password ADMIN_PASSWORD' },
  adminBearer: { type: "http", scheme: "bearer", description: "Bearer <ADMIN_PASSWORD>" },
  xapiBasic: { type: "http", scheme: "basic", description: "an xAPI credential: key and secret" },
} as const;

const SECURITY: Record<AuthClass, Record<string, string[]>[] | undefined> = {
  public: undefined,
  admin: [{ adminBasic: [] }, { adminBearer: [] }],
  xapi: [{ xapiBasic: [] }],
};

/** Who an `xapi` route's request was authenticated as. */
declare module "fastify" {
  interface FastifyRequest {
    xapiClient?: XapiClient;
    /** Who passed the admin check: a session id, or "basic" (HTTP Basic/Bearer). CSRF tokens bind to it. */
    adminHolder?: string;
  }
}

/**
 * The `xapi` class: a credential from `api_credentials`. Failed attempts are counted per client
 * address before the secret is checked; a client that keeps failing gets 429 until its window
 * passes (see xapi/credentials.ts).
 */
export function xapiGuard(verifier: CredentialVerifier): onRequestHookHandler {
  return async (request) => {
    request.xapiClient = await verifier.authenticate(request.headers.authorization, request.ip);
  };
}

/**
 * The `admin` class: the admin password over HTTP Basic (user `admin`) or Bearer, or an admin
 * session cookie (the login form) whose session is still live. A password sent in `Authorization` is an attempt counted by
 * the admin failure limiter, the one the login form uses (per address and for the account); over
 * the limit it is 429 with `Retry-After`, unless a live session lets the request through anyway.
 * A page (`/ui/*`) without either redirects to the login form; anything else answers 401.
 */
export function adminGuard(
  adminPassword: string,
  sessions: SessionStore,
  limiter: FailureLimiter,
): onRequestHookHandler {
  return async (request, reply) => {
    const credentials = parseAuthorization(request.headers.authorization);
    let refused: number | undefined;
    if (credentials) {
      const attempt = limiter.begin(request.ip, ADMIN_USER);
      if (!attempt.allowed) refused = attempt.retryAfterS;
      else if (isAdminCredentials(credentials, adminPassword)) {
        attempt.succeeded();
        request.adminHolder = "basic";
        return;
      } else metrics.adminAuthFailures.inc();
    }
    const session = await sessions.read(request.cookies?.[SESSION_COOKIE]);
    if (session) {
      request.adminHolder = session.id;
      return;
    }
    if (refused !== undefined) throw new TooManyFailures(refused);
    if (request.url === "/ui" || request.url.startsWith("/ui/")) {
      return reply.redirect(`/ui/login?next=${encodeURIComponent(request.url)}`, 303);
    }
    throw new Unauthorized(
      "admin authentication required",
      'Basic realm="cohort-lrs admin", charset="UTF-8"',
    );
  };
}

export function classifyRoute(
  route: RouteOptions,
  guards: Partial<Record<AuthClass, onRequestHookHandler>>,
): void {
  const auth = route.config?.auth ?? (isPluginPublic(route) ? "public" : undefined);
  if (!auth) {
    throw new Error(`route ${String(route.method)} ${route.url} declares no auth class (config.auth)`);
  }
  route.config = { ...route.config, auth };
  if (auth === "public") return;
  const guard = guards[auth];
  if (!guard) throw new Error(`route ${String(route.method)} ${route.url}: no authenticator for "${auth}"`);
  const existing = route.onRequest ? [route.onRequest].flat() : [];
  route.onRequest = [guard, ...existing];
  if (route.schema) route.schema = { ...route.schema, security: SECURITY[auth] } as typeof route.schema;
}
