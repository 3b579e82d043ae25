/**
 * `createApp()` builds the HTTP service (plan a.01: `create_app()`) without listening, so tests
 * drive it with `app.inject()` and the CLI decides where it listens.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import cookie from "@fastify/cookie";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { ADMIN_FAILURE_LIMITS, FailureLimiter } from "./auth/failureLimiter.ts";
import { SessionStore } from "./auth/session.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { AppError } from "./errors.ts";
import { installErrorHandlers } from "./http/errorHandler.ts";
import { type AuthClass, adminGuard, classifyRoute, securitySchemes, xapiGuard } from "./http/routeAuth.ts";
import { rejectUnstorableInput } from "./http/storableInput.ts";
import { installTransportSecurity } from "./http/transportSecurity.ts";
import { formatSchemaErrors, validatorCompiler } from "./http/validation.ts";
import type { TaskName } from "./jobs/definitions.ts";
import type { TaskReport, TaskRequest } from "./jobs/runTaskNow.ts";
import { loggerOptions } from "./logger.ts";
import { type EmailClient, emailClientFor } from "./mail/emailClient.ts";
import { metrics, registerStreamGauges, registry } from "./metrics.ts";
import { cmi5Routes } from "./routes/cmi5/routes.ts";
import { progressRoutes } from "./routes/debug/progress.ts";
import { debugQueryRoutes } from "./routes/debug/query.ts";
import { debugRoutes } from "./routes/debug/routes.ts";
import { xapiFailureRoutes } from "./routes/debug/xapiFailures.ts";
import { healthRoutes } from "./routes/health.ts";
import { lessonRoutes } from "./routes/lessons/routes.ts";
import { reportRoutes } from "./routes/reports/routes.ts";
import { signupRoutes } from "./routes/signup/routes.ts";
import { taskRoutes } from "./routes/tasks/routes.ts";
import { unsubscribeRoutes } from "./routes/unsubscribe/routes.ts";
import { userRoutes } from "./routes/users/routes.ts";
import { agentsAndActivitiesRoutes } from "./routes/xapi/agentsAndActivities.ts";
import { rewriteAlternateMethod } from "./routes/xapi/alternateRequest.ts";
import { documentRoutes } from "./routes/xapi/documents.ts";
import { installXapiProtocol } from "./routes/xapi/protocol.ts";
import { installFailureRecording } from "./routes/xapi/recordFailures.ts";
import { xapiRoutes } from "./routes/xapi/routes.ts";
import { uiRoutes } from "./ui/routes.ts";
import { CredentialVerifier } from "./xapi/credentials.ts";
import { XapiFailureLog } from "./xapi/failureLog.ts";

export interface AppDeps {
  config: Readonly<Config>;
  database: Database;
  /** The admin password (from the environment or `DATA_DIR/admin-password`). */
  adminPassword: string;
  /** Present when `REDIS_URL` is configured: readiness checks it, rate limits are shared through it. */
  redis?: Redis;
  /**
   * True when this process cannot work without Redis (role `all` runs the stream worker and the
   * scheduler): `/health/ready` is then 503 while Redis is down. Default false (role `api`: ready,
   * reported `degraded`).
   */
  redisRequired?: boolean;
  /** A logger to use; default: a new pino logger at `config.logLevel`. */
  logger?: Logger;
  /** Called after statements are committed in incremental mode (the in-process sweep's nudge). */
  onStatementsStored?: () => void;
  /** The key that signs unsubscribe links. */
  signingSecret: string;
  /** Where this process sends mail (test reminders); default: from the configuration. */
  email?: EmailClient;
  /** The test report `/api/debug/test-report` reads; default reports/test-report.json. */
  testReportFile?: string;
  /** The conformance run the progress view reads; default reports/conformance.json. */
  conformanceFile?: string;
  /** Runs a task now (`POST /api/tasks/:name/run`); absent where the process runs no tasks. */
  runTask?: (name: TaskName, request: TaskRequest) => Promise<TaskReport>;
}

declare module "fastify" {
  interface FastifyInstance {
    /** What the routes work with: configuration, database, secrets. */
    deps: AppDeps;
    /** Every route registered, with its auth class (for route-table tests and the progress view). */
    routeTable: RouteEntry[];
    /** Admin sessions of the login form: started at login, ended at logout. */
    sessions: SessionStore;
    /** Checks xAPI credentials; `forget()` after revoking one. */
    credentialVerifier: CredentialVerifier;
    /** The log of refused xAPI requests (`/ui/xapi-log`); `flush()` writes what is queued. */
    xapiFailureLog: XapiFailureLog;
    /** Failed admin passwords, from the login form, HTTP Basic and Bearer alike. */
    adminLimiter: FailureLimiter;
    email: EmailClient;
  }
}

export type App = FastifyInstance;

export interface RouteEntry {
  method: string;
  url: string;
  auth: AuthClass;
}

/** Where the rate limits' shared counters live in Redis. */
export const RATE_LIMIT_NAMESPACE = "cohort-lrs:rate-limit:";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The body limit of every route outside `/xapi` that declares none of its own (forms, the admin
 * API): 64 KiB. Only xAPI statement batches are large; `BODY_LIMIT` is theirs, and caps these too.
 */
