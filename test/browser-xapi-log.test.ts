/**
 * The log of refused xAPI requests in Chromium, as an operator meets it: content misconfigured
 * (a wrong key, no version header, an invalid statement) against the real `cohort-lrs all` on
 * the embedded database, reached over plain HTTP at a non-loopback address; the dashboard counts
 * the refusals and links to the log, whose filters narrow it, at 1280 px and at 390 px.
 * Screenshots go to test-artifacts/.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchBrowser, startAtLanAddress } from "./helpers/browser.ts";
import type { Server } from "./helpers/cli.ts";
import { basic, statement } from "./helpers/xapi.ts";

const PASSWORD = "xapi-log-admin-password";
const KEY = "xapi-log-content";
const SECRET = "xapi-log-content-secret-0123";
let server: Server;
let browser: Browser;
let page: Page;
let base: string;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  ({ server, base } = await startAtLanAddress(["all"], {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-xapi-log-")),
    ADMIN_PASSWORD: PASSWORD,
    PUBLIC_PEM: KEY,
    SECRET_PEM: SECRET,
  }));
  const xapi = (headers: Record<string, string>, body: unknown) =>
    fetch(`${base}/xapi/statements`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const v = { "x-experience-api-version": "1.0.3" };
  // A wrong secret twice, a missing version header, an invalid statement; one that is stored.
  expect((await xapi({ authorization: basic(KEY, "not-the-secret-at-all"), ...v }, statement())).status).toBe(
    401,
  );
  expect(
    (await xapi({ authorization: basic("lrs_typo", "not-the-secret-at-all"), ...v }, statement())).status,
  ).toBe(401);
  expect((await xapi({ authorization: basic(KEY, SECRET) }, statement())).status).toBe(400);
  expect(
    (
      await xapi(
        { authorization: basic(KEY, SECRET), ...v },
        { ...statement(), actor: { mbox: "ada@example.com" } },
      )
    ).status,
  ).toBe(400);
  expect((await xapi({ authorization: basic(KEY, SECRET), ...v }, statement())).status).toBe(200);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the log of refused xAPI requests in Chromium", () => {
  it("is counted on the dashboard, lists each refusal with its reason, and filters", async () => {
    await page.goto(`${base}/ui`);
    await page.fill("#password", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/ui`);
    const card = page.locator("#xapi-refused");
    await expect(card.locator(".value").textContent()).resolves.toBe("4");
    await expect(card.textContent()).resolves.toContain("xAPI requests refused (24 h)");
    await shot("xapi-log-dashboard");

    await card.locator("a.value").click();
    await page.waitForURL(/\/ui\/xapi-log\?from=/);
    await expect(page.locator("h1").textContent()).resolves.toBe("Refused xAPI requests");
    await expect(page.locator(".result-count").textContent()).resolves.toMatch(/^4 refused requests match/);
    const entries = page.locator("li.entry");
    await expect(entries.count()).resolves.toBe(4);
    // Newest first: the invalid statement, its message naming the field.
    const newest = await entries.first().textContent();
    expect(newest).toContain("invalid_statement");
    expect(newest).toContain("statement.actor.mbox must be a mailto: IRI");
    expect(newest).toContain(`${KEY} (bootstrap`);
    expect(newest).toContain("verified");
    await entries.first().locator("summary").click();
    await expect(entries.first().locator("pre").textContent()).resolves.toContain('"mbox":"ada@example.com"');
    const all = (await entries.allTextContents()).join("\n");
    expect(all).toContain("unsupported_version");
    expect(all).toContain("lrs_typo");
    expect(all).toContain("unknown key");
    expect(all).not.toContain("not-the-secret-at-all");
    expect(await page.content()).not.toContain(SECRET);
    await shot("xapi-log");

    // Filter: the 401s of the bootstrap key.
    await page.selectOption("#status", "401");
    await page.fill("#credential", KEY);
    await page.click("button:has-text('Filter')");
    await page.waitForURL(/status=401/);
    await expect(page.locator(".result-count").textContent()).resolves.toMatch(/^1 refused request matches/);
    await expect(entries.first().textContent()).resolves.toContain("not accepted");

    // A bad time: its message next to the field, nothing searched.
    await page.goto(`${base}/ui/xapi-log?from=2026-02-30`);
    await expect(page.locator("#from-error").textContent()).resolves.toContain("real date");
    await expect(page.locator(".notice.bad").textContent()).resolves.toContain("nothing was searched");

    // At 390 px the page fits the screen.
    await page.goto(`${base}/ui/xapi-log`);
    await page.setViewportSize({ width: 390, height: 800 });
    await page.reload();
    await entries.first().locator("summary").click();
    const width = await page.evaluate("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(390);
    await shot("xapi-log-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 120_000);

  it("shows the progress in plain words, each part's tables checked in the embedded database", async () => {
    await page.goto(`${base}/ui/progress`);
    const modules = page.locator("li.module");
    await expect(modules.count()).resolves.toBe(11);
    const names = await modules.locator(".entry-head strong").allTextContents();
    expect(names).toEqual(expect.arrayContaining(["Sign-up", "Statement storage (xAPI LRS)", "Reminders"]));
    const text = await page.locator("main").textContent();
    expect(text).not.toMatch(/\ba\.0\d\b.*agent|agent: /);
    // Every table check passes on the embedded database; none says a table is missing.
    const tableChecks = await page.locator("li.check", { hasText: "Tables:" }).allTextContents();
    expect(tableChecks.length).toBeGreaterThan(5);
    for (const check of tableChecks) expect(check).toMatch(/^✓ Tables: all \d+ tables? in the database$/);
    await shot("progress");
    await page.setViewportSize({ width: 390, height: 800 });
    await page.reload();
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot("progress-phone");
  }, 60_000);
});
