/**
 * Bounded work for bodies outside xAPI (issue #11, finding 5): small body limits per route, and
 * validation errors capped at 20 problems, so a hostile body cannot make the answer, the time or
 * the memory grow with it. Over a real socket where the transport matters. Memory and latency
 * under five such bodies at once are measured by `npm run bench -- floods`.
 */
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { MAX_ERROR_DETAILS, ValidationFailed } from "../src/errors.ts";
import { describeValidationErrors } from "../src/http/validation.ts";
import { adminHeaders, buildApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { createCredential, statement } from "./helpers/xapi.ts";

let database: TestDatabase;
let app: App;
let port: number;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database);
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

/** An object of `count` unknown keys, as JSON. */
function unknownKeys(count: number, from = 0): string {
  const keys = Array.from({ length: count }, (_, i) => `"unknown_${from + i}":1`);
  return `{${keys.join(",")}}`;
}

/** POSTs `body` over a socket; resolves with the answer even when the server stops reading early. */
function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    // The server may answer and close before the whole body is sent: the answer still arrives.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    req.end(body);
  });
}

describe("public signup", () => {
  it("refuses a 2 MB body of unknown keys with 413 and an answer of a few hundred bytes", async () => {
    const body = unknownKeys(150_000);
    expect(body.length).toBeGreaterThan(2_000_000);
    const answer = await post("/api/signup", body);
    expect(answer.status).toBe(413);
    expect(answer.body.length).toBeLessThan(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: "payload_too_large",
      message: "the request body is larger than the limit of 8192 bytes",
    });
  });

  it("answers five 2 MB bodies at once with 413 each", async () => {
    const body = unknownKeys(150_000);
    const answers = await Promise.all(Array.from({ length: 5 }, () => post("/api/signup", body)));
    expect(answers.map((answer) => answer.status)).toEqual([413, 413, 413, 413, 413]);
  });

  it("describes the first 20 problems of a body under the limit and says how many more there were", async () => {
    const body = unknownKeys(450);
    expect(body.length).toBeLessThan(8192);
    const answer = await post("/api/signup", body);
    expect(answer.status).toBe(400);
    expect(answer.body.length).toBeLessThan(3_000);
    const json = JSON.parse(answer.body) as { error: string; message: string; details: unknown[] };
    expect(json.error).toBe("validation_error");
    expect(json.details).toHaveLength(20);
    expect(json.details[0]).toEqual({ field: expect.any(String), message: expect.any(String) });
    // 450 unknown keys and 4 missing fields: 454 problems, 20 described.
    expect(json.message).toMatch(/; and 434 more problems$/);
  });

  it("still accepts a valid signup", async () => {
    const answer = await post(
      "/api/signup",
      JSON.stringify({ name: "Ada", email: "ada@example.com", avatar: "ada", cohortId: "c1" }),
    );
    expect(answer.status).toBe(201);
  });
});

describe("the admin API and forms", () => {
  const auth = { authorization: adminHeaders.authorization };

  it.each([
    ["/api/lessons", 32 * 1024],
    ["/api/tasks/daily-reminders/run", 4 * 1024],
    ["/api/debug/query", 16 * 1024],
  ])("limits POST %s to %i bytes", async (path, limit) => {
    const over = await post(path, unknownKeys(Math.ceil(limit / 10)), auth);
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body).message).toBe(`the request body is larger than the limit of ${limit} bytes`);
  });

  it("limits every other route outside /xapi to 64 KiB, forms included", async () => {
    const form = `name=${"x".repeat(70_000)}`;
    const answer = await post("/ui/admin/keys", form, {
      ...auth,
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).message).toContain("65536 bytes");
  });

  it("caps the problems of an admin body too", async () => {
    const answer = await post("/api/lessons", unknownKeys(1_500), auth);
    expect(answer.status).toBe(400);
    const json = JSON.parse(answer.body) as { details: unknown[]; message: string };
    expect(json.details).toHaveLength(20);
    expect(json.message).toMatch(/and \d+ more problems$/);
  });

  it("checks the admin password before reading the body", async () => {
    const answer = await post("/api/lessons", unknownKeys(10_000));
    expect(answer.status).toBe(401);
  });
});

describe("xAPI", () => {
  it("keeps BODY_LIMIT for statements: a 300 KiB batch is stored", async () => {
    const content = await createCredential(database.db);
    const batch = JSON.stringify(
      Array.from({ length: 400 }, () =>
        statement({ context: { extensions: { "https://example.com/padding": "x".repeat(500) } } }),
      ),
    );
    expect(batch.length).toBeGreaterThan(300 * 1024);
    const answer = await post("/xapi/statements", batch, content.headers);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toHaveLength(400);
  });
});

describe("validation errors", () => {
  it("describe at most 20 problems and count the rest", () => {
    const errors = Array.from({ length: 1_000 }, (_, i) => ({
      keyword: "additionalProperties",
      instancePath: "",
      schemaPath: "#/additionalProperties",
      params: { additionalProperty: `k${i}` },
      message: "must NOT have additional properties",
    }));
    const { details, more } = describeValidationErrors(errors, "body");
    expect(details).toHaveLength(MAX_ERROR_DETAILS);
    expect(details[0]).toEqual({ field: "k0", message: "is not a known property" });
    expect(more).toBe(980);
    const error = new ValidationFailed(details, more);
    expect(error.details).toHaveLength(20);
    expect(error.message).toMatch(/^k0: is not a known property; .*; and 980 more problems$/);
    expect(error.message.length).toBeLessThan(1_000);
  });

  it("cap details given directly as well", () => {
    const details = Array.from({ length: 25 }, (_, i) => ({ field: `f${i}`, message: "is wrong" }));
    const error = new ValidationFailed(details);
    expect(error.details).toHaveLength(20);
    expect(error.message).toMatch(/; and 5 more problems$/);
    expect(new ValidationFailed(details.slice(0, 21)).message).toMatch(/; and 1 more problem$/);
  });
});