const SMALL_BODY_LIMIT = 64 * 1024;

function limitBody(route: { url: string; bodyLimit?: number | undefined }, bodyLimit: number): void {
  if (route.url === "/xapi" || route.url.startsWith("/xapi/")) return;
  route.bodyLimit = Math.min(route.bodyLimit ?? SMALL_BODY_LIMIT, bodyLimit);
}

/** Honour a caller's `X-Request-Id` when it is a sane token, else make one. */
function requestId(request: IncomingMessage): string {
  const incoming = request.headers["x-request-id"];
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export async function createApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const options: FastifyHttpOptions<Server> = {
    genReqId: requestId,
    bodyLimit: config.bodyLimitBytes,
    schemaErrorFormatter: formatSchemaErrors as never,
    trustProxy: config.trustProxy as FastifyHttpOptions<Server>["trustProxy"],
    // Requests that arrive while the server is closing are answered 503; in-flight ones finish.
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // xAPI 1.0.3's alternate request syntax: `POST ...?method=PUT` is routed as the PUT it stands for.
    rewriteUrl: rewriteAlternateMethod,
  };
  if (deps.logger) options.loggerInstance = deps.logger as FastifyBaseLogger;
  else options.logger = loggerOptions(config.logLevel);
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body is answered 415 rather than parsed into a string.
  app.removeContentTypeParser("text/plain");
  app.decorate("deps", deps);

  installErrorHandlers(app, config.bodyLimitBytes);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  // Every route: no text PostgreSQL cannot store, in parameters, query or body.
  app.addHook("preValidation", rejectUnstorableInput);
  app.addHook("onResponse", async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "(unmatched)",
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  const verifier = new CredentialVerifier(deps.database.db);
  app.decorate("credentialVerifier", verifier);
  const adminLimiter = new FailureLimiter(ADMIN_FAILURE_LIMITS);
  app.decorate("adminLimiter", adminLimiter);
  app.decorate("email", deps.email ?? emailClientFor(config));
  const sessions = new SessionStore(deps.database.db, deps.signingSecret);
  app.decorate("sessions", sessions);
  const guards = {
    admin: adminGuard(deps.adminPassword, sessions, adminLimiter),
    xapi: xapiGuard(verifier),
  };
  const routeTable: RouteEntry[] = [];
  app.decorate("routeTable", routeTable);
  app.addHook("onRoute", (route) => {
    classifyRoute(route, guards);
    limitBody(route, config.bodyLimitBytes);
    for (const method of [route.method].flat()) {
      routeTable.push({ method, url: route.url, auth: route.config!.auth! });
    }
  });

  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        // The DB terminal embeds SQLPad/Superset when SQLPAD_URL is set; nothing else may be framed.
        frameSrc: config.sqlpadUrl ? [new URL(config.sqlpadUrl).origin] : ["'none'"],
        // Only over https (transportSecurity.ts); over plain HTTP it breaks login and /docs.
        upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: false,
  });
  installTransportSecurity(app, config);
  await app.register(rateLimit, {
    global: false,
    ...(deps.redis ? { redis: deps.redis, nameSpace: RATE_LIMIT_NAMESPACE } : {}),
    // While Redis (the shared counters) is down, requests go through uncounted rather than 500:
    // an api stays useful through a Redis outage (health/readiness.ts).
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, "rate_limited", `too many requests; try again in ${context.after}`),
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "cohort-lrs",
        version: "0.1.0",
        description:
          "Signup, an xAPI Learning Record Store, reports and the admin API of a cohort-based course. " +
          "Errors are JSON `{error, message, requestId, details?}`.",
      },
      components: { securitySchemes: securitySchemes as never },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    // Its policy asks for https unconditionally, which breaks /docs over plain HTTP. Its onSend
    // hook runs after ours, so over https /docs has HSTS but no upgrade (its assets are same-origin).
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ""),
  });
  await installXapiProtocol(app, config.corsOrigins, config.bodyLimitBytes);
  const xapiFailureLog = new XapiFailureLog(deps.database.db, {
    maxAgeMs: config.xapiLogMaxAgeMs,
    maxRows: config.xapiLogMaxRows,
    log: app.log,
  });
  app.decorate("xapiFailureLog", xapiFailureLog);
  installFailureRecording(app, xapiFailureLog);
  app.addHook("onClose", () => xapiFailureLog.close());

  if (deps.redis) registerStreamGauges(deps.redis);
  app.get(
    "/metrics",
    {
      config: { auth: "admin" },
      schema: { tags: ["health"], summary: "Prometheus metrics of this process (text format)" },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get("/openapi.json", { config: { auth: "public" }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes);
  await app.register(signupRoutes);
  await app.register(lessonRoutes);
  await app.register(userRoutes);
  await app.register(xapiRoutes);
  await app.register(documentRoutes);
  await app.register(agentsAndActivitiesRoutes);
  await app.register(cmi5Routes);
  await app.register(unsubscribeRoutes);
  await app.register(taskRoutes);
  await app.register(reportRoutes);
  await app.register(debugRoutes);
  await app.register(debugQueryRoutes);
  await app.register(xapiFailureRoutes);
  await app.register(progressRoutes);
  await app.register(uiRoutes);
  return app;
}
