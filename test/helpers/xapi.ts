/** xAPI test helpers: credentials, headers and sample statements. */
import { randomUUID } from "node:crypto";
import { hashSecret } from "../../src/auth/secrets.ts";
import { DEFAULT_COMPLETION_VERBS } from "../../src/config.ts";
import type { Db } from "../../src/db/client.ts";
import { apiCredentials } from "../../src/db/schema.ts";
import { runIncrementalEtl } from "../../src/etl/runIncrementalEtl.ts";
import { prepareStatement } from "../../src/xapi/prepareStatement.ts";
import { storeStatements } from "../../src/xapi/storeStatements.ts";
import type { Statement } from "../../src/xapi/validateStatement.ts";

export interface TestCredential {
  id: string;
  key: string;
  secret: string;
  headers: Record<string, string>;
}

export function basic(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`;
}

/** Inserts an xAPI credential and returns it with request headers (auth + version 1.0.3). */
export async function createCredential(
  db: Db,
  options: { name?: string; revoked?: boolean; version?: string; scopes?: string[] } = {},
): Promise<TestCredential> {
  const key = `test_${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  const [row] = await db
    .insert(apiCredentials)
    .values({
      name: options.name ?? "test content",
      key,
      secretHash: await hashSecret(secret),
      revokedAt: options.revoked ? new Date() : null,
      ...(options.scopes ? { scopes: options.scopes } : {}),
    })
    .returning({ id: apiCredentials.id });
  return {
    id: row!.id,
    key,
    secret,
    headers: { authorization: basic(key, secret), "x-experience-api-version": options.version ?? "1.0.3" },
  };
}

export const LESSON_1 = "https://lessons.example.com/course/day-1";
export const COMPLETED = "http://adlnet.gov/expapi/verbs/completed";

/** A valid statement: `mbox` completed LESSON_1 (override anything). */
export function statement(overrides: Record<string, unknown> = {}): Statement {
  return {
    actor: { objectType: "Agent", name: "Ada", mbox: "mailto:ada@example.com" },
    verb: { id: COMPLETED, display: { "en-US": "completed" } },
    object: { objectType: "Activity", id: LESSON_1, definition: { name: { "en-US": "Day 1" } } },
    result: { completion: true, success: true, score: { scaled: 0.9 }, duration: "PT12M30S" },
    ...overrides,
  } as Statement;
}

/** Stores statements as the LRS would (without a credential), then flattens them; returns their ids. */
export async function recordStatements(
  db: Db,
  statements: Statement[],
  publicBaseUrl: string,
): Promise<string[]> {
  const client = { credentialId: "", key: "k", name: "content", scopes: ["all"] };
  const prepared = statements.map((s) =>
    prepareStatement(s, { client, version: "1.0.3", stored: new Date(), publicBaseUrl }),
  );
  await storeStatements(db, prepared, null);
  await runIncrementalEtl(db, { completionVerbs: new Set(DEFAULT_COMPLETION_VERBS), publicBaseUrl });
  return prepared.map((s) => s.id);
}
