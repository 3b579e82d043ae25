/** The debug API (`/api/debug/*`): what an admin reads to follow one statement through the pipeline. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { adminHeaders, useTestApp } from "../../../test/helpers/app.ts";
import { createCredential, statement } from "../../../test/helpers/xapi.ts";

const harness = useTestApp({ PUBLIC_BASE_URL: "https://course.example.com", TRUST_PROXY: "true" });

describe("debug API", () => {
  it("serves the last statement (404 before any), raw JSON by id, recent completions, the reminder preview", async () => {
    expect(
      (await harness.app.inject({ method: "GET", url: "/api/debug/last-statement", headers: adminHeaders }))
        .statusCode,
    ).toBe(404);
    const content = await createCredential(harness.database.db);
    const [id] = (
      await harness.app.inject({
        method: "POST",
        url: "/xapi/statements",
        headers: content.headers,
        payload: statement(),
      })
    ).json() as string[];

    const last = await harness.app.inject({
      method: "GET",
      url: "/api/debug/last-statement",
      headers: adminHeaders,
    });
    expect(last.json()).toMatchObject({
      id,
      stored: expect.any(String),
      flattenedAt: null,
      flattenLagMs: null,
      statement: { id },
    });

    const raw = await harness.app.inject({
      method: "GET",
      url: `/api/debug/raw-json/${id}`,
      headers: adminHeaders,
    });
    expect(raw.json()).toMatchObject({
      id,
      statement: { id, verb: { id: "http://adlnet.gov/expapi/verbs/completed" } },
    });
    expect(
      (
        await harness.app.inject({
          method: "GET",
          url: `/api/debug/raw-json/${randomUUID()}`,
          headers: adminHeaders,
        })
      ).statusCode,
    ).toBe(404);
    const malformed = await harness.app.inject({
      method: "GET",
      url: "/api/debug/raw-json/12345",
      headers: adminHeaders,
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe("validation_error");

    const recent = await harness.app.inject({
      method: "GET",
      url: "/api/debug/recent-completions?limit=5",
      headers: adminHeaders,
    });
    expect(recent.statusCode).toBe(200);
    expect(recent.json()).toHaveProperty("items");

    const preview = await harness.app.inject({
      method: "GET",
      url: "/api/debug/reminder-preview?at=2026-03-02T18:00:00Z",
      headers: adminHeaders,
    });
    expect(preview.json()).toMatchObject({
      at: "2026-03-02T18:00:00.000Z",
      reminderHour: 18,
      zones: [],
      reminders: [],
    });
    expect(
      (
        await harness.app.inject({
          method: "GET",
          url: "/api/debug/reminder-preview?at=soon",
          headers: adminHeaders,
        })
      ).statusCode,
    ).toBe(400);
  });

  it("documents each debug route's response in OpenAPI", async () => {
    const doc = (await harness.app.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of [
      "/api/debug/last-statement",
      "/api/debug/recent-completions",
      "/api/debug/raw-json/{id}",
      "/api/debug/reminder-preview",
    ]) {
      expect(doc.paths[path]?.get?.responses?.["200"], path).toBeDefined();
    }
  });
});
