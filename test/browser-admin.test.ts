/**
 * The admin area as an operator sees it, in Chromium (playwright-core, Debian's /usr/bin/chromium),
 * over plain HTTP at a non-loopback address of this machine: every page at 1280 px and at 390 px
 * (no horizontal overflow, the navigation one row on a phone, the chart's labels at a readable
 * size, nothing missing such as a favicon, no script the CSP blocks), the lessons page's forms
 * (bad input refused next to its field and nothing stored), the DB terminal's first click and
 * wide results, and the keys page's endpoint and revoke confirmation. Screenshots go to
 * test-artifacts/ (CI keeps them).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchBrowser, startAtLanAddress } from "./helpers/browser.ts";
import type { Server } from "./helpers/cli.ts";
import { basic, statement } from "./helpers/xapi.ts";

const PASSWORD = "admin-walk-password-0123";
const KEY = "walk-content";
const SECRET = "walk-content-secret-0123";
const COHORT = "2026-spring";
const ACTIVITY = "https://lessons.example.com/courses/introduction-to-programming/2026-spring/day";
const PAGES = [
  "/ui",
  "/ui/lessons",
  "/ui/db-terminal",
  "/ui/test-etl-streaming",
  "/ui/test-etl-incremental",
  "/ui/test-reminders",
  "/ui/admin/keys",
  "/ui/progress",
];

/** What `evaluateAll` runs in: the page's window (this project compiles without the DOM's types). */
interface GlobalWithStyle {
  getComputedStyle(node: unknown): { fontSize: string };
}

let server: Server;
let browser: Browser;
let base: string;
const admin = { authorization: basic("admin", PASSWORD), "content-type": "application/json" };
const content = {
  authorization: basic(KEY, SECRET),
  "x-experience-api-version": "1.0.3",
  "content-type": "application/json",
};

async function lessonCount(): Promise<number> {
  const response = await fetch(`${base}/api/lessons?cohortId=${COHORT}`, { headers: admin });
  return ((await response.json()) as { total: number }).total;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `admin-${name}.png`), fullPage: true });
}

/** Whether the page is wider than the window (something would be hidden past its right edge). */
const overflows = (page: Page) =>
  page.evaluate<boolean>("document.documentElement.scrollWidth > window.innerWidth");

