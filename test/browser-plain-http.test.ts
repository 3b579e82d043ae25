/**
 * The admin area and the API docs over plain HTTP at a non-loopback address of this machine, as a
 * LAN, a staging box or the container's HOST=0.0.0.0 reaches them: the login form posts over
 * http (no upgrade to https), the session works, and /docs renders. In Chromium, where only
 * localhost counts as a secure context, so this is what an operator on another machine sees.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchBrowser, startAtLanAddress } from "./helpers/browser.ts";
import type { Server } from "./helpers/cli.ts";

const PASSWORD = "plain-http-admin-password";

let server: Server;
let port: number;
let browser: Browser;
let base: string;

beforeAll(async () => {
  ({ server, port, base } = await startAtLanAddress(["api"], {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-plain-http-")),
    ADMIN_PASSWORD: PASSWORD,
  }));
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the admin area over plain HTTP at a LAN address", () => {
  it("logs in without being sent to https, and the session holds", async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await page.goto(`${base}/ui`);
    expect(page.url()).toBe(`${base}/ui/login?next=%2Fui`);
    await page.fill("#password", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/ui`);
    await expect(page.locator("h1").textContent()).resolves.toBe("Dashboard");
    expect(requested.filter((url) => url.startsWith("https:"))).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, "plain-http-dashboard.png") });
    await page.close();
  });

  it("renders the API docs (Swagger UI): no script blocked, nothing sent to https", async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    const violations: string[] = [];
    page.on("console", (message) => {
      // What left /docs blank: a blocked script, or assets upgraded to an https port nobody serves.
      // (Swagger UI's bundle also sets one inline style its own policy refuses; that is cosmetic.)
      if (/script-src|ERR_SSL|upgrade|Mixed Content/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${base}/docs`);
    await page.waitForSelector(".swagger-ui .information-container", { timeout: 30_000 });
    await expect(page.locator(".swagger-ui .title").first().textContent()).resolves.toContain("cohort-lrs");
    expect(violations).toEqual([]);
    expect(requested.filter((url) => url.startsWith("https:"))).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, "plain-http-docs.png") });
    await page.close();
  });

  it("defaults PUBLIC_BASE_URL to the port it listens on, and the start banner says so", () => {
    expect(server.output()).toMatch(
      new RegExp(`public URL\\s+http://localhost:${port} \\(from HOST and PORT`),
    );
  });
});
