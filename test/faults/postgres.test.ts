/**
 * PostgreSQL stopped during ingestion (a private server the test owns): requests fail fast with
 * 503 and a clear error, nothing is acknowledged that is not stored, and after PostgreSQL is back
 * the api recovers on its own, without a restart.
 */
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openPostgres, queryRows } from "../../src/db/client.ts";
import { runCli, type Server, startServer } from "../helpers/cli.ts";
import { basic } from "../helpers/xapi.ts";
import { dataDir, knownStatement, type PrivatePostgres, privatePostgres } from "./harness.ts";

const KEY = "faults-content";
const SECRET = "faults-content-secret-0123";
const headers = {
  authorization: basic(KEY, SECRET),
  "x-experience-api-version": "1.0.3",
  "content-type": "application/json",
};

let postgres: PrivatePostgres | undefined;
let api: Server | undefined;
afterAll(async () => {
  await api?.stop();
  await postgres?.stop().catch(() => {});
});

async function post(
  url: string,
): Promise<{ status: number | string; ids: string[]; ms: number; body: string }> {
  const statements = Array.from({ length: 10 }, () => knownStatement());
  const started = Date.now();
  try {
    const response = await fetch(`${url}/xapi/statements`, {
      method: "POST",
      headers,
      body: JSON.stringify(statements),
      signal: AbortSignal.timeout(30_000),
    });
    return {
      status: response.status,
      ids: statements.map((s) => s.id as string),
      ms: Date.now() - started,
      body: await response.text(),
    };
  } catch (error) {
    return {
      status: (error as Error).name,
      ids: statements.map((s) => s.id as string),
      ms: Date.now() - started,
      body: "",
    };
  }
}

describe("PostgreSQL stopped during ingestion", () => {
  it("fails fast with 503, acknowledges nothing it did not store, and recovers by itself", async () => {
    postgres = await privatePostgres();
    const env = {
      DATABASE_URL: postgres.url,
      DATA_DIR: dataDir(),
      PORT: "0",
      LOG_LEVEL: "warn",
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
      APP_SECRET: "faults-app-secret-0123456789-abcdefghijklmn",
    };
    expect((await runCli(["migrate"], env)).code).toBe(0);
    api = await startServer(["api"], env);

    const before = await Promise.all(Array.from({ length: 5 }, () => post(api!.url)));
    expect(before.every((r) => r.status === 200)).toBe(true);

    await postgres.stop();
    const during = await Promise.all(Array.from({ length: 8 }, () => post(api!.url)));
    for (const result of during) {
      expect(result.status).toBe(503);
      expect(JSON.parse(result.body)).toMatchObject({ error: "database_unavailable" });
      expect(result.ms).toBeLessThan(10_000); // bounded: the pool's 5 s connection timeout, never a hang
    }
    const ready = await fetch(`${api.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { database: string } }).checks.database).toMatch(
      /^unreachable/,
    );

    await postgres.start();
    let after = await post(api.url);
    for (let i = 0; i < 40 && after.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await post(api.url);
    }
    expect(after.status).toBe(200);
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);

    const database = openPostgres(postgres.url);
    const stored = new Set(
      (await queryRows<{ id: string }>(database.db, sql`select id::text from statements_raw`)).map(
        (row) => row.id,
      ),
    );
    await database.close();
    for (const result of [...before, after]) for (const id of result.ids) expect(stored.has(id)).toBe(true);
    for (const result of during) for (const id of result.ids) expect(stored.has(id)).toBe(false);
  });
});
