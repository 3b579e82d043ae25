/**
 * xAPI Data §2.6 Signed Statements through the statement resource: a signed statement is
 * stored with its JWS part; a malformed or mismatched signature is a 400 naming the attachment
 * and why, and nothing of the request is stored. On PostgreSQL and on the embedded PGlite.
 */
import { generateKeyPairSync } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  attachmentFor,
  multipartBody,
  multipartType,
  SIGNATURE,
  signedRequest,
} from "../../../test/helpers/xapiAttachments.ts";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";
import { queryRows } from "../../db/client.ts";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const statement = (id: string) => ({
  id,
  actor: { mbox: "mailto:ada@example.com" },
  verb: { id: "http://adlnet.gov/expapi/verbs/attended" },
  object: { id: "https://lessons.example.com/day-1" },
});

describe.each(BACKENDS)("signed statements on %s", (backend) => {
  const x = useXapiBackend(backend);

  const post = (body: Buffer) =>
    x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...x.content.headers, "content-type": multipartType() },
      payload: body,
    });
  const stored = async () => {
    const [row] = await queryRows<{ statements: number; attachments: number }>(
      x.database.db,
      sql`select (select count(*)::int from statements_raw) as statements,
                 (select count(*)::int from xapi_attachments) as attachments`,
    );
    return row!;
  };
  const refused = async (body: Buffer, pattern: RegExp) => {
    const response = await post(body);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toBe("invalid_signature");
    expect(response.json().message).toMatch(pattern);
    expect(await stored()).toEqual({ statements: 0, attachments: 0 });
  };

  it("Data 2.6: stores a statement signed with RS256, RS384 or RS512, with its signature part", async () => {
    for (const [n, alg] of ["RS256", "RS384", "RS512"].entries()) {
      const id = `6690e6c9-3ef0-4ed3-8b37-7f3964730be${n}`;
      const response = await post(signedRequest(statement(id), privateKey, { header: { alg } }));
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual([id]);
    }
    expect(await stored()).toEqual({ statements: 3, attachments: 3 });
  });

  it("Data 2.6: a signature that is not application/octet-stream is 400", async () => {
    await refused(
      signedRequest(statement("6690e6c9-3ef0-4ed3-8b37-7f3964730bee"), privateKey, {
        contentType: "text/plain; charset=ascii",
      }),
      /statement\.attachments\[0\] is a signature, so its contentType must be application\/octet-stream/,
    );
  });

  it("Data 2.6: an algorithm other than RS256, RS384 or RS512 is 400", async () => {
    await refused(
      signedRequest(statement("6690e6c9-3ef0-4ed3-8b37-7f3964730bee"), privateKey, {
        header: { alg: "HS256" },
      }),
      /JWS algorithm "HS256"/,
    );
  });

  it("Data 2.6: a payload that is not JSON, or not the statement, is 400", async () => {
    const id = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee";
    await refused(
      signedRequest(statement(id), privateKey, { signed: JSON.stringify(statement(id)).replace('"', "'") }),
      /payload that is not a JSON serialization/,
    );
    await refused(
      signedRequest(statement(id), privateKey, {
        signed: { ...statement(id), object: { id: "https://lessons.example.com/day-2" } },
      }),
      /payload that differs from the statement/,
    );
  });

  it("Data 2.6: a signature attachment with a fileUrl but no part is 400", async () => {
    const signature = attachmentFor("a jws elsewhere", {
      usageType: SIGNATURE,
      contentType: "application/octet-stream",
      fileUrl: "https://files.example.com/signature.jws",
    });
    await refused(
      multipartBody({ ...statement("6690e6c9-3ef0-4ed3-8b37-7f3964730bee"), attachments: [signature] }),
      /signature without its JWS as a multipart\/mixed part/,
    );
  });
});
