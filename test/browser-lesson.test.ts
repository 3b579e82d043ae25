/**
 * A lesson on another origin resumes a learner through the State resource, in a real browser
 * (Debian's Chromium through playwright-core), with `@xapi/xapi` and with TinCanJS as content
 * uses them, against the real `cohort-lrs all` on the embedded database: it saves suspend data,
 * reloads and resumes, merges a JSON state, deletes it, and sees the LRS's real 404 (not a CORS
 * "Network Error"). TinCanJS makes CORS requests in Chromium, and switches to the xAPI 1.0.3
 * alternate request syntax (`POST ?method=`, a form) when a URL would reach 2,048 characters.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContentOrigin, launchBrowser, serveContent } from "./helpers/browser.ts";
import { type Server, startServer } from "./helpers/cli.ts";

const KEY = "lesson-content";
const SECRET = "lesson-content-secret-0123";
const XAPI_UMD = fileURLToPath(new URL("../node_modules/@xapi/xapi/dist/XAPI.umd.js", import.meta.url));
const TINCAN = fileURLToPath(new URL("../node_modules/tincanjs/build/tincan-min.js", import.meta.url));

let lrs: Server;
let lesson: ContentOrigin;
let lessonOrigin: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  lesson = await serveContent(
    '<!doctype html><title>Day 1</title><script src="/xapi.js"></script><script src="/tincan.js"></script><h1>Day 1</h1>',
    { "/xapi.js": XAPI_UMD, "/tincan.js": TINCAN },
  );
  lessonOrigin = lesson.origin;
  lrs = await startServer(["all"], {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-lesson-")),
    PORT: "0",
    ADMIN_PASSWORD: "browser-lesson-admin-password",
    PUBLIC_PEM: KEY,
    SECRET_PEM: SECRET,
    CORS_ORIGINS: lessonOrigin,
  });
  browser = await launchBrowser();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await lrs?.stop();
  await lesson?.close();
});

/** The part of `@xapi/xapi` the lesson uses (its UMD build sets `window.XAPI`). */
interface XAPI {
  setState(params: object): Promise<unknown>;
  createState(params: object): Promise<unknown>;
  getState(params: object): Promise<{ data: unknown }>;
  getStates(params: object): Promise<{ data: string[] }>;
  deleteState(params: object): Promise<unknown>;
  deleteStates(params: object): Promise<unknown>;
}
interface XapiClass {
  new (config: { endpoint: string; auth: string; adapter: "fetch" }): XAPI;
  toBasicAuth(key: string, secret: string): string;
}

/** What the lesson page holds once `startLesson` ran: an `XAPI` client for the LRS, and the State's context. */
interface LessonWindow {
  lesson: {
    xapi: XAPI;
    params: { activityId: string; agent: { objectType: "Agent"; name: string; mbox: string } };
  };
}

/** Opens (or reloads) the lesson and gives it its xAPI client, as content does from its launch data. */
async function startLesson(reload = false): Promise<void> {
  if (reload) await page.reload();
  else await page.goto(`${lessonOrigin}/`);
  await page.evaluate(
    ({ endpoint, key, secret }) => {
      const XAPIClass = (globalThis as unknown as { XAPI: XapiClass }).XAPI;
      (globalThis as unknown as LessonWindow).lesson = {
        xapi: new XAPIClass({ endpoint, auth: XAPIClass.toBasicAuth(key, secret), adapter: "fetch" }),
        params: {
          activityId: "https://lessons.example.com/day-1",
          agent: { objectType: "Agent", name: "Ada", mbox: "mailto:ada@example.com" },
        },
      };
    },
    { endpoint: `${lrs.url}/xapi/`, key: KEY, secret: SECRET },
  );
}