async function logIn(page: Page): Promise<void> {
  await page.goto(`${base}/ui/login`);
  await page.fill("#password", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/ui`);
}

beforeAll(async () => {
  ({ server, base } = await startAtLanAddress(["all"], {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-admin-walk-")),
    ADMIN_PASSWORD: PASSWORD,
    PUBLIC_PEM: KEY,
    SECRET_PEM: SECRET,
  }));
  const today = new Date().toISOString().slice(0, 10);
  for (const [day, title] of [
    [1, "Day 1: Variables, values and the names we give them"],
    [2, "Day 2: Loops"],
  ] as const) {
    const response = await fetch(`${base}/api/lessons`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        cohortId: COHORT,
        activityId: `${ACTIVITY}-${day}`,
        title,
        url: `${ACTIVITY}-${day}/index.html`,
        lessonDate: today,
      }),
    });
    expect(response.status).toBe(201);
  }
  for (const avatar of ["ada", "grace", "alan"]) {
    await fetch(`${base}/api/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: avatar, email: `${avatar}@example.com`, avatar, cohortId: COHORT }),
    });
  }
  const stored = await fetch(`${base}/xapi/statements`, {
    method: "POST",
    headers: content,
    body: JSON.stringify(
      ["ada", "grace"].map((avatar) =>
        statement({
          actor: { mbox: `mailto:${avatar}@example.com` },
          object: { id: `${ACTIVITY}-1` },
          result: { completion: true, score: { scaled: 0.9 } },
        }),
      ),
    ),
  });
  expect(stored.status).toBe(200);
  // The in-process sweep flattens them; the chart counts flat rows.
  for (let i = 0; i < 100; i++) {
    const report = await fetch(`${base}/api/reports/cohorts/${COHORT}/completions`, { headers: admin });
    if (((await report.json()) as { total: number }).total === 2) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("every admin page, at 1280 px and at 390 px", () => {
  it.each([
    [1280, 900],
    [390, 844],
  ])(
    "fits a %d px wide screen, with nothing missing and no blocked script",
    async (width, height) => {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      await logIn(page);
      const failed: string[] = [];
      const blocked: string[] = [];
      page.on("response", (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      page.on("console", (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) blocked.push(message.text());
      });
      for (const url of PAGES) {
        const response = await page.goto(`${base}${url}`);
        expect(response?.status(), url).toBe(200);
        expect(await overflows(page), `${url} is wider than ${width} px`).toBe(false);
        await shot(page, `${url.replace(/^\/ui\/?/, "").replace(/\//g, "-") || "dashboard"}-${width}`);
      }
      // The favicon is fetched apart from the pages; ask for it as the browser does.
      const icon = await page.goto(`${base}/favicon.ico`);
      expect(icon?.status()).toBe(200);
      expect(icon?.headers()["content-type"]).toMatch(/^image\/svg\+xml/);
      expect(failed).toEqual([]);
      expect(blocked).toEqual([]);

      // The completion chart: its labels at the page's size, whatever the width (11 px drawn at ~6 px before).
      await page.goto(`${base}/ui`);
      const chart = page.locator(".bars[aria-label='completion rate per lesson']");
      await expect(chart.textContent()).resolves.toMatch(/67% \(2\/3\)[\s\S]*0% \(0\/3\)/);
      const fontSizes = await page
        .locator(".bar-label, .bar-value")
        .evaluateAll((nodes) =>
          nodes.map((node) =>
            Number.parseFloat((globalThis as unknown as GlobalWithStyle).getComputedStyle(node).fontSize),
          ),
        );
      expect(fontSizes.length).toBeGreaterThanOrEqual(4);
      for (const size of fontSizes) expect(size).toBeGreaterThanOrEqual(12);
      await context.close();
    },
    120_000,
  );

  it("folds the navigation into one row on a phone, with a menu that opens without script", async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: false,
    });
    const page = await context.newPage();
    await logIn(page);
    const header = await page.locator("header").boundingBox();
    expect(header!.height).toBeLessThanOrEqual(56);
    await expect(page.locator("header > nav").isVisible()).resolves.toBe(false);
    await page.click("header summary");
    const menu = page.locator("header details nav");
    await expect(menu.isVisible()).resolves.toBe(true);
    const labels = (await menu.locator("a").allTextContents()).map((text) => text.trim());
    expect(labels).toEqual(
      expect.arrayContaining(["Dashboard", "Lessons", "DB terminal", "xAPI keys", "API docs"]),
    );
    await expect(menu.locator("button:has-text('Log out')").first().isVisible()).resolves.toBe(true);
    await shot(page, "menu-open-390");
    await menu.locator("a:has-text('Lessons')").click();
    await page.waitForURL(`${base}/ui/lessons`);
    await expect(page.locator("header summary").textContent()).resolves.toContain("Lessons");

    // At 1280 px the links are shown as they are and the menu is not.
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect(page.locator("header details").isVisible()).resolves.toBe(false);
    await expect(page.locator("header > nav").isVisible()).resolves.toBe(true);
    const wide = await page.locator("header").boundingBox();
    expect(wide!.height).toBeLessThanOrEqual(90); // two rows at most, once more links join
    await context.close();
  }, 60_000);
});

