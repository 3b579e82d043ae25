/**
 * No secret, password or token in the logs: a full run of the real server at LOG_LEVEL=trace,
 * exercising every kind of credential (admin login form, HTTP Basic, xAPI keys, a new key's
 * secret, session cookies, unsubscribe tokens), then a search of everything it printed.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { csrfToken } from "../src/auth/session.ts";
import { type Database, driverError } from "../src/db/client.ts";
import { apiCredentials, users } from "../src/db/schema.ts";
import { loggerOptions } from "../src/logger.ts";
import { SIGNING_SECRET, ADMIN_PASSWORD as TEST_ADMIN_PASSWORD, testConfig } from "./helpers/app.ts";
import { type Server, startServer } from "./helpers/cli.ts";
import { createTestDatabase, type OpenedDatabase, openTestDatabase } from "./helpers/db.ts";
import { basic, statement } from "./helpers/xapi.ts";

const ADMIN_PASSWORD = "logs-test-admin-password-91";
const KEY = "logs-content";
const SECRET = "logs-content-secret-4471";
let server: Server | undefined;
afterAll(async () => {
  await server?.stop();
});

describe("the logs of a full run", () => {
  it("contain no password, secret, session or token", async () => {
    server = await startServer(["all"], {
      DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-logs-")),
      PORT: "0",
      LOG_LEVEL: "trace",
      ADMIN_PASSWORD,
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
      APP_SECRET: "logs-test-app-secret-0123456789-abcdefghijkl",
    });
    const url = server.url;
    const secrets: string[] = [ADMIN_PASSWORD, SECRET, "logs-test-app-secret-0123456789-abcdefghijkl"];

    // HTTP Basic (admin and xAPI), a wrong password, a Bearer token.
    await fetch(`${url}/api/users`, { headers: { authorization: basic("admin", ADMIN_PASSWORD) } });
    await fetch(`${url}/api/users`, { headers: { authorization: basic("admin", "wrong-password-xyz-123") } });
    secrets.push("wrong-password-xyz-123");
    await fetch(`${url}/api/users`, { headers: { authorization: `Bearer ${ADMIN_PASSWORD}` } });
    await fetch(`${url}/xapi/statements`, {
      method: "POST",
      headers: {
        authorization: basic(KEY, SECRET),
        "x-experience-api-version": "1.0.3",
        "content-type": "application/json",
      },
      body: JSON.stringify(statement()),
    });

    // The login form: the password in a form body, then the session cookie.
    const form = await fetch(`${url}/ui/login`);
    const nonce = /cohort_lrs_login=([^;]+)/.exec(form.headers.get("set-cookie") ?? "")![1]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await fetch(`${url}/ui/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `cohort_lrs_login=${nonce}` },
      body: new URLSearchParams({ password: ADMIN_PASSWORD, _csrf: csrf, next: "/ui" }),
    });
    const session = /cohort_lrs_session=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")![1]!;
    secrets.push(session, nonce, csrf);
    const keysPage = await fetch(`${url}/ui/admin/keys`, {
      headers: { cookie: `cohort_lrs_session=${session}` },
    });
    const pageCsrf = /name="_csrf" value="([^"]+)"/.exec(await keysPage.text())![1]!;
    secrets.push(pageCsrf);

    // A new key: its secret is shown once in the page, never logged.
    const created = await fetch(`${url}/ui/admin/keys`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `cohort_lrs_session=${session}`,
      },
      body: new URLSearchParams({ name: "Logged?", scope: "all", _csrf: pageCsrf }),
    });
    const newSecret = /secret: ([\w-]+)/.exec(await created.text())![1]!;
    secrets.push(newSecret);

    // An unsubscribe token in a query string (valid or not, it is a credential).
    const token = "a-made-up-unsubscribe-token.c2lnbmF0dXJl";
    await fetch(`${url}/unsubscribe?token=${token}`);
    secrets.push(token);

    expect(await server.stop()).toBe(0);
    const output = server.output();
    server = undefined;
    expect(output).toMatch(/"reqId"/); // requests were logged (at trace), so the search means something
    expect(output).toContain("/unsubscribe?token=***");
    for (const secret of secrets) {
      expect(output.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the logs`).toBe(false);
    }
    expect(output).not.toMatch(/authorization/i);
  }, 120_000);
});

/** A pino logger with the service's options, writing into a string. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino(loggerOptions("trace"), stream), output: () => lines.join("") };
}

/** Creates a key through the admin page while the database refuses every new credential. */
async function failKeyCreation(database: Database) {
  await database.db.execute(
    sql`alter table api_credentials add constraint refuse_new_keys check (name <> 'never') not valid`,
  );
  const { logger, output } = capturingLogger();
  const app = await createApp({
    config: testConfig(),
    database,
    adminPassword: TEST_ADMIN_PASSWORD,
    signingSecret: SIGNING_SECRET,
    logger,
  });
  try {
    const response = await app.inject({
      method: "POST",
      url: "/ui/admin/keys",
      headers: {
        authorization: basic("admin", TEST_ADMIN_PASSWORD),
        "content-type": "application/x-www-form-urlencoded",
      },
      payload: new URLSearchParams({
        name: "never",
        scope: "all",
        _csrf: csrfToken(SIGNING_SECRET, "basic"),
      }).toString(),
    });
    return { response, output: output() };
  } finally {
    await app.close();
  }
}

