/** OpenAPI: every `/xapi` route declares `X-Experience-API-Version`, so "Try it out" works for them. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DocumentsHarness, documentsHarness } from "../../../test/helpers/documents.ts";

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: { default?: string };
  examples?: Record<string, { value: string }>;
}

describe("OpenAPI of the xAPI routes", () => {
  let h: DocumentsHarness;
  beforeAll(async () => {
    h = await documentsHarness("pglite");
  });
  afterAll(async () => {
    await h.close();
  });

  it("declares X-Experience-API-Version with its supported versions on every /xapi operation", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
    };
    const operations = Object.entries(spec.paths)
      .filter(([path]) => path.startsWith("/xapi"))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
      );
    const paths = new Set(operations.map((o) => o.path));
    for (const path of [
      "/xapi/statements",
      "/xapi/activities/state",
      "/xapi/activities/profile",
      "/xapi/agents/profile",
      "/xapi/agents",
      "/xapi/activities",
      "/xapi/about",
    ]) {
      expect(paths, path).toContain(path);
    }
    for (const { path, method, operation } of operations) {
      const header = operation.parameters?.find(
        (p) => p.in === "header" && p.name.toLowerCase() === "x-experience-api-version",
      );
      expect(header, `${method} ${path}`).toBeDefined();
      // `about` and the cmi5 fetch URL take the header but do not require it.
      const optional = path === "/xapi/about" || path.startsWith("/xapi/cmi5/fetch/");
      expect(header!.required ?? false, `${method} ${path}`).toBe(!optional);
      expect(header!.schema?.default).toBe("2.0.0");
      expect(Object.keys(header!.examples ?? {})).toEqual(["1.0.3", "2.0.0"]);
    }
  });
});