describe("the lessons page in Chromium", () => {
  it("adds, edits and deletes a lesson on a phone; bad input is refused next to its field and stores nothing", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await logIn(page);
    await page.goto(`${base}/ui/lessons?cohortId=${COHORT}`);
    await expect(page.locator("table.lessons").textContent()).resolves.toMatch(/67%\s*\(2\/3\)/);

    await page.fill("#new-cohortId", COHORT);
    await page.fill("#new-lessonDate", "2026-03-04");
    await page.fill("#new-title", "Day 3: Functions");
    await page.fill("#new-activityId", "day 3");
    await page.fill("#new-url", "javascript:alert(1)");
    await page.click("button:has-text('Add lesson')");
    const activityError = page.locator("#new-activityId-error");
    await expect(activityError.textContent()).resolves.toMatch(/^must be an absolute IRI/);
    await expect(page.locator("#new-url-error").textContent()).resolves.toMatch(/^must be an http\(s\) URL/);
    // Next to its field: right below the input it names.
    const input = (await page.locator("#new-activityId").boundingBox())!;
    const message = (await activityError.boundingBox())!;
    expect(message.y).toBeGreaterThanOrEqual(input.y + input.height - 1);
    expect(message.y - (input.y + input.height)).toBeLessThan(24);
    await expect(page.inputValue("#new-title")).resolves.toBe("Day 3: Functions");
    expect(await overflows(page)).toBe(false);
    await shot(page, "lessons-refused-390");
    expect(await lessonCount()).toBe(2);

    await page.fill("#new-activityId", `${ACTIVITY}-3`);
    await page.fill("#new-url", "");
    await page.click("button:has-text('Add lesson')");
    await expect(page.locator(".notice").first().textContent()).resolves.toBe("Lesson added.");
    expect(await lessonCount()).toBe(3);

    const row = page.locator("tr", { hasText: "Day 3: Functions" });
    await row.locator("a:has-text('Edit')").click();
    await page.fill("#edit-title", "Day 3: Functions and scope");
    await page.click("button:has-text('Save')");
    await expect(page.locator(".notice").first().textContent()).resolves.toBe("Lesson saved.");
    await expect(page.locator("table.lessons").textContent()).resolves.toContain(
      "Day 3: Functions and scope",
    );

    await page
      .locator("tr", { hasText: "Day 3: Functions and scope" })
      .locator("a:has-text('Delete')")
      .click();
    await page.click("button:has-text('Delete lesson')"); // the box is not ticked: the browser keeps the form
    expect(page.url()).toMatch(/\/delete$/);
    expect(await lessonCount()).toBe(3);
    await page.check("#confirm");
    await shot(page, "lessons-delete-390");
    await page.click("button:has-text('Delete lesson')");
    await expect(page.locator(".notice").first().textContent()).resolves.toBe("Lesson deleted.");
    expect(await lessonCount()).toBe(2);

    // A lesson its learners completed is not deleted: the page says why, and offers no button.
    await page.locator("tr", { hasText: "Day 1" }).locator("a:has-text('Delete')").click();
    await expect(page.locator(".notice.bad").textContent()).resolves.toContain(
      "This lesson cannot be deleted",
    );
    await expect(page.locator("button:has-text('Delete lesson')").count()).resolves.toBe(0);
    await context.close();
  }, 120_000);
});

describe("the DB terminal and the keys page in Chromium", () => {
  it("runs Notifications by status on its first click, and shows a learner's rows whole at 1280 px", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await logIn(page);
    await page.goto(`${base}/ui/db-terminal`);
    await page.selectOption("#name", "notifications-by-status");
    await page.click("button:has-text('Choose')");
    await page.click("button:has-text('Run')");
    await expect(page.locator("main").textContent()).resolves.toMatch(/\d+ row\(s\) in \d+ ms/);
    await expect(page.locator(".notice.bad").count()).resolves.toBe(0);

    await page.selectOption("#name", "learner-flat-rows");
    await page.click("button:has-text('Choose')");
    await page.click("button:has-text('Run')");
    await page.waitForSelector(".records");
    for (const label of ["Completion?", "Voided?", "Learner id"]) {
      const box = (await page.locator("dt", { hasText: label }).first().boundingBox())!;
      expect(box.x + box.width, label).toBeLessThanOrEqual(1280);
    }
    expect(await overflows(page)).toBe(false);
    await shot(page, "db-terminal-learner-rows-1280");
    await context.close();
  }, 60_000);

  it("names the endpoint content can reach and asks before revoking the bootstrap key", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await logIn(page);
    await page.goto(`${base}/ui/admin/keys`);
    await expect(page.locator("main").textContent()).resolves.toContain(`${base}/xapi/`);
    const row = page.locator("tr", { hasText: KEY });
    await expect(row.textContent()).resolves.toContain("bootstrap (PUBLIC_PEM/SECRET_PEM)");
    await row.locator("a:has-text('Revoke')").click();
    await expect(page.locator(".notice.bad").textContent()).resolves.toContain("This is the bootstrap key");
    await page.click("button:has-text('Revoke key')"); // not ticked: nothing is sent
    expect(page.url()).toContain("/ui/admin/keys/revoke?id=");
    await shot(page, "keys-revoke-confirm-390");
    const still = await fetch(`${base}/xapi/statements`, {
      method: "POST",
      headers: content,
      body: JSON.stringify(statement()),
    });
    expect(still.status).toBe(200);
    await context.close();
  }, 60_000);
});