describe("a database error", () => {
  // One embedded database for the PGlite cases (migrating one takes seconds).
  let embedded: OpenedDatabase;
  beforeAll(async () => {
    embedded = await openTestDatabase("pglite");
  });
  afterAll(async () => {
    await embedded.drop();
  });

  it.each(["postgres", "pglite"] as const)(
    "of a failed key creation (%s) is logged without the new key, its secret's hash or any parameter",
    async (kind) => {
      const test = kind === "postgres" ? await createTestDatabase() : undefined;
      const database = test ?? embedded;
      try {
        const { response, output } = await failKeyCreation(database);
        expect(response.statusCode).toBe(500);
        expect(response.body).not.toMatch(/lrs_|scrypt|never/);
        // The failure is in the log, with what an operator needs: the statement and the constraint.
        expect(output).toContain("refuse_new_keys");
        expect(output).toContain('insert into \\"api_credentials\\"');
        expect(output).not.toMatch(/lrs_[\w-]{6,}/);
        expect(output).not.toContain("scrypt$");
        expect(output).not.toMatch(/params/i);
        expect(output).not.toContain("Failing row");
        expect(output).not.toContain('"never"');
        expect(output).not.toContain(",never,");
      } finally {
        await test?.drop();
        if (!test)
          await embedded.db.execute(sql`alter table api_credentials drop constraint refuse_new_keys`);
      }
    },
  );

  it("keeps its code, constraint and SQL, and drops every value (pg and PGlite)", async () => {
    const test = await createTestDatabase();
    try {
      for (const database of [test, embedded]) {
        const secretHash = `scrypt$16384$8$1$${randomUUID()}`;
        await database.db.insert(apiCredentials).values({ name: "a", key: "dup-key-4411", secretHash });
        const duplicate = await database.db
          .insert(apiCredentials)
          .values({ name: "b", key: "dup-key-4411", secretHash })
          .catch(
            (error: unknown) => error as Error & { params?: unknown; cause?: Error & { detail?: unknown } },
          );
        expect(duplicate).toBeInstanceOf(Error);
        const error = duplicate as Error & {
          params?: unknown;
          query?: string;
          cause?: Error & { detail?: unknown };
        };
        expect(driverError(error)).toMatchObject({ code: "23505", constraint: "api_credentials_key_key" });
        expect(error.query).toContain('insert into "api_credentials"');
        expect(error.params).toEqual([]);
        expect(error.cause?.detail).toBeUndefined();
        const everything = `${error.message}\n${error.stack}\n${error.cause?.message}\n${error.cause?.stack}\n${JSON.stringify(error)}`;
        expect(everything).not.toContain("dup-key-4411");
        expect(everything).not.toContain(secretHash);

        // A value the database refuses is not repeated in the message either.
        const badUuid = await database.db
          .select()
          .from(users)
          .where(sql`${users.id} = ${"not-a-uuid-9931"}::uuid`)
          .catch((caught: unknown) => caught as Error & { cause?: Error });
        expect(badUuid).toBeInstanceOf(Error);
        const bad = badUuid as Error & { cause?: Error };
        expect(`${bad.message}${bad.stack}${bad.cause?.message}${bad.cause?.stack}`).not.toContain(
          "not-a-uuid-9931",
        );
        expect(bad.cause?.message).toMatch(/invalid input syntax for type uuid/);
      }
    } finally {
      await test.drop();
    }
  });
});
