/**
 * The learners pages in Chromium, as an operator on another machine reaches them: the real
 * `cohort-lrs all` (embedded database) on HOST=0.0.0.0, opened at a non-loopback address of this
 * machine over plain HTTP. Log in, find learners, read the CSV, open a learner (lessons,
 * statements and their raw JSON, reminders), change their reminder setting, add learners from a
 * CSV file and see a refused file explained next to its field; at 1280 px and at 390 px, with no
 * Content-Security-Policy violation. Screenshots go to test-artifacts/ (not committed).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchBrowser, startAtLanAddress } from "./helpers/browser.ts";
import type { Server } from "./helpers/cli.ts";
import { basic, statement } from "./helpers/xapi.ts";

const PASSWORD = "browser-learners-admin-password";
const KEY = "browser-learners-content";
const SECRET = "browser-learners-content-secret";
const DAY_1 = "https://lessons.example.com/learners/day-1";
const DAY_2 = "https://lessons.example.com/learners/day-2";

let server: Server;
let browser: Browser;
let base: string;
const tmp = mkdtempSync(path.join(tmpdir(), "cohort-lrs-browser-learners-"));

beforeAll(async () => {
  ({ server, base } = await startAtLanAddress(
    ["all"],
    {
      DATA_DIR: path.join(tmp, "data"),
      ADMIN_PASSWORD: PASSWORD,
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
    },
    120_000,
  ));
  const admin = { authorization: basic("admin", PASSWORD), "content-type": "application/json" };
  for (const [title, activityId, lessonDate] of [
    ["Day 1: Variables", DAY_1, "2026-04-01"],
    ["Day 2: Loops", DAY_2, "2026-04-02"],
  ]) {
    const created = await fetch(`${base}/api/lessons`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ cohortId: "spring", activityId, title, lessonDate }),
    });
    expect(created.status).toBe(201);
  }
  for (const [name, avatar, cohortId] of [
    ["Ada Lovelace", "ada", "spring"],
    ["Grace Hopper", "grace", "spring"],
    ["Alan Turing", "alan", "autumn"],
  ]) {
    const signed = await fetch(`${base}/api/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, email: `${avatar}@example.com`, avatar, cohortId }),
    });
    expect(signed.status).toBe(201);
  }
  const stored = await fetch(`${base}/xapi/statements`, {
    method: "POST",
    headers: {
      authorization: basic(KEY, SECRET),
      "x-experience-api-version": "1.0.3",
      "content-type": "application/json",
    },
    body: JSON.stringify([
      statement({
        actor: { mbox: "mailto:ada@example.com", name: "Ada" },
        object: { id: DAY_1, definition: { name: { "en-US": "Variables" } } },
        result: { completion: true, score: { scaled: 0.9 }, duration: "PT12M30S" },
      }),
    ]),
  });
  expect(stored.status).toBe(200);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page that records Content-Security-Policy violations and requests upgraded to https. */
async function openPage(width: number): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 }, acceptDownloads: true });
  const problems: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to|ERR_SSL/i.test(message.text())) problems.push(message.text());
  });
  page.on("request", (request) => {
    if (request.url().startsWith("https:")) problems.push(`https request: ${request.url()}`);
  });
  return { page, problems };
}

