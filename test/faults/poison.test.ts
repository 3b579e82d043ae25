/**
 * One client cannot destroy other clients' statements. Sixteen honest clients post batches of ten
 * statements at once to a real api process on real PostgreSQL, so their requests share group
 * commits; meanwhile two hostile ones post too:
 *
 * - one sends statements with a NUL or an unpaired surrogate somewhere (a name, an extension
 *   value, an extension key), which PostgreSQL cannot store. Before, they passed validation and
 *   failed the whole group commit: every honest request committed with them got 500 and was lost.
 *   Now validation refuses them with 400 and they never reach the database.
 * - one whose credential an operator deleted from `api_credentials` while the api still trusted
 *   its cached verification: its statements pass validation, and the database refuses them (the
 *   foreign key of `statements_raw.credential_id`) inside the group commit. Only its own requests
 *   fail; the group's other requests are committed one transaction each.
 *
 * Every honest statement must be stored, every honest request answered 200, and nothing of the
 * hostile requests stored. The outcome does not depend on how requests happen to be grouped.
 */
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.ts";
import { runCli, startServer } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createCredential, type TestCredential } from "../helpers/xapi.ts";
import { dataDir, knownStatement } from "./harness.ts";

const CLIENTS = 16;
const REQUESTS_PER_CLIENT = 20;
const PER_REQUEST = 10;
const HOSTILE_REQUESTS = 20;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

/** Unstorable text in a different place of each poisoned statement. */
function poisoned(n: number): Record<string, unknown> {
  const base = knownStatement();
  const bad = ["\u0000", "\ud800", "\udc00"][n % 3]!;
  switch (n % 3) {
    case 0:
      return { ...base, actor: { mbox: "mailto:mallory@example.com", name: `Mallory${bad}` } };
    case 1:
      return { ...base, result: { extensions: { "http://example.com/ext/note": { text: `x${bad}` } } } };
    default:
      return { ...base, context: { extensions: { [`http://example.com/ext/${bad}`]: 1 } } };
  }
}

interface Sent {
  status: number;
  error?: string;
  ids: string[];
}

async function post(
  url: string,
  client: TestCredential,
  statements: Record<string, unknown>[],
): Promise<Sent> {
  const response = await fetch(`${url}/xapi/statements`, {
    method: "POST",
    headers: { ...client.headers, "content-type": "application/json" },
    body: JSON.stringify(statements),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { error?: string };
  return { status: response.status, error: body.error, ids: statements.map((s) => s.id as string) };
}

describe("a poison statement among 16 concurrent clients", () => {
  it("fails alone: every other client's statement is stored and answered 200", async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanup.push(() => database.drop());
    const honest = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => createCredential(database.db, { name: `course ${i}` })),
    );
    const mallory = await createCredential(database.db, { name: "mallory" });
    const deleted = await createCredential(database.db, { name: "deleted while cached" });

    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir(),
      PORT: "0",
      LOG_LEVEL: "fatal",
      APP_SECRET: "faults-app-secret-0123456789-abcdefghijklmn",
    };
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const api = await startServer(["api"], env);
    cleanup.push(() => api.stop());

    // The api verifies the credential once and trusts it for 30 s; then an operator deletes it.
    expect((await post(api.url, deleted, [knownStatement()])).status).toBe(200);
    await database.db.execute(sql`delete from api_credentials where id = ${deleted.id}`);
    await database.db.execute(sql`truncate statements_raw cascade`);

    const honestSent: Sent[] = [];
    const mallorySent: Sent[] = [];
    const deletedSent: Sent[] = [];
    await Promise.all([
      ...honest.map(async (client) => {
        for (let r = 0; r < REQUESTS_PER_CLIENT; r++) {
          const statements = Array.from({ length: PER_REQUEST }, () => knownStatement());
          honestSent.push(await post(api.url, client, statements));
        }
      }),
      (async () => {
        for (let r = 0; r < HOSTILE_REQUESTS; r++) {
          const statements = Array.from({ length: PER_REQUEST }, () => knownStatement());
          statements[r % PER_REQUEST] = poisoned(r);
          mallorySent.push(await post(api.url, mallory, statements));
        }
      })(),
      (async () => {
        for (let r = 0; r < HOSTILE_REQUESTS; r++) {
          const statements = Array.from({ length: PER_REQUEST }, () => knownStatement());
          deletedSent.push(await post(api.url, deleted, statements));
        }
      })(),
    ]);

    const stored = new Set(
      (await queryRows<{ id: string }>(database.db, sql`select id::text from statements_raw`)).map(
        (r) => r.id,
      ),
    );
    const honestIds = honestSent.flatMap((sent) => sent.ids);
    const tally = (sent: Sent[]) => {
      const counts: Record<string, number> = {};
      for (const { status, error } of sent)
        counts[`${status} ${error ?? ""}`] = (counts[`${status} ${error ?? ""}`] ?? 0) + 1;
      return counts;
    };
    // The figures the README's reliability section quotes.
    console.log(
      JSON.stringify({
        honestRequests: honestSent.length,
        honestStatuses: tally(honestSent),
        honestStatementsLost: honestIds.filter((id) => !stored.has(id)).length,
        malloryStatuses: tally(mallorySent),
        deletedCredentialStatuses: tally(deletedSent),
        hostileStatementsStored: [...mallorySent, ...deletedSent]
          .flatMap((s) => s.ids)
          .filter((id) => stored.has(id)).length,
      }),
    );

    expect(honestSent).toHaveLength(CLIENTS * REQUESTS_PER_CLIENT);
    expect(honestSent.filter((sent) => sent.status !== 200)).toEqual([]);
    expect(honestIds.filter((id) => !stored.has(id))).toEqual([]);
    expect(stored.size).toBe(CLIENTS * REQUESTS_PER_CLIENT * PER_REQUEST);

    expect(mallorySent.map((sent) => [sent.status, sent.error])).toEqual(
      Array.from({ length: HOSTILE_REQUESTS }, () => [400, "invalid_statement"]),
    );
    expect(deletedSent.map((sent) => [sent.status, sent.error])).toEqual(
      Array.from({ length: HOSTILE_REQUESTS }, () => [500, "internal_error"]),
    );
    expect(api.child.exitCode).toBeNull();
  });
});
