/**
 * xAPI Data §2.4.11 Attachments with Communication §1.5.2 (multipart/mixed) and §2.1
 * (statement POST, PUT, and GET with `attachments=true`): parts are matched to attachments by
 * their X-Experience-API-Hash, stored once per sha2 in the statements' transaction, and served
 * back as multipart/mixed; every mismatch is a 400 that names it, and nothing of a refused
 * request is stored. On PostgreSQL and on the embedded PGlite.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  attachmentFor,
  BOUNDARY,
  multipartBody,
  multipartType,
  sha256,
} from "../../../test/helpers/xapiAttachments.ts";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";
import { queryRows } from "../../db/client.ts";
import { boundaryOf, parseMultipart } from "../../xapi/multipart.ts";

const TEXT = "here is a simple attachment";
const PICTURE = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0x10, 0xff, 0xd9]);
const statement = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  actor: { mbox: "mailto:ada@example.com" },
  verb: { id: "http://adlnet.gov/expapi/verbs/attended" },
  object: { id: "https://lessons.example.com/day-1" },
  ...overrides,
});

describe.each(BACKENDS)("statement attachments on %s", (backend) => {
  const x = useXapiBackend(backend);

  const send = (body: Buffer | object, contentType: string, method: "POST" | "PUT" = "POST", query = "") =>
    x.app.inject({
      method,
      url: `/xapi/statements${query}`,
      headers: { ...x.content.headers, "content-type": contentType },
      payload: Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const postMultipart = (statements: unknown, parts: Parameters<typeof multipartBody>[1]) =>
    send(multipartBody(statements, parts), multipartType());
  const counts = async () => {
    const [row] = await queryRows<{ statements: number; attachments: number }>(
      x.database.db,
      sql`select (select count(*)::int from statements_raw) as statements,
                 (select count(*)::int from xapi_attachments) as attachments`,
    );
    return row!;
  };
  /** Expects a 400 naming `pattern` and nothing stored. */
  const refused = async (response: { statusCode: number; body: string }, code: string, pattern: RegExp) => {
    expect(response.statusCode, response.body).toBe(400);
    const answer = JSON.parse(response.body);
    expect(answer.error).toBe(code);
    expect(answer.message).toMatch(pattern);
    expect(await counts()).toEqual({ statements: 0, attachments: 0 });
  };
  const getMultipart = async (query: string) => {
    const response = await x.app.inject({
      method: "GET",
      url: `/xapi/statements?${query}`,
      headers: x.content.headers,
    });
    expect(response.statusCode, response.body).toBe(200);
    const type = String(response.headers["content-type"]);
    expect(type).toMatch(/^multipart\/mixed; boundary=/);
    return parseMultipart(response.rawPayload, boundaryOf(type), 100);
  };

  it("Communication 1.5.2: POST multipart/mixed stores the statement and its parts, served back by attachments=true", async () => {
    const sent = statement({
      attachments: [
        attachmentFor(TEXT),
        attachmentFor(PICTURE, { contentType: "image/jpeg", usageType: "http://example.com/picture" }),
      ],
    });
    const response = await postMultipart(sent, [
      { body: TEXT },
      {
        body: PICTURE,
        headers: {
          "Content-Type": "image/jpeg",
          "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha256(PICTURE),
        },
      },
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const [id] = response.json() as string[];
    expect(await counts()).toEqual({ statements: 1, attachments: 2 });

    const [first, ...parts] = await getMultipart(`statementId=${id}&attachments=true`);
    expect(first!.headers.get("content-type")).toBe("application/json");
    const stored = JSON.parse(first!.body.toString());
    expect(stored.id).toBe(id);
    expect(stored.attachments).toEqual(sent.attachments);
    expect(parts.map((part) => part.headers.get("x-experience-api-hash"))).toEqual([
      sha256(TEXT),
      sha256(PICTURE),
    ]);
    expect(parts.map((part) => part.headers.get("content-transfer-encoding"))).toEqual(["binary", "binary"]);
    expect(parts[1]!.headers.get("content-type")).toBe("image/jpeg");
    expect(parts[0]!.body.toString()).toBe(TEXT);
    expect(parts[1]!.body).toEqual(PICTURE);
  });

  it("Communication 2.1.3: a query with attachments=true is a StatementResult part, then each sha2 once", async () => {
    const shared = attachmentFor(TEXT);
    const response = await postMultipart(
      [statement({ attachments: [shared] }), statement({ attachments: [shared] })],
      [{ body: TEXT }],
    );
    expect(response.statusCode, response.body).toBe(200);
    await postMultipart(statement({ attachments: [shared] }), [{ body: TEXT }]);
    expect((await counts()).attachments).toBe(1); // stored once per sha2

    const [first, ...parts] = await getMultipart("attachments=true");
    const result = JSON.parse(first!.body.toString());
    expect(result.statements).toHaveLength(3);
    expect(result.more).toBe("");
    expect(parts).toHaveLength(1);
    expect(parts[0]!.body.toString()).toBe(TEXT);
  });

  it("Communication 2.1.3: attachments=false (the default) answers JSON, without the parts", async () => {
    await postMultipart(statement({ attachments: [attachmentFor(TEXT)] }), [{ body: TEXT }]);
    for (const query of ["attachments=false", ""]) {
      const response = await x.app.inject({
        method: "GET",
        url: `/xapi/statements?${query}`,
        headers: x.content.headers,
      });
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(response.json().statements[0].attachments[0].sha2).toBe(sha256(TEXT));
    }
  });

  it("Communication 2.1.3: attachments=true is multipart/mixed even when no statement has attachments", async () => {
    await send(statement(), "application/json");
    const parts = await getMultipart("attachments=true");
    expect(parts).toHaveLength(1);
    expect(JSON.parse(parts[0]!.body.toString()).statements).toHaveLength(1);
  });

  it("Communication 2.1.2: PUT multipart/mixed stores the statement under statementId with its part", async () => {
    const id = randomUUID();
    const response = await send(
      multipartBody(statement({ attachments: [attachmentFor(TEXT)] }), [{ body: TEXT }]),
      multipartType(),
      "PUT",
      `?statementId=${id}`,
    );
    expect(response.statusCode, response.body).toBe(204);
    const [, part] = await getMultipart(`statementId=${id}&attachments=true`);
    expect(part!.body.toString()).toBe(TEXT);
  });

  it("Data 2.4.11: an attachment with a fileUrl needs no part, as JSON or as multipart/mixed", async () => {
    const linked = attachmentFor(TEXT, { fileUrl: "https://files.example.com/notes.txt" });
    expect((await send(statement({ attachments: [linked] }), "application/json")).statusCode).toBe(200);
    expect((await postMultipart(statement({ attachments: [linked] }), [])).statusCode).toBe(200);
    expect(await counts()).toEqual({ statements: 2, attachments: 0 });
  });

  it("Communication 1.5.2: multipart/mixed without attachments is a plain statement request", async () => {
    expect((await postMultipart(statement(), [])).statusCode).toBe(200);
  });

  it("Data 2.4.11: an attachment without fileUrl sent as application/json is 400 naming it", async () => {
    await refused(
      await send(statement({ attachments: [attachmentFor(TEXT)] }), "application/json"),
      "attachment_mismatch",
      /statement\.attachments\[0\] has no fileUrl and no multipart\/mixed part/,
    );
  });

  it("Data 2.4.11: a missing part is 400 naming the attachment", async () => {
    const response = await postMultipart(
      statement({ attachments: [attachmentFor(TEXT), attachmentFor("second")] }),
      [{ body: TEXT }],
    );
    await refused(response, "attachment_mismatch", /statement\.attachments\[1\] has no fileUrl/);
  });

  it("Communication 1.5.2: a part no attachment names is 400", async () => {
    const response = await postMultipart(statement({ attachments: [attachmentFor(TEXT)] }), [
      { body: TEXT },
      { body: "an extra part" },
    ]);
    await refused(response, "attachment_mismatch", /part 3 .* is the content of no attachment/);
  });

  it("Communication 1.5.2: a part whose bytes do not hash to its X-Experience-API-Hash is 400", async () => {
    const response = await postMultipart(statement({ attachments: [attachmentFor(TEXT)] }), [
      {
        body: "not the text",
        headers: {
          "Content-Type": "text/plain",
          "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha256(TEXT),
        },
      },
    ]);
    await refused(
      response,
      "invalid_multipart",
      /part 2 whose X-Experience-API-Hash .* is not the hash of its bytes/,
    );
  });

  it("Communication 1.5.2: a part without X-Experience-API-Hash is 400", async () => {
    const response = await postMultipart(statement({ attachments: [attachmentFor(TEXT)] }), [
      { body: TEXT, headers: { "Content-Type": "text/plain", "Content-Transfer-Encoding": "binary" } },
    ]);
    await refused(response, "invalid_multipart", /part 2 without an X-Experience-API-Hash/);
  });

  it("Communication 1.5.2: a part whose Content-Type is no media type (or holds a NUL) is 400", async () => {
    for (const type of ["not a type", "text/plain; x=\u0000"]) {
      const response = await postMultipart(statement({ attachments: [attachmentFor(TEXT)] }), [
        {
          body: TEXT,
          headers: {
            "Content-Type": type,
            "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": sha256(TEXT),
          },
        },
      ]);
      await refused(response, "invalid_multipart", /part 2 whose Content-Type is not a media type/);
    }
  });

  it("Communication 1.5.2: a part whose Content-Transfer-Encoding is not binary is 400", async () => {
    const encoded = Buffer.from(TEXT).toString("base64");
    const response = await postMultipart(statement({ attachments: [attachmentFor(encoded)] }), [
      {
        body: encoded,
        headers: {
          "Content-Type": "text/plain",
          "Content-Transfer-Encoding": "base64",
          "X-Experience-API-Hash": sha256(encoded),
        },
      },
    ]);
    await refused(response, "invalid_multipart", /Content-Transfer-Encoding is "base64"; it must be binary/);
  });

  it("Communication 1.5.2: a first part that is not application/json is 400", async () => {
    const body = multipartBody(statement({ attachments: [attachmentFor(TEXT)] }), [{ body: TEXT }]);
    const changed = Buffer.from(body.toString("latin1").replace("application/json", "text/plain"), "latin1");
    await refused(
      await send(changed, multipartType()),
      "invalid_multipart",
      /must start with the statements/,
    );
  });

  it("Communication 1.5.2: statements split over two parts are 400 (the second is no attachment)", async () => {
    const body = multipartBody(statement({ attachments: [attachmentFor(TEXT)] }), [
      {
        body: JSON.stringify(statement()),
        headers: { "Content-Type": "application/json" },
      },
      { body: TEXT },
    ]);
    await refused(
      await send(body, multipartType()),
      "invalid_multipart",
      /part 2 without an X-Experience-API-Hash/,
    );
  });

  it("Communication 1.5.2: a Content-Type without boundary, or a body without it, is 400", async () => {
    const body = multipartBody(statement({ attachments: [attachmentFor(TEXT)] }), [{ body: TEXT }]);
    await refused(await send(body, "multipart/mixed;"), "invalid_multipart", /needs a boundary parameter/);
    await refused(
      await send(body, multipartType("another-boundary")),
      "invalid_multipart",
      /boundary .* never occurs/,
    );
    const unclosed = body.subarray(0, body.length - `--${BOUNDARY}--\r\n`.length - 2);
    await refused(await send(unclosed, multipartType()), "invalid_multipart", /closing boundary/);
  });

  it("Communication 1.5.2: a statements part that is not JSON is 400", async () => {
    const body = Buffer.from(
      `--${BOUNDARY}\r\nContent-Type: application/json\r\n\r\n{"actor": \r\n--${BOUNDARY}--\r\n`,
    );
    await refused(await send(body, multipartType()), "invalid_multipart", /first part that is not JSON/);
  });

  it("Communication 1.5.2: too many parts are 400 before any is matched", async () => {
    const parts = Array.from({ length: 201 }, (_, n) => ({ body: `part ${n}` }));
    const body = multipartBody(
      statement({ attachments: parts.map((part) => attachmentFor(part.body)) }),
      parts,
    );
    await refused(await send(body, multipartType()), "invalid_multipart", /more than 200 parts/);
  });

  it("Communication 1.5: multipart/form-data is 400 naming the two content types statements take", async () => {
    const body = multipartBody(statement({ attachments: [attachmentFor(TEXT)] }), [{ body: TEXT }]);
    await refused(
      await send(body, `multipart/form-data; boundary=${BOUNDARY}`),
      "unsupported_content_type",
      /application\/json or multipart\/mixed/,
    );
  });

  it("Data 2.4.11: an invalid statement with valid parts is 400 and stores no part", async () => {
    const response = await postMultipart(
      { ...statement({ attachments: [attachmentFor(TEXT)] }), verb: { id: "not an iri" } },
      [{ body: TEXT }],
    );
    expect(response.statusCode).toBe(400);
    expect(await counts()).toEqual({ statements: 0, attachments: 0 });
  });
});

describe.each(BACKENDS)("statement body limit with attachments on %s", (backend) => {
  const x = useXapiBackend(backend, { BODY_LIMIT: "64kb" });

  it("Communication 1.5.2: a multipart/mixed request over BODY_LIMIT is 413, and stores nothing", async () => {
    const big = "x".repeat(70 * 1024);
    const response = await x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: { ...x.content.headers, "content-type": multipartType() },
      payload: multipartBody(statement({ attachments: [attachmentFor(big)] }), [{ body: big }]),
    });
    expect(response.statusCode, response.body).toBe(413);
    expect(response.json().error).toBe("payload_too_large");
    const [row] = await queryRows<{ n: number }>(
      x.database.db,
      sql`select count(*)::int as n from xapi_attachments`,
    );
    expect(row!.n).toBe(0);
  });
});