describe("a lesson on another origin, with @xapi/xapi in Chromium", () => {
  it("saves suspend data, reloads, resumes, merges, deletes, and sees real errors", async () => {
    await startLesson();
    expect(new URL(page.url()).origin).not.toBe(new URL(lrs.url).origin);

    await page.evaluate(async () => {
      const { xapi, params } = (globalThis as unknown as LessonWindow).lesson;
      await xapi.setState({
        ...params,
        stateId: "suspend_data",
        state: "2g1a0b~slide-7",
        contentType: "text/plain",
      });
    });
    await startLesson(true);
    const resumed = await page.evaluate(async () => {
      const { xapi, params } = (globalThis as unknown as LessonWindow).lesson;
      return (await xapi.getState({ ...params, stateId: "suspend_data" })).data;
    });
    expect(resumed).toBe("2g1a0b~slide-7");

    const merged = await page.evaluate(async () => {
      const { xapi, params } = (globalThis as unknown as LessonWindow).lesson;
      await xapi.setState({ ...params, stateId: "progress", state: { bookmark: "slide-3", score: 1 } });
      await xapi.createState({ ...params, stateId: "progress", state: { bookmark: "slide-4" } });
      return (await xapi.getState({ ...params, stateId: "progress" })).data;
    });
    expect(merged).toEqual({ bookmark: "slide-4", score: 1 });

    const ids = await page.evaluate(async () => {
      const { xapi, params } = (globalThis as unknown as LessonWindow).lesson;
      return (await xapi.getStates(params)).data;
    });
    expect([...ids].sort()).toEqual(["progress", "suspend_data"]);

    // The fetch adapter throws the response body: the LRS's own 404, readable through CORS.
    const afterDelete = await page.evaluate(async () => {
      const { xapi, params } = (globalThis as unknown as LessonWindow).lesson;
      await xapi.deleteState({ ...params, stateId: "progress" });
      try {
        await xapi.getState({ ...params, stateId: "progress" });
        return "found";
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    });
    expect(JSON.parse(afterDelete)).toMatchObject({ error: "not_found" });

    const remaining = await page.evaluate(async () => {
      const { xapi, params } = (globalThis as unknown as LessonWindow).lesson;
      await xapi.deleteStates(params);
      return (await xapi.getStates(params)).data;
    });
    expect(remaining).toEqual([]);
  });
});

/* TinCanJS (no types of its own): the State calls a lesson makes; callbacks are `(error, result)`. */
interface TinCanState {
  contents: unknown;
  contentType: string;
}
interface TinCanLrs {
  saveState(key: string, value: unknown, cfg: object): void;
  retrieveState(key: string, cfg: object): void;
  retrieveStateIds(cfg: object): void;
  dropState(key: string | null, cfg: object): void;
}
interface TinCanWindow {
  TinCan: {
    LRS: new (cfg: object) => TinCanLrs;
    Agent: new (cfg: object) => object;
    Activity: new (cfg: object) => object;
  };
  tincanLesson: {
    lrs: TinCanLrs;
    /** The State's context: the learner and the lesson's activity. */
    context: { agent: object; activity: object };
    /** One TinCanJS call as a promise: `call("saveState", "id", value, { contentType })`. */
    call<T>(method: keyof TinCanLrs, ...args: unknown[]): Promise<T>;
  };
}

/** Opens (or reloads) the lesson with a TinCanJS client, as content does from its launch data. */
async function startTinCanLesson(learnerName: string, reload = false): Promise<void> {
  if (reload) await page.reload();
  else await page.goto(`${lessonOrigin}/`);
  await page.evaluate(
    ({ endpoint, key, secret, name }) => {
      const w = globalThis as unknown as TinCanWindow;
      const { TinCan } = w;
      // TinCanJS 0.50 speaks xAPI up to 1.0.2 (served here by the 1.0.3 rules); naming the version
      // spares it a synchronous request to /about.
      const lrs = new TinCan.LRS({
        endpoint,
        username: key,
        password: secret,
        version: "1.0.2",
        allowFail: false,
      });
      const context = {
        agent: new TinCan.Agent({ name, mbox: "mailto:ada@example.com" }),
        activity: new TinCan.Activity({ id: "https://lessons.example.com/day-1" }),
      };
      w.tincanLesson = {
        lrs,
        context,
        call: (method, ...args) =>
          new Promise((resolve, reject) => {
            const cfg = { ...context, ...(args.pop() as object) };
            (lrs[method] as (...a: unknown[]) => void).call(lrs, ...args, {
              ...cfg,
              callback: (error: unknown, result: unknown) =>
                error ? reject(new Error(`TinCanJS ${method}: ${String(error)}`)) : resolve(result as never),
            });
          }),
      };
    },
    { endpoint: `${lrs.url}/xapi/`, key: KEY, secret: SECRET, name: learnerName },
  );
}

describe("a lesson on another origin, with TinCanJS in Chromium", () => {
  it("saves suspend data, reloads, resumes, merges, deletes, over CORS", async () => {
    const alternate: string[] = [];
    const record = (request: Request) => {
      if (request.url().includes("?method=")) alternate.push(request.url());
    };
    page.on("request", record);
    await startTinCanLesson("Ada");
    expect(new URL(page.url()).origin).not.toBe(new URL(lrs.url).origin);

    await page.evaluate(() =>
      (globalThis as unknown as TinCanWindow).tincanLesson.call(
        "saveState",
        "suspend_data",
        "2g1a0b~slide-7",
        {
          contentType: "text/plain",
        },
      ),
    );
    await startTinCanLesson("Ada", true);
    const resumed = await page.evaluate(
      async () =>
        (
          await (globalThis as unknown as TinCanWindow).tincanLesson.call<TinCanState>(
            "retrieveState",
            "suspend_data",
            {},
          )
        ).contents,
    );
    expect(resumed).toBe("2g1a0b~slide-7");

    const merged = await page.evaluate(async () => {
      const { call } = (globalThis as unknown as TinCanWindow).tincanLesson;
      const json = { contentType: "application/json" };
      await call("saveState", "progress", { bookmark: "slide-3", score: 1 }, json);
      await call("saveState", "progress", { bookmark: "slide-4" }, { ...json, method: "POST" });
      return (await call<TinCanState>("retrieveState", "progress", {})).contents;
    });
    expect(merged).toEqual({ bookmark: "slide-4", score: 1 });

    const ids = await page.evaluate(() =>
      (globalThis as unknown as TinCanWindow).tincanLesson.call<string[]>("retrieveStateIds", {}),
    );
    expect([...ids].sort()).toEqual(["progress", "suspend_data"]);

    // A deleted state reads as null: TinCanJS asks with ignore404, so the 404 reached it through CORS.
    const afterDelete = await page.evaluate(async () => {
      const { call } = (globalThis as unknown as TinCanWindow).tincanLesson;
      await call("dropState", "progress", {});
      return call<TinCanState | null>("retrieveState", "progress", {});
    });
    expect(afterDelete).toBeNull();

    const remaining = await page.evaluate(async () => {
      const { call } = (globalThis as unknown as TinCanWindow).tincanLesson;
      await call("dropState", null, {});
      return call<string[]>("retrieveStateIds", {});
    });
    expect(remaining).toEqual([]);
    page.off("request", record);
    // Short URLs: plain CORS requests, never the alternate syntax.
    expect(alternate).toEqual([]);
  });

  it("Communication §1.3: a URL that would be 2,048 characters long goes as the alternate syntax, and works", async () => {
    const alternate: { url: string; method: string; contentType: string | undefined }[] = [];
    const record = (request: Request) => {
      if (request.url().includes("?method=")) {
        alternate.push({
          url: request.url(),
          method: request.method(),
          contentType: request.headers()["content-type"],
        });
      }
    };
    page.on("request", record);
    // The agent (with its name) is a parameter of every State URL: this one makes them too long.
    await startTinCanLesson(`Ada ${"Lovelace ".repeat(260)}`.trim());
    const [resumed, ids] = await page.evaluate(async () => {
      const { call } = (globalThis as unknown as TinCanWindow).tincanLesson;
      await call("saveState", "suspend_data", "slide-9", { contentType: "text/plain" });
      await call("saveState", "progress", { score: 1 }, { contentType: "application/json" });
      await call(
        "saveState",
        "progress",
        { bookmark: "slide-9" },
        { contentType: "application/json", method: "POST" },
      );
      const state = await call<TinCanState>("retrieveState", "progress", {});
      const stateIds = await call<string[]>("retrieveStateIds", {});
      await call("dropState", null, {});
      return [state.contents, stateIds] as const;
    });
    page.off("request", record);
    expect(resumed).toEqual({ score: 1, bookmark: "slide-9" });
    expect([...ids].sort()).toEqual(["progress", "suspend_data"]);
    expect(alternate.map((r) => `${r.method} ${new URL(r.url).pathname}${new URL(r.url).search}`)).toEqual([
      "POST /xapi/activities/state?method=PUT",
      "POST /xapi/activities/state?method=PUT",
      "POST /xapi/activities/state?method=POST",
      "POST /xapi/activities/state?method=GET",
      "POST /xapi/activities/state?method=GET",
      "POST /xapi/activities/state?method=DELETE",
    ]);
    expect(alternate.every((r) => r.contentType === "application/x-www-form-urlencoded")).toBe(true);
  });
});
