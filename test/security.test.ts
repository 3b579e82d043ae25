/**
 * Every registered route is classified (public, xAPI credential, admin), and each class is
 * enforced: the public routes are exactly the ones meant to be, every xAPI route refuses a
 * missing or revoked credential, every admin route refuses anyone without the admin password or
 * a live session (the admin side is walked in src/ui/ui.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { buildApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { createCredential, statement } from "./helpers/xapi.ts";

let database: TestDatabase;
let app: App;
beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database);
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

/** The routes anyone may call. Adding one here is a security decision: say why in review. */
const PUBLIC = [
  "GET /health",
  "GET /health/ready",
  "POST /api/signup",
  "GET /openapi.json",
  "GET /xapi/about",
  // cmi5: the AU's one-time fetch URL; its signed token is the credential.
  "POST /xapi/cmi5/fetch/:token",
  "GET /unsubscribe",
  "POST /unsubscribe",
  "GET /ui/login",
  "POST /ui/login",
];

describe("route classes", () => {
  it("classifies every route, and only the intended ones are public", () => {
    const routes = app.routeTable.filter((route) => route.method !== "HEAD");
    expect(routes.every((route) => ["public", "admin", "xapi"].includes(route.auth))).toBe(true);
    const publicRoutes = routes
      .filter((route) => route.auth === "public")
      .map((route) => `${route.method} ${route.url}`)
      .filter((route) => !route.startsWith("GET /docs") && !route.startsWith("OPTIONS "));
    expect(publicRoutes.sort()).toEqual([...PUBLIC].sort());
  });

  it("every xAPI route refuses a missing, a wrong and a revoked credential", async () => {
    const revoked = await createCredential(database.db, { revoked: true });
    const wrong = {
      authorization: `Basic ${Buffer.from("nobody:nothing").toString("base64")}`,
      "x-experience-api-version": "1.0.3",
    };
    const xapi = app.routeTable.filter((route) => route.auth === "xapi" && route.method !== "HEAD");
    expect(xapi.length).toBeGreaterThanOrEqual(3);
    for (const [index, route] of xapi.entries()) {
      for (const headers of [{ "x-experience-api-version": "1.0.3" }, wrong, revoked.headers]) {
        const response = await app.inject({
          method: route.method as "GET",
          url: `${route.url}?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee`,
          headers,
          // One address per route, so the failure limit (20 a minute per address) never answers 429 here.
          remoteAddress: `10.77.0.${index + 1}`,
          ...(route.method === "GET" ? {} : { payload: statement() }),
        });
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      }
    }
  });

  it("sends security headers on pages and API answers", async () => {
    for (const url of ["/ui/login", "/health", "/docs/"]) {
      const response = await app.inject({ method: "GET", url });
      expect(response.headers["content-security-policy"], url).toBeDefined();
      expect(response.headers["x-content-type-options"], url).toBe("nosniff");
      expect(response.headers["strict-transport-security"], url).toBeDefined();
    }
    const login = await app.inject({ method: "GET", url: "/ui/login" });
    expect(login.headers["content-security-policy"]).toContain("frame-src 'none'");
  });
});
