/**
 * Every registered route is classified (public, xAPI credential, admin), and each class is
 * enforced: the public routes are exactly the ones meant to be, every xAPI route refuses a
 * missing or revoked credential, every admin route refuses anyone without the admin password or
 * a live session (the admin side is walked in src/ui/ui.test.ts).
 */
import { describe, expect, it } from "vitest";
import { buildApp, useTestApp } from "./helpers/app.ts";
import { createCredential, statement } from "./helpers/xapi.ts";

const harness = useTestApp({}, { truncate: false });

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
  // The admin area's icon: a constant SVG, asked for before any login.
  "GET /favicon.ico",
  "GET /favicon.svg",
];

describe("route classes", () => {
  it("classifies every route, and only the intended ones are public", () => {
    const routes = harness.app.routeTable.filter((route) => route.method !== "HEAD");
    expect(routes.every((route) => ["public", "admin", "xapi"].includes(route.auth))).toBe(true);
    const publicRoutes = routes
      .filter((route) => route.auth === "public")
      .map((route) => `${route.method} ${route.url}`)
      .filter((route) => !route.startsWith("GET /docs") && !route.startsWith("OPTIONS "));
    expect(publicRoutes.sort()).toEqual([...PUBLIC].sort());
  });

  it("every xAPI route refuses a missing, a wrong and a revoked credential", async () => {
    const revoked = await createCredential(harness.database.db, { revoked: true });
    const wrong = {
      authorization: `Basic ${Buffer.from("nobody:nothing").toString("base64")}`,
      "x-experience-api-version": "1.0.3",
    };
    const xapi = harness.app.routeTable.filter((route) => route.auth === "xapi" && route.method !== "HEAD");
    expect(xapi.length).toBeGreaterThanOrEqual(3);
    for (const [index, route] of xapi.entries()) {
      for (const headers of [{ "x-experience-api-version": "1.0.3" }, wrong, revoked.headers]) {
        const response = await harness.app.inject({
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

  it("sends security headers on pages and API answers; over plain HTTP no HSTS and no https upgrade", async () => {
    for (const url of ["/ui/login", "/health", "/docs/"]) {
      const response = await harness.app.inject({ method: "GET", url });
      expect(response.headers["content-security-policy"], url).toContain("default-src 'self'");
      expect(response.headers["content-security-policy"], url).not.toContain("upgrade-insecure-requests");
      expect(response.headers["x-content-type-options"], url).toBe("nosniff");
      expect(response.headers["strict-transport-security"], url).toBeUndefined();
    }
    const login = await harness.app.inject({ method: "GET", url: "/ui/login" });
    expect(login.headers["content-security-policy"]).toContain("frame-src 'none'");
  });

  it("over https (PUBLIC_BASE_URL https) every answer carries HSTS, and the pages upgrade-insecure-requests", async () => {
    const secure = await buildApp(harness.database, { PUBLIC_BASE_URL: "https://course.example.com" });
    try {
      for (const url of ["/ui/login", "/health", "/docs/", "/xapi/about"]) {
        const response = await secure.inject({ method: "GET", url });
        expect(response.headers["strict-transport-security"], url).toBe(
          "max-age=31536000; includeSubDomains",
        );
        // Swagger UI sets its own policy after every hook of ours; its assets are same-origin.
        if (url !== "/docs/") {
          expect(response.headers["content-security-policy"], url).toMatch(/;upgrade-insecure-requests$/);
        }
      }
    } finally {
      await secure.close();
    }
  });

  it("behind a trusted proxy, only requests the proxy marks https get HSTS and the upgrade", async () => {
    const proxied = await buildApp(harness.database, { TRUST_PROXY: "true" });
    try {
      const viaHttps = await proxied.inject({
        method: "GET",
        url: "/ui/login",
        headers: { "x-forwarded-proto": "https" },
      });
      expect(viaHttps.headers["strict-transport-security"]).toBeDefined();
      expect(viaHttps.headers["content-security-policy"]).toContain("upgrade-insecure-requests");
      const viaHttp = await proxied.inject({
        method: "GET",
        url: "/ui/login",
        headers: { "x-forwarded-proto": "http" },
      });
      expect(viaHttp.headers["strict-transport-security"]).toBeUndefined();
      expect(viaHttp.headers["content-security-policy"]).not.toContain("upgrade-insecure-requests");
    } finally {
      await proxied.close();
    }
    // Without TRUST_PROXY a client cannot claim https for itself.
    const claimed = await harness.app.inject({
      method: "GET",
      url: "/ui/login",
      headers: { "x-forwarded-proto": "https" },
    });
    expect(claimed.headers["strict-transport-security"]).toBeUndefined();
  });
});
