/**
 * A lesson on another origin resumes a learner through the State resource, in a real browser
 * (Debian's Chromium through playwright-core), with `@xapi/xapi` as content uses it, against the
 * real `cohort-lrs all` on the embedded database: it saves suspend data, reloads and resumes,
 * merges a JSON state, deletes it, and sees the LRS's real 404 (not a CORS "Network Error").
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.ts";
import { type Server, startServer } from "./helpers/cli.ts";

const KEY = "lesson-content";
const SECRET = "lesson-content-secret-0123";
const XAPI_UMD = fileURLToPath(new URL("../node_modules/@xapi/xapi/dist/XAPI.umd.js", import.meta.url));

let lrs: Server;
let lesson: HttpServer;
let lessonOrigin: string;
let browser: Browser;
let page: Page;

/** The lesson: a page and the library, served from an origin of its own. */
function serveLesson(): Promise<string> {
  lesson = createServer((request, response) => {
    if (request.url === "/xapi.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(XAPI_UMD));
      return;
    }
    response
      .writeHead(200, { "content-type": "text/html" })
      .end('<!doctype html><title>Day 1</title><script src="/xapi.js"></script><h1>Day 1</h1>');
  });
  return new Promise((resolve) =>
    lesson.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(lesson.address() as AddressInfo).port}`),
    ),
  );
}

beforeAll(async () => {
  lessonOrigin = await serveLesson();
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
  await new Promise((resolve) => lesson?.close(resolve));
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
