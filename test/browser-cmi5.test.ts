/**
 * cmi5, AU launch: a cmi5 course launched through cohort-lrs initialises in Chromium. The real
 * `cohort-lrs all` (embedded database) creates the launch (`POST /api/cmi5/launches`); the AU is a
 * page on another origin using `@xapi/cmi5` as courses do: `Cmi5.instance.initialize()` POSTs the
 * fetch URL for its credential, reads `LMS.LaunchData` and sends `initialized`, then the AU sends
 * `completed` and `passed`. The statements and the State are then read back as an LMS would.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContentOrigin, launchBrowser, serveContent } from "./helpers/browser.ts";
import { freePort, type Server, startServer } from "./helpers/cli.ts";
import { basic } from "./helpers/xapi.ts";

const KEY = "lms-reader";
const SECRET = "lms-reader-secret-0123456789";
const ADMIN_PASSWORD = "browser-cmi5-admin-password";
const AU = "https://courses.example.com/loops/au-1";
const CMI5_UMD = fileURLToPath(new URL("../node_modules/@xapi/cmi5/dist/Cmi5.umd.js", import.meta.url));

let lrs: Server;
let au: ContentOrigin;
let auOrigin: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  au = await serveContent(
    '<!doctype html><title>Loops</title><script src="/cmi5.js"></script><h1>Loops</h1>',
    {
      "/cmi5.js": CMI5_UMD,
    },
  );
  auOrigin = au.origin;
  const port = await freePort();
  lrs = await startServer(["all"], {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-cmi5-")),
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ADMIN_PASSWORD,
    PUBLIC_PEM: KEY,
    SECRET_PEM: SECRET,
    CORS_ORIGINS: auOrigin,
  });
  browser = await launchBrowser();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await lrs?.stop();
  await au?.close();
});

const admin = { authorization: `Bearer ${ADMIN_PASSWORD}`, "content-type": "application/json" };
const lms = { authorization: basic(KEY, SECRET), "x-experience-api-version": "2.0.0" };

async function xapiGet(pathAndQuery: string): Promise<Response> {
  return fetch(`${lrs.url}/xapi/${pathAndQuery}`, { headers: lms });
}

/** The part of `@xapi/cmi5` the AU uses (its UMD build sets `window.Cmi5`). */
interface Cmi5 {
  initialize(): Promise<unknown>;
  complete(): Promise<unknown>;
  pass(score?: number): Promise<unknown>;
  getLaunchData(): { launchMode: string; moveOn: string; returnURL?: string };
  getAuthToken(): string;
}

describe("cmi5 AU launch, with @xapi/cmi5 in Chromium from another origin", () => {
  it("initialises, sends completed and passed, and the LMS reads them back with the State", async () => {
    const signup = await fetch(`${lrs.url}/api/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada Lovelace", email: "ada@example.com", avatar: "ada", cohortId: "c1" }),
    });
    expect(signup.status).toBe(201);
    const created = await fetch(`${lrs.url}/api/cmi5/launches`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        learner: "ada",
        activityId: AU,
        auUrl: `${auOrigin}/index.html?lang=en`,
        returnUrl: `${auOrigin}/done`,
      }),
    });
    expect(created.status).toBe(201);
    const launch = (await created.json()) as { url: string; registration: string; actor: unknown };
    const launchUrl = new URL(launch.url);
    expect(launchUrl.origin).toBe(auOrigin);
    expect(launchUrl.searchParams.get("lang")).toBe("en");
    expect(JSON.parse(launchUrl.searchParams.get("actor")!)).toEqual({
      objectType: "Agent",
      name: "Ada Lovelace",
      account: { homePage: lrs.url, name: "ada" },
    });

    await page.goto(launch.url);
    const au = await page.evaluate(async () => {
      const cmi5 = (globalThis as unknown as { Cmi5: { instance: Cmi5 } }).Cmi5.instance;
      await cmi5.initialize();
      const launchData = cmi5.getLaunchData();
      await cmi5.complete();
      await cmi5.pass(0.9);
      return { launchData, authToken: cmi5.getAuthToken() };
    });
    expect(au.launchData).toMatchObject({
      launchMode: "Normal",
      moveOn: "CompletedOrPassed",
      returnURL: `${auOrigin}/done`,
    });

    // The fetch URL worked once; a second POST is the cmi5 error "already in use".
    const again = await fetch(launchUrl.searchParams.get("fetch")!, { method: "POST" });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ "error-code": "1", error: "fetch_already_used" });

    // The AU's credential is a Basic credential of its own; the LMS reads what it sent.
    const registration = encodeURIComponent(launch.registration);
    const statements = (await (await xapiGet(`statements?registration=${registration}&limit=10`)).json()) as {
      statements: { verb: { id: string }; object: { id: string }; actor: unknown; authority: unknown }[];
    };
    const verbs = statements.statements.map((statement) => statement.verb.id.split("/").pop()).reverse();
    expect(verbs).toEqual(["launched", "initialized", "completed", "passed"]);
    for (const statement of statements.statements) {
      expect(statement.object.id).toBe(AU);
      expect(statement.actor).toMatchObject({ account: { homePage: lrs.url, name: "ada" } });
    }
    const auKey = Buffer.from(au.authToken, "base64").toString().split(":")[0];
    expect(statements.statements[0]!.authority).toMatchObject({ account: { name: auKey } });

    const state = await xapiGet(
      `activities/state?${new URLSearchParams({
        activityId: AU,
        agent: JSON.stringify(launch.actor),
        registration: launch.registration,
        stateId: "LMS.LaunchData",
      })}`,
    );
    expect(state.status).toBe(200);
    const launchData = (await state.json()) as { contextTemplate: { extensions: Record<string, string> } };
    expect(Object.keys(launchData.contextTemplate.extensions)).toEqual([
      "https://w3id.org/xapi/cmi5/context/extensions/sessionid",
    ]);
  });
});
