/**
 * The statement calls of the three xAPI client libraries content is built with, in Node against
 * the real app listening on a port (PostgreSQL): `@xapi/xapi`, `tincanjs` (Rustici's TinCanJS, its
 * Node build) and `adl-xapiwrapper` (ADL's wrapper for Node). Each one sends statements, queries
 * with a filter, follows `more` to the end, voids one, and reads it back by `voidedStatementId`
 * (xAPI Communication §2.1.3, Data §2.3.2). The same scenario runs for each library. The two
 * that send attachments (`@xapi/xapi`, `tincanjs`) also send one in a multipart/mixed request and
 * read it back with `attachments=true` (Data §2.4.11, Communication §2.1.3); `adl-xapiwrapper`
 * has no attachment calls.
 */
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import xapiModule from "@xapi/xapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { buildApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { createCredential, type TestCredential } from "./helpers/xapi.ts";

const require = createRequire(import.meta.url);
// TypeScript reads the package's types as a CommonJS module whose `default` is the class;
// what the import gives at run time (its ES module build) is the class itself.
const XAPI = xapiModule as unknown as typeof xapiModule.default;

const ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted";
const VOIDED = "http://adlnet.gov/expapi/verbs/voided";
const ADA = { objectType: "Agent" as const, name: "Ada", mbox: "mailto:ada@example.com" };

interface Page {
  statements: { id: string }[];
  more: string;
}

/** What each library is asked to do, in its own calls. */
interface StatementClient {
  send(statements: object[]): Promise<string[]>;
  query(filter: { verb: string; activity: string; limit: number }): Promise<Page>;
  more(link: string): Promise<Page>;
  voidStatement(id: string): Promise<void>;
  getVoided(id: string): Promise<{ id: string }>;
}

