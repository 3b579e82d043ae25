import { describe, expect, it } from "vitest";
import { useTestApp } from "../test/helpers/app.ts";

const harness = useTestApp({}, { truncate: false });

/** The routes this API promises, with who may call them. */
const EXPECTED = [
  ["GET", "/health", "public"],
  ["GET", "/health/ready", "public"],
  ["POST", "/api/signup", "public"],
  ["POST", "/api/lessons", "admin"],
  ["GET", "/api/lessons", "admin"],
  ["GET", "/api/users", "admin"],
] as const;

describe("the route table", () => {
  it("classifies every route", () => {
    for (const [method, url, auth] of EXPECTED) {
      expect(harness.app.routeTable).toContainEqual({ method, url, auth });
    }
    expect(harness.app.routeTable.every((route) => ["public", "admin", "xapi"].includes(route.auth))).toBe(
      true,
    );
    // That no admin route answers without authentication is proven in src/ui/ui.test.ts.
  });
});

describe("OpenAPI", () => {
  it("/openapi.json documents every API route with its shapes and auth", async () => {
    const response = await harness.app.inject({ method: "GET", url: "/openapi.json" });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const [method, url, auth] of EXPECTED) {
      const operation = doc.paths[url]?.[method.toLowerCase()];
      expect(operation, `${method} ${url}`).toBeDefined();
      expect(operation.responses).toBeDefined();
      if (auth === "admin") expect(operation.security).toEqual([{ adminBasic: [] }, { adminBearer: [] }]);
      else expect(operation.security).toBeUndefined();
    }
    const signup = doc.paths["/api/signup"].post;
    expect(Object.keys(signup.requestBody.content["application/json"].schema.properties)).toEqual([
      "name",
      "email",
      "avatar",
      "cohortId",
      "timezone",
    ]);
    expect(signup.responses["201"]).toBeDefined();
    expect(doc.components.securitySchemes.adminBasic).toMatchObject({ type: "http", scheme: "basic" });
  });

  it("/docs serves Swagger UI", async () => {
    const response = await harness.app.inject({ method: "GET", url: "/docs/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    expect(response.body).toContain("swagger");
  });

  it("sets security headers", async () => {
    const response = await harness.app.inject({ method: "GET", url: "/health" });
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
  });
});

describe("request ids", () => {
  it("echoes a sane X-Request-Id and replaces an unsafe one", async () => {
    const sane = await harness.app.inject({
      method: "GET",
      url: "/health",
      headers: { "x-request-id": "abc-123" },
    });
    expect(sane.headers["x-request-id"]).toBe("abc-123");
    const unsafe = await harness.app.inject({
      method: "GET",
      url: "/health",
      headers: { "x-request-id": "a b\u0000c" },
    });
    expect(unsafe.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
