/**
 * Cross-origin use of the LRS (xAPI Communication §1.3, and issue #11 item 7): every `/xapi`
 * response, errors and 404s included, carries the CORS headers for an allowed origin and
 * `X-Experience-API-Version`; the preflight allows every method and xAPI header; preflights
 * anywhere else are not approved.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACTIVITY,
  ADA,
  type DocumentsHarness,
  documentsHarness,
  query,
} from "../../../test/helpers/documents.ts";

const ORIGIN = "https://lessons.example.com";

describe("CORS under /xapi", () => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness("postgres", { CORS_ORIGINS: ORIGIN });
  });
  afterAll(async () => {
    await h.close();
  });

  const state = `/xapi/activities/state${query({ activityId: ACTIVITY, agent: ADA, stateId: "bookmark" })}`;

  it("the preflight of a DELETE with If-Match allows the method and every xAPI request header", async () => {
    const response = await h.app.inject({
      method: "OPTIONS",
      url: state,
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "DELETE",
        "access-control-request-headers":
          "authorization,content-type,if-match,if-none-match,x-experience-api-version",
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
    const methods = String(response.headers["access-control-allow-methods"]).split(/,\s*/);
    expect(methods).toEqual(expect.arrayContaining(["GET", "HEAD", "PUT", "POST", "DELETE"]));
    const headers = String(response.headers["access-control-allow-headers"]).toLowerCase().split(/,\s*/);
    expect(headers).toEqual(
      expect.arrayContaining([
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "x-experience-api-version",
      ]),
    );
    expect(response.headers["x-experience-api-version"]).toBeDefined();
  });

  it.each([
    ["a 404 for a path that does not exist", "GET", "/xapi/nothing-here", h_auth, 404],
    ["a 401 without a credential", "GET", "__state__", { "x-experience-api-version": "1.0.3" }, 401],
    ["a 400 for a missing parameter", "GET", "/xapi/activities/state?activityId=x", h_auth, 400],
    ["a 404 for a document not stored", "GET", "__state__", h_auth, 404],
    ["a 400 without the version header", "GET", "__state__", {}, 400],
  ])("%s carries CORS and version headers", async (_, method, url, headers, status) => {
    const response = await h.app.inject({
      method: method as "GET",
      url: url === "__state__" ? state : url,
      headers: { origin: ORIGIN, ...(typeof headers === "function" ? headers(h) : headers) },
    });
    expect(response.statusCode).toBe(status);
    expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(String(response.headers["access-control-expose-headers"])).toContain("ETag");
    expect(response.headers["x-experience-api-version"]).toMatch(/^(1\.0\.3|2\.0\.0)$/);
  });

  it("a document response exposes ETag and Last-Modified to the page", async () => {
    await h.app.inject({
      method: "PUT",
      url: state,
      headers: { ...h.credential.headers, origin: ORIGIN, "content-type": "text/plain" },
      payload: "slide-2",
    });
    const response = await h.app.inject({
      method: "GET",
      url: state,
      headers: { ...h.credential.headers, origin: ORIGIN },
    });
    expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(String(response.headers["access-control-expose-headers"])).toMatch(/ETag.*Last-Modified/);
  });

  it("an origin not allowed gets no Access-Control-Allow-Origin", async () => {
    const response = await h.app.inject({
      method: "OPTIONS",
      url: state,
      headers: { origin: "https://evil.example.net", "access-control-request-method": "PUT" },
    });
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it.each(["/api/users", "/ui/login", "/api/signup", "/health"])(
    "a preflight for %s is not approved (404, no CORS headers)",
    async (url) => {
      const response = await h.app.inject({
        method: "OPTIONS",
        url,
        headers: { origin: ORIGIN, "access-control-request-method": "POST" },
      });
      expect(response.statusCode).toBe(404);
      expect(response.headers["access-control-allow-origin"]).toBeUndefined();
      expect(response.headers["access-control-allow-methods"]).toBeUndefined();
    },
  );
});

function h_auth(h: DocumentsHarness): Record<string, string> {
  return h.credential.headers;
}