let database: TestDatabase;
let app: App;
let endpoint: string;
let credential: TestCredential;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database, { PUBLIC_BASE_URL: "https://lrs.example.com" });
  await app.listen({ port: 0, host: "127.0.0.1" });
  endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/xapi/`;
  credential = await createCredential(database.db, { name: "client libraries" });
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

/** Node-style callbacks to promises, failing on an error or an HTTP status outside 2xx. */
function settle<T>(run: (done: (error: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    run((error, value) =>
      error ? reject(new Error(`client error: ${String(error)}`)) : resolve(value as T),
    ),
  );
}

function xapiClient(): StatementClient {
  const xapi = new XAPI({
    endpoint,
    auth: XAPI.toBasicAuth(credential.key, credential.secret),
    version: "1.0.3",
  });
  return {
    send: async (statements) => (await xapi.sendStatements({ statements: statements as never })).data,
    query: async (filter) => (await xapi.getStatements(filter)).data as Page,
    more: async (link) => (await xapi.getMoreStatements({ more: link })).data as Page,
    voidStatement: async (id) => {
      await xapi.voidStatement({ actor: ADA, statementId: id });
    },
    getVoided: async (id) =>
      (await xapi.getVoidedStatement({ voidedStatementId: id })).data as { id: string },
  };
}

/* TinCanJS (no types of its own): the calls used here. */
interface TinCanLrs {
  saveStatements(
    statements: unknown[],
    cfg: { callback: (error: unknown, xhr: { responseText: string }) => void },
  ): void;
  saveStatement(statement: unknown, cfg: { callback: (error: unknown) => void }): void;
  queryStatements(cfg: { params: object; callback: (error: unknown, result: Page) => void }): void;
  moreStatements(cfg: { url: string; callback: (error: unknown, result: Page) => void }): void;
  retrieveVoidedStatement(
    id: string,
    cfg: { callback: (error: unknown, statement: { id: string }) => void },
  ): void;
}
type TinCanClass = new (cfg: object) => unknown;
interface TinCanModule {
  LRS: new (cfg: object) => TinCanLrs;
  Statement: TinCanClass;
  Verb: TinCanClass;
  Activity: TinCanClass;
  StatementRef: TinCanClass;
  Agent: TinCanClass;
}

/** A TinCanJS LRS on this endpoint and credential. */
function tincanLrs(TinCan: TinCanModule): TinCanLrs {
  // TinCanJS 0.50 knows xAPI up to 1.0.2, which this LRS serves by the 1.0.3 rules.
  return new TinCan.LRS({
    endpoint,
    username: credential.key,
    password: credential.secret,
    version: "1.0.2",
    allowFail: false,
  });
}

function tincanClient(): StatementClient {
  const TinCan = require("tincanjs") as TinCanModule;
  const lrs = tincanLrs(TinCan);
  return {
    send: (statements) =>
      settle<{ responseText: string }>((done) =>
        lrs.saveStatements(
          statements.map((s) => new TinCan.Statement(s)),
          { callback: done },
        ),
      ).then((xhr) => JSON.parse(xhr.responseText) as string[]),
    query: ({ verb, activity, limit }) =>
      settle<Page>((done) =>
        lrs.queryStatements({
          params: {
            verb: new TinCan.Verb({ id: verb }),
            activity: new TinCan.Activity({ id: activity }),
            limit,
          },
          callback: done,
        }),
      ),
    more: (url) => settle<Page>((done) => lrs.moreStatements({ url, callback: done })),
    voidStatement: (id) =>
      settle<void>((done) =>
        lrs.saveStatement(
          new TinCan.Statement({
            actor: new TinCan.Agent(ADA),
            verb: new TinCan.Verb({ id: VOIDED, display: { "en-US": "voided" } }),
            target: new TinCan.StatementRef({ id }),
          }),
          { callback: done },
        ),
      ),
    getVoided: (id) => settle<{ id: string }>((done) => lrs.retrieveVoidedStatement(id, { callback: done })),
  };
}

/* adl-xapiwrapper (no types of its own): callbacks `(error, response, body)`. */
type WrapperCallback = (error: unknown, response: { statusCode: number }, body: string) => void;
interface AdlWrapper {
  testConfig(callback: (ok: boolean) => void): void;
  sendStatements(statements: unknown, callback: WrapperCallback): void;
  getStatements(search: object | null, more: string | null, callback: WrapperCallback): void;
}

function adlWrapper(): AdlWrapper {
  const adl = require("adl-xapiwrapper") as { XAPIWrapper: new (cfg: object) => AdlWrapper };
  return new adl.XAPIWrapper({ url: endpoint, auth: { user: credential.key, pass: credential.secret } });
}

function adlClient(): StatementClient {
  const lrs = adlWrapper();
  const call = (run: (callback: WrapperCallback) => void) =>
    new Promise<unknown>((resolve, reject) =>
      run((error, response, body) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else if (response.statusCode >= 300) reject(new Error(`HTTP ${response.statusCode}: ${body}`));
        else resolve(body ? JSON.parse(body) : undefined);
      }),
    );
  return {
    send: (statements) => call((done) => lrs.sendStatements(statements, done)) as Promise<string[]>,
    query: (filter) => call((done) => lrs.getStatements(filter, null, done)) as Promise<Page>,
    more: (link) => call((done) => lrs.getStatements(null, link, done)) as Promise<Page>,
    voidStatement: async (id) => {
      await call((done) =>
        lrs.sendStatements(
          {
            actor: ADA,
            verb: { id: VOIDED, display: { "en-US": "voided" } },
            object: { objectType: "StatementRef", id },
          },
          done,
        ),
      );
    },
    getVoided: (id) =>
      call((done) => lrs.getStatements({ voidedStatementId: id }, null, done)) as Promise<{ id: string }>,
  };
}

const LIBRARIES: [string, () => StatementClient][] = [
  ["@xapi/xapi", xapiClient],
  ["tincanjs", tincanClient],
  ["adl-xapiwrapper", adlClient],
];

describe.each(LIBRARIES)("the statement calls of %s", (_name, makeClient) => {
  it("§2.1.3 sends, queries with a filter, follows more, voids, and reads the voided one", async () => {
    const client = makeClient();
    // An activity of this run alone, so the filter sees only these statements.
    const activity = `https://lessons.example.com/${randomUUID()}`;
    const attempt = () => ({
      actor: ADA,
      verb: { id: ATTEMPTED, display: { "en-US": "attempted" } },
      object: { id: activity },
    });
    const other = { ...attempt(), verb: { id: "http://adlnet.gov/expapi/verbs/completed" } };
    const ids = await client.send([attempt(), attempt(), other, attempt()]);
    expect(ids).toHaveLength(4);
    const attempts = [ids[0], ids[1], ids[3]];

    // Two a page, then the rest through `more`: every attempt once, the other verb never.
    const first = await client.query({ verb: ATTEMPTED, activity, limit: 2 });
    expect(first.statements).toHaveLength(2);
    expect(first.more).toMatch(/^\/xapi\/statements\?more=/);
    const second = await client.more(first.more);
    expect(second.statements).toHaveLength(1);
    expect(second.more ?? "").toBe("");
    expect([...first.statements, ...second.statements].map((s) => s.id).sort()).toEqual([...attempts].sort());

    await client.voidStatement(attempts[1]!);
    const afterVoid = await client.query({ verb: ATTEMPTED, activity, limit: 10 });
    expect(afterVoid.statements.map((s) => s.id)).not.toContain(attempts[1]);
    expect(afterVoid.statements.map((s) => s.id)).toEqual(expect.arrayContaining([attempts[0], attempts[2]]));
    expect((await client.getVoided(attempts[1]!)).id).toBe(attempts[1]);
  });
});