async function logIn(page: Page): Promise<void> {
  await page.goto(`${base}/ui/learners`);
  expect(page.url()).toBe(`${base}/ui/login?next=%2Fui%2Flearners`);
  await page.fill("#password", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/ui/learners`);
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(ARTIFACTS, `learners-${name}.png`), fullPage: true });

/** The page is no wider than the window: nothing to scroll sideways but the tables' own scrollers. */
const fitsWidth = async (page: Page, width: number) =>
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);

/** `message`'s element sits right under `field` (within two lines), not somewhere else on the page. */
async function expectMessageUnder(page: Page, field: string, message: string): Promise<void> {
  const error = page.locator(`#${field}-error`);
  await expect(error.textContent()).resolves.toBe(message);
  const fieldBox = (await page.locator(`#${field}`).boundingBox())!;
  const errorBox = (await error.boundingBox())!;
  expect(errorBox.y).toBeGreaterThanOrEqual(fieldBox.y + fieldBox.height - 1);
  expect(errorBox.y - (fieldBox.y + fieldBox.height)).toBeLessThan(40);
  await expect(page.locator(`#${field}`).getAttribute("aria-describedby")).resolves.toBe(`${field}-error`);
}

describe("the learners pages in Chromium over plain HTTP at a LAN address", () => {
  it("finds learners, exports them, opens one and changes their reminders (1280 px)", async () => {
    const { page, problems } = await openPage(1280);
    await logIn(page);
    await expect(page.locator("h1").textContent()).resolves.toBe("Learners");
    await expect(page.locator("#match-count").textContent()).resolves.toBe("3 learners match.");
    await shot(page, "list-1280");

    await page.fill("#q", "HOPPER");
    await page.click("button:has-text('Search')");
    await expect(page.locator("#match-count").textContent()).resolves.toBe("1 learner matches.");
    await expect(page.locator("main table tbody tr").count()).resolves.toBe(1);

    // A cohort id the API would refuse: said under the field, the search not run.
    await page.fill("#q", "");
    await page.fill("#cohortId", "spring term!");
    await page.click("button:has-text('Search')");
    await expectMessageUnder(
      page,
      "cohortId",
      "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    );
    await shot(page, "list-bad-cohort-1280");

    await page.fill("#cohortId", "spring");
    await page.click("button:has-text('Search')");
    await expect(page.locator("#match-count").textContent()).resolves.toBe("2 learners match.");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Download CSV")]);
    const csv = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\r\n");
    expect(csv[0]).toBe("userId,name,email,avatar,cohortId,timezone,remindersEnabled,signedUpAt");
    expect(csv.slice(1).map((line) => line.split(",")[3])).toEqual(["ada", "grace"]);

    // Ada's page: her lessons once her statement is flattened (the in-process sweep).
    await page.click("text=Ada Lovelace");
    await expect(page.locator("h1").textContent()).resolves.toBe("Ada Lovelace");
    for (let tries = 0; tries < 30; tries++) {
      if ((await page.locator("#lessons").textContent())?.includes("1 of 2 completed")) break;
      await page.waitForTimeout(1_000);
      await page.reload();
    }
    await expect(page.locator("#lessons").textContent()).resolves.toBe("Lessons (1 of 2 completed)");
    const lessons = page.locator("#lessons + .scroll table tbody tr");
    await expect(lessons.nth(0).textContent()).resolves.toMatch(/Day 1: Variables.*✓.*90%.*12 min 30 s/s);
    await expect(lessons.nth(1).textContent()).resolves.toContain("not yet");
    await expect(page.locator("#statements + .scroll table tbody tr").count()).resolves.toBe(1);
    await shot(page, "learner-1280");

    // Reminders off, from the form.
    await expect(page.locator("#reminders-state").textContent()).resolves.toBe("on");
    await page.check("input[name=reminders][value=off]");
    await page.click("button:has-text('Save')");
    await expect(page.locator("p.notice").textContent()).resolves.toBe(
      "Reminders are now off for Ada Lovelace.",
    );
    await expect(page.locator("#reminders-state").textContent()).resolves.toBe("off");
    await shot(page, "learner-reminders-off-1280");

    // The statement's raw JSON, with the same session.
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/api/debug/raw-json/")),
      page.click("text=raw JSON"),
    ]);
    expect(response.status()).toBe(200);
    const raw = (await response.json()) as { statement: { actor: { mbox: string } } };
    expect(raw.statement.actor.mbox).toBe("mailto:ada@example.com");
    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);

  it("adds learners from a CSV file, and explains a refused file next to its field (1280 px)", async () => {
    const { page, problems } = await openPage(1280);
    await logIn(page);
    await page.click("text=Add learners from a CSV file");
    await expect(page.locator("h1").textContent()).resolves.toBe("Add learners");
    const file = path.join(tmp, "spring.csv");
    writeFileSync(
      file,
      [
        "name,email,avatar,cohortId,timezone",
        "Edsger Dijkstra,ewd@example.com,ewd,spring,Europe/Amsterdam",
        '"Liskov, Barbara",babs@example.com,babs,spring,',
        "Ada Again,ada@example.com,ada_again,spring,",
        "No Mail,no-mail,nomail,spring,",
      ].join("\n"),
    );
    await page.setInputFiles("#file", file);
    await page.click("button:has-text('Add learners')");
    await expect(page.locator("#import-summary").textContent()).resolves.toMatch(
      /^2 added, 1 already signed up, 1 refused\./,
    );
    const report = page.locator("#import-summary + .scroll table tbody tr");
    await expect(report.nth(3).textContent()).resolves.toMatch(
      /5.*no-mail.*refused.*email: must match format "email"/s,
    );
    await shot(page, "import-report-1280");

    const wrong = path.join(tmp, "wrong.csv");
    writeFileSync(wrong, "name,email,notes\nA,a@example.com,hi\n");
    await page.setInputFiles("#file", wrong);
    await page.click("button:has-text('Add learners')");
    await expectMessageUnder(
      page,
      "file",
      'the header names the column "notes", which is not one of name, email, avatar, cohortId, timezone',
    );
    await shot(page, "import-refused-1280");

    await page.goto(`${base}/ui/learners?cohortId=spring`);
    await expect(page.locator("#match-count").textContent()).resolves.toBe("4 learners match.");
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("fits a 390 px phone: the list, a learner and the upload form", async () => {
    const { page, problems } = await openPage(390);
    await logIn(page);
    await fitsWidth(page, 390);
    await expect(page.locator("#match-count").textContent()).resolves.toMatch(/learners match/);
    await shot(page, "list-390");
    await page.click("text=Ada Lovelace");
    await expect(page.locator("h1").textContent()).resolves.toBe("Ada Lovelace");
    await expect(page.locator("#reminders-state").isVisible()).resolves.toBe(true);
    await fitsWidth(page, 390);
    await shot(page, "learner-390");
    await page.goto(`${base}/ui/learners/import`);
    await expect(page.locator("#file").isVisible()).resolves.toBe(true);
    await fitsWidth(page, 390);
    await shot(page, "import-390");
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
