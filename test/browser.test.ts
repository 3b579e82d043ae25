/**
 * The admin area in a real browser (Debian's Chromium through playwright-core), against the real
 * `cohort-lrs all` on the embedded database: log in, open every page, use each page's action,
 * download a cohort report, log out. Screenshots go to test-artifacts/ (not committed).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchBrowser } from "./helpers/browser.ts";
import { type Server, startServer } from "./helpers/cli.ts";
import { basic, statement } from "./helpers/xapi.ts";

const PASSWORD = "browser-test-admin-password";
const KEY = "browser-content";
const SECRET = "browser-content-secret-0123";
let server: Server;
let browser: Browser;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  server = await startServer(["all"], {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-browser-")),
    PORT: "0",
    ADMIN_PASSWORD: PASSWORD,
    PUBLIC_PEM: KEY,
    SECRET_PEM: SECRET,
  });
  const admin = { authorization: basic("admin", PASSWORD), "content-type": "application/json" };
  const today = new Date().toISOString().slice(0, 10);
  for (const [title, activity] of [
    ["Day 1: Variables", "https://lessons.example.com/day-1"],
    ["Day 2: Loops", "https://lessons.example.com/day-2"],
  ] as const) {
    await fetch(`${server.url}/api/lessons`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        cohortId: "spring",
        activityId: activity,
        title,
        url: `${activity}/`,
        lessonDate: today,
      }),
    });
  }
  for (const avatar of ["ada", "grace", "alan"]) {
    await fetch(`${server.url}/api/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: avatar, email: `${avatar}@example.com`, avatar, cohortId: "spring" }),
    });
  }
  await fetch(`${server.url}/xapi/statements`, {
    method: "POST",
    headers: {
      authorization: basic(KEY, SECRET),
      "x-experience-api-version": "1.0.3",
      "content-type": "application/json",
    },
    body: JSON.stringify([
      statement({
        actor: { mbox: "mailto:ada@example.com" },
        object: { id: "https://lessons.example.com/day-1" },
      }),
      statement({
        actor: { mbox: "mailto:grace@example.com" },
        object: { id: "https://lessons.example.com/day-1" },
      }),
      statement({
        actor: { mbox: "mailto:ada@example.com" },
        object: { id: "https://lessons.example.com/day-2" },
      }),
    ]),
  });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the admin area in Chromium", () => {
  it("logs in, shows the dashboard chart, and uses every page's action", async () => {
    await page.goto(`${server.url}/ui`);
    expect(page.url()).toContain("/ui/login?next=%2Fui");
    await page.fill("#password", "wrong-password");
    await page.click("button[type=submit]");
    await expect(page.locator(".notice.bad").textContent()).resolves.toContain("Wrong password");
    await page.fill("#password", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(`${server.url}/ui`);

    // Dashboard: counts and the completion chart (Day 1: 2 of 3 learners, Day 2: 1 of 3).
    await expect(page.locator("h1").textContent()).resolves.toBe("Dashboard");
    const chart = page.locator(".bars[aria-label='completion rate per lesson']");
    await expect(chart.count()).resolves.toBe(1);
    await expect(chart.textContent()).resolves.toMatch(/67% \(2\/3\)[\s\S]*33% \(1\/3\)/);
    await shot("dashboard");

    // DB terminal: run a prebuilt query and see the table.
    await page.click("text=DB terminal");
    await page.selectOption("#name", "recent-statements");
    await page.click("button:has-text('Choose')");
    await page.click("button:has-text('Run')");
    await expect(page.locator("table tbody tr").count()).resolves.toBe(3);
    await expect(page.locator("text=Download CSV").count()).resolves.toBe(1);
    await shot("db-terminal");

    // Streaming ETL page: a test statement through the real pipeline, every step ✓.
    await page.click("text=Streaming ETL");
    await page.click("button:has-text('Send a test statement')");
    await page.waitForSelector("ol.steps");
    const steps = await page.locator("ol.steps li").allTextContents();
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps.every((step) => step.trim().startsWith("✓"))).toBe(true);
    expect(steps.at(-1)).toContain("in statements_flat");
    await shot("test-etl-streaming");

    // Incremental ETL: run a sweep.
    await page.click("text=Incremental ETL");
    await page.click("button:has-text('Run a sweep now')");
    await expect(page.locator(".notice").textContent()).resolves.toMatch(/Sweep done in \d+ ms/);
    await shot("test-etl-incremental");

    // Reminders: preview at 18:00 UTC today (alan and grace have not done Day 2 …).
    await page.click("text=Reminders");
    await page.fill("#at", `${new Date().toISOString().slice(0, 10)}T18:00:00Z`);
    await page.click("button:has-text('Preview')");
    await expect(page.locator("main").textContent()).resolves.toMatch(/\d+ reminder\(s\) would be sent/);
    await page.fill("#to", "operator@example.com");
    await page.click("button:has-text('Send')");
    await expect(page.locator(".notice").first().textContent()).resolves.toContain(
      "Sent to operator@example.com",
    );
    await shot("test-reminders");

    // Keys: create one (the secret shown once), use it, revoke it.
    await page.click("text=xAPI keys");
    await page.fill("#name", "Browser test course");
    await page.selectOption("#scope", "statements/write");
    await page.click("button:has-text('Create')");
    const created = await page.locator(".notice pre").textContent();
    const key = /key: +(\S+)/.exec(created ?? "")![1]!;
    const secret = /secret: +(\S+)/.exec(created ?? "")![1]!;
    const send = () =>
      fetch(`${server.url}/xapi/statements`, {
        method: "POST",
        headers: {
          authorization: basic(key, secret),
          "x-experience-api-version": "1.0.3",
          "content-type": "application/json",
        },
        body: JSON.stringify(statement()),
      });
    expect((await send()).status).toBe(200);
    await shot("keys-created");
    await page.locator("tr", { hasText: key }).locator("a:has-text('Revoke')").click();
    await page.check("#confirm");
    await page.click("button:has-text('Revoke key')");
    await expect(page.locator(".notice").first().textContent()).resolves.toContain(`Revoked ${key}`);
    expect((await send()).status).toBe(401);
    await shot("keys-revoked");

    // The cohort report as CSV, from the dashboard.
    await page.click("text=Dashboard");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("text=Download the cohort's completions (CSV)"),
    ]);
    const csv = readFileSync((await download.path())!, "utf8");
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/email/);
    expect(lines.length).toBe(4); // header + ada×2 + grace
    expect(csv).toContain("ada@example.com");

    // The phone-sized dashboard still fits.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.reload();
    const width = await page.evaluate("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(400);
    await shot("dashboard-phone");
    await page.setViewportSize({ width: 1200, height: 900 });

    // Log out: the admin area is closed again.
    await page.click("button:has-text('Log out')");
    await page.waitForURL(/\/ui\/login/);
    await page.goto(`${server.url}/ui/admin/keys`);
    expect(page.url()).toContain("/ui/login");
  }, 120_000);
});