describe("adl-xapiwrapper", () => {
  it("testConfig() is true: /about names a 1.0 version and a statement query answers 200", async () => {
    const ok = await new Promise<boolean>((resolve) => adlWrapper().testConfig(resolve));
    expect(ok).toBe(true);
  });
});

/** A text attachment as the statement declares it (Data §2.4.11). */
function certificate(text: string) {
  return {
    usageType: "http://id.tincanapi.com/attachment/certificate-of-completion",
    display: { "en-US": "certificate" },
    contentType: "text/plain",
    length: Buffer.byteLength(text),
    sha2: createHash("sha256").update(text).digest("hex"),
  };
}

describe("attachments through the client libraries (Data §2.4.11, Communication §2.1.3)", () => {
  it("@xapi/xapi sends a statement with an attachment part and reads it back with attachments=true", async () => {
    // Its default adapter (axios) sends a Blob body as application/octet-stream in Node, whatever
    // Content-Type the library sets; its fetch adapter sends the multipart/mixed it builds.
    const xapi = new XAPI({
      endpoint,
      auth: XAPI.toBasicAuth(credential.key, credential.secret),
      version: "1.0.3",
      adapter: "fetch",
    });
    const text = `certificate for Ada, ${randomUUID()}`;
    const id = randomUUID();
    const statement = {
      id,
      actor: ADA,
      verb: { id: "http://adlnet.gov/expapi/verbs/completed", display: { "en-US": "completed" } },
      object: { id: "https://lessons.example.com/course" },
      attachments: [certificate(text)],
    };
    const bytes = new TextEncoder().encode(text);
    await xapi.sendStatement({ statement: statement as never, attachments: [bytes.buffer as ArrayBuffer] });
    const read = (await xapi.getStatement({ statementId: id, attachments: true })).data as unknown as [
      { id: string; attachments: { sha2: string }[] },
      string,
    ];
    expect(read[0].id).toBe(id);
    expect(read[0].attachments[0]!.sha2).toBe(certificate(text).sha2);
    expect(read[1]).toBe(text);
  });

  it("tincanjs sends a statement with attachment content and reads the content back", async () => {
    const TinCan = require("tincanjs") as TinCanModule & {
      Attachment: new (cfg: object) => { setContentFromString(content: string): void };
    };
    const lrs = tincanLrs(TinCan) as TinCanLrs & {
      retrieveStatement(
        id: string,
        cfg: {
          params: { attachments: boolean };
          callback: (error: unknown, statement: { attachments: { content: unknown }[] }) => void;
        },
      ): void;
    };
    const text = `certificate for Ada, ${randomUUID()}`;
    const attachment = new TinCan.Attachment({
      usageType: "http://id.tincanapi.com/attachment/certificate-of-completion",
      display: { "en-US": "certificate" },
      contentType: "text/plain",
    });
    // From a string: TinCanJS encodes it, and computes `length` and `sha2` from the bytes.
    attachment.setContentFromString(text);
    const id = randomUUID();
    await settle<void>((done) =>
      lrs.saveStatement(
        new TinCan.Statement({
          id,
          actor: new TinCan.Agent(ADA),
          verb: new TinCan.Verb({ id: "http://adlnet.gov/expapi/verbs/completed" }),
          target: new TinCan.Activity({ id: "https://lessons.example.com/course" }),
          attachments: [attachment],
        }),
        { callback: done },
      ),
    );
    const read = await settle<{ attachments: { content: unknown }[] }>((done) =>
      lrs.retrieveStatement(id, { params: { attachments: true }, callback: done }),
    );
    const content = read.attachments[0]!.content;
    const asText =
      typeof content === "string" ? content : Buffer.from(content as ArrayBuffer).toString("utf8");
    expect(asText).toBe(text);
  });
});
