/**
 * The log of refused xAPI requests, below HTTP: what a refused request becomes (no secret, the
 * body's first KiB, hostile bytes made storable), the bounded buffer and its counted losses, and
 * pruning by age and count, on PostgreSQL and on the embedded PGlite.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DATABASE_KINDS, type OpenedDatabase, openTestDatabase } from "../../test/helpers/db.ts";
import { basic } from "../../test/helpers/xapi.ts";
import { insertXapiFailures, listXapiFailures, pruneXapiFailures } from "../data/xapiFailedRequests.ts";
import { queryRows } from "../db/client.ts";
import { metrics } from "../metrics.ts";
import { describeFailure, type RefusedRequest, XapiFailureLog } from "./failureLog.ts";

const SECRET = "s3cret-value-never-stored";

function refused(overrides: Partial<RefusedRequest> = {}): RefusedRequest {
  return {
    at: new Date("2026-03-02T10:00:00Z"),
    method: "POST",
    url: "/xapi/statements",
    status: 400,
    errorCode: "invalid_statement",
    message: "statement[0].actor must be an Agent",
    authorization: basic("lrs_content", SECRET),
    client: undefined,
    xapiVersion: "1.0.3",
    contentType: "application/json",
    contentLength: "18",
    bodyPrefix: Buffer.from('{"actor":"nobody"}'),
    bodyComplete: true,
    clientAddress: "192.0.2.7",
    requestId: "req-1",
    ...overrides,
  };
}

const lost = async (reason: "buffer_full" | "write_failed") =>
  (await metrics.xapiLogLost.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe("describeFailure", () => {
  it("keeps time, route, status, code, message and the key presented, never the secret", () => {
    const row = describeFailure(
      refused({ url: `/xapi/statements?agent=x&auth_token=${SECRET}`, message: `bad ${SECRET} here` }),
    );
    expect(row).toMatchObject({
      at: new Date("2026-03-02T10:00:00Z"),
      method: "POST",
      path: "/xapi/statements",
      query: "agent=x&auth_token=[secret]",
      status: 400,
      errorCode: "invalid_statement",
      message: "bad [secret] here",
      credentialKey: "lrs_content",
      credentialStatus: "unverified",
      credentialId: null,
      xapiVersion: "1.0.3",
      body: '{"actor":"nobody"}',
      bodyBytes: 18,
      clientAddress: "192.0.2.7",
      requestId: "req-1",
    });
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain(basic("lrs_content", SECRET).slice(6));
  });

  it("marks a verified credential with its id, and a request without one as none", () => {
    const verified = describeFailure(
      refused({ client: { key: "lrs_content", credentialId: "0b6c2d9e-6f4e-4d8a-9a51-6c2f1f0e9a11" } }),
    );
    expect(verified).toMatchObject({
      credentialKey: "lrs_content",
      credentialStatus: "verified",
      credentialId: "0b6c2d9e-6f4e-4d8a-9a51-6c2f1f0e9a11",
    });
    expect(describeFailure(refused({ authorization: undefined }))).toMatchObject({
      credentialKey: null,
      credentialStatus: "none",
    });
    const bearer = describeFailure(refused({ authorization: `Bearer ${SECRET}`, message: SECRET }));
    expect(bearer).toMatchObject({ credentialKey: null, credentialStatus: "none", message: "[secret]" });
  });

  it("keeps the first 1,024 bytes of a long body, never half a character, with the whole length", () => {
    const text = `${"a".repeat(1023)}é${"b".repeat(5000)}`;
    const bytes = Buffer.from(text);
    const row = describeFailure(
      refused({
        bodyPrefix: bytes.subarray(0, 3000),
        bodyComplete: false,
        contentLength: String(bytes.length),
      }),
    );
    expect(row.body).toBe("a".repeat(1023));
    expect(row.bodyBytes).toBe(bytes.length);
  });

  it("masks a secret cut by the truncation, and the cmi5 fetch token in the path", () => {
    const body = Buffer.from(`${"x".repeat(1014)}${SECRET}`);
    const row = describeFailure(refused({ bodyPrefix: body, bodyComplete: true }));
    expect(row.body).toBe(`${"x".repeat(1014)}[secret]`);
    // Text that is whole keeps what merely begins like the secret (a key that prefixes it).
    const key = SECRET.slice(0, 10);
    expect(
      describeFailure(refused({ authorization: basic(key, SECRET), bodyPrefix: Buffer.from(key) })),
    ).toMatchObject({
      credentialKey: key,
      body: key,
    });
    expect(describeFailure(refused({ url: "/xapi/cmi5/fetch/abcdef0123456789" })).path).toBe(
      "/xapi/cmi5/fetch/…",
    );
  });

  it("makes hostile bytes storable: NUL as ␀, invalid UTF-8 and lone surrogates as U+FFFD", () => {
    const row = describeFailure(
      refused({
        bodyPrefix: Buffer.from([0x7b, 0x00, 0xff, 0xed, 0xa0, 0x80, 0x7d]),
        message: "bad \ud800 and \u0000",
        authorization: basic("key\u0000x", "whatever-secret"),
        url: "/xapi/statements?x=\u0000",
      }),
    );
    expect(row.body).toBe("{\u2400\ufffd\ufffd\ufffd\ufffd}");
    expect(row.message).toBe("bad \ufffd and \u2400");
    expect(row.credentialKey).toBe("key\u2400x");
    expect(row.query).toBe("x=\u2400");
  });

  it("says the body was not read when it was refused before (null), with the length declared", () => {
    const row = describeFailure(
      refused({ bodyPrefix: undefined, bodyComplete: false, contentLength: "9999999" }),
    );
    expect(row.body).toBeNull();
    expect(row.bodyBytes).toBe(9_999_999);
  });
});

describe("the bounded buffer", () => {
  const silent = { warn: () => {} };

  it("drops and counts entries beyond its size while a write is slow, and writes the rest", async () => {
    let release!: () => void;
    const written: number[] = [];
    const log = new XapiFailureLog({} as never, {
      maxAgeMs: 86_400_000,
      maxRows: 1_000,
      log: silent,
      bufferSize: 5,
      batchSize: 2,
      flushDelayMs: 1,
      pruneEveryMs: Number.POSITIVE_INFINITY,
      write: async (_db, rows) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        written.push(rows.length);
      },
    });
    const before = await lost("buffer_full");
    for (let i = 0; i < 5; i++) log.record(refused());
    const flushing = log.flush(); // takes a batch of 2 and waits in the write
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 10; i++) log.record(refused()); // room for 2 more, 8 dropped
    expect(log.pending).toBe(5);
    expect(await lost("buffer_full")).toBe(before + 8);
    const total = () => written.reduce((a, b) => a + b, 0);
    while (total() < 7) {
      release?.();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await flushing;
    expect(total()).toBe(7);
    expect(log.pending).toBe(0);
  });

  it("counts and logs a write the database refuses, and never throws to the caller", async () => {
    const warnings: unknown[] = [];
    const log = new XapiFailureLog({} as never, {
      maxAgeMs: 86_400_000,
      maxRows: 1_000,
      log: { warn: (...args: unknown[]) => warnings.push(args) },
      write: async () => {
        throw new Error("relation does not exist");
      },
    });
    const before = await lost("write_failed");
    for (let i = 0; i < 3; i++) expect(() => log.record(refused())).not.toThrow();
    await expect(log.flush()).resolves.toBeUndefined();
    expect(await lost("write_failed")).toBe(before + 3);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).toContain("cohort_lrs_xapi_log_lost_total");
  });
});

describe.each(DATABASE_KINDS)("on %s", (kind) => {
  let database: OpenedDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
  }, 60_000);
  afterAll(() => database?.drop());
  beforeEach(() => database.db.execute(sql`truncate xapi_failed_requests restart identity`));

  it("writes refused requests, hostile bytes included, and reads them back newest first", async () => {
    // Kept for a century: the rows are dated March 2026.
    const log = new XapiFailureLog(database.db, {
      maxAgeMs: 3_153_600_000_000,
      maxRows: 1_000,
      log: console,
    });
    log.record(refused({ at: new Date("2026-03-02T10:00:00Z") }));
    log.record(
      refused({
        at: new Date("2026-03-02T10:00:01Z"),
        status: 401,
        errorCode: "unauthorized",
        bodyPrefix: Buffer.from([0x00, 0xd8, 0x00, 0xff]),
        message: "lone \udc00",
      }),
    );
    await log.close();
    const { total, items } = await listXapiFailures(database.db, {}, { limit: 10, offset: 0 });
    expect(total).toBe(2);
    expect(items.map((row) => row.status)).toEqual([401, 400]);
    expect(items[0]).toMatchObject({ body: "\u2400\ufffd\u2400\ufffd", message: "lone \ufffd" });
    const text = JSON.stringify(await queryRows(database.db, sql`select * from xapi_failed_requests`));
    expect(text).not.toContain(SECRET);
  });

  it("prunes by age and by count, keeping the newest", async () => {
    const now = new Date("2026-03-10T00:00:00Z");
    const rows = Array.from({ length: 30 }, (_, i) =>
      describeFailure(refused({ at: new Date(now.getTime() - (30 - i) * 3_600_000), requestId: `r${i}` })),
    );
    await insertXapiFailures(database.db, rows);
    // 30 rows an hour apart: the first 6 are 30 to 25 hours old.
    const result = await pruneXapiFailures(database.db, { maxAgeMs: 24 * 3_600_000, maxRows: 10, now });
    expect(result).toEqual({ byAge: 6, byCount: 14 });
    const kept = await listXapiFailures(database.db, {}, { limit: 100, offset: 0 });
    expect(kept.items.map((row) => row.requestId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `r${29 - i}`),
    );
  });

  it("prunes after writing once a tenth of the rows it keeps were added", async () => {
    const log = new XapiFailureLog(database.db, {
      maxAgeMs: 86_400_000 * 365 * 100,
      maxRows: 100,
      log: console,
      pruneEveryMs: Number.POSITIVE_INFINITY,
    });
    await log.prune(); // as after a start: the clock starts now
    for (let i = 0; i < 130; i++)
      log.record(refused({ requestId: `n${i}`, at: new Date(Date.UTC(2026, 2, 2, 0, 0, i)) }));
    await log.flush();
    const [count] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from xapi_failed_requests`,
    );
    expect(count!.n).toBe(100);
    const newest = await listXapiFailures(database.db, {}, { limit: 1, offset: 0 });
    expect(newest.items[0]!.requestId).toBe("n129");
  });
});
