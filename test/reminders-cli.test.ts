/**
 * Reminders as an operator meets them, through the real command on the embedded database:
 * add today's lesson, sign up two learners, complete it for one via xAPI, run the reminder task
 * from the CLI while the server holds the database, and find exactly one email in the outbox
 * with a working unsubscribe link.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, type Server, startServer } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { basic, statement } from "./helpers/xapi.ts";

const servers: Server[] = [];
const created: TestDatabase[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const database of created) await database.drop();
});

const KEY = "course-content";
const SECRET = "a-long-bootstrap-secret-for-tests";

describe("daily reminders on the embedded database", () => {
  it("sends exactly one reminder, to the learner who has not completed today's lesson", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-reminders-"));
    const now = new Date();
    const hour = now.getUTCHours();
    const today = now.toISOString().slice(0, 10);
    const server = await startServer(["all"], {
      DATA_DIR: dataDir,
      PORT: "0",
      PUBLIC_PEM: KEY,
      SECRET_PEM: SECRET,
      REMINDER_HOUR: String(hour),
      ADMIN_PASSWORD: "an-admin-password-for-tests",
    });
    servers.push(server);
    const admin = {
      authorization: basic("admin", "an-admin-password-for-tests"),
      "content-type": "application/json",
    };
    const post = (url: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${server.url}${url}`, { method: "POST", headers, body: JSON.stringify(body) });

    const lessonResponse = await post(
      "/api/lessons",
      {
        cohortId: "spring",
        activityId: "https://lessons.example.com/today",
        title: "Today's lesson",
        url: "https://lessons.example.com/today/",
        lessonDate: today,
      },
      admin,
    );
    expect(lessonResponse.status).toBe(201);
    for (const avatar of ["ada", "alan"]) {
      const signup = await post(
        "/api/signup",
        { name: avatar, email: `${avatar}@example.com`, avatar, cohortId: "spring" },
        {
          "content-type": "application/json",
        },
      );
      expect(signup.status).toBe(201);
    }
    const completion = await post(
      "/xapi/statements",
      statement({
        actor: { mbox: "mailto:ada@example.com" },
        object: { id: "https://lessons.example.com/today" },
      }),
      {
        authorization: basic(KEY, SECRET),
        "x-experience-api-version": "1.0.3",
        "content-type": "application/json",
      },
    );
    expect(completion.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // flattened by the nudged sweep

    const at = `${today}T${String(hour).padStart(2, "0")}:30:00Z`;
    const cliEnv = { DATA_DIR: dataDir, ADMIN_PASSWORD: "an-admin-password-for-tests" };
    const dry = await runCli(["run-task", "daily-reminders", "--at", at, "--dry-run"], cliEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("(run by the server at");
    expect(dry.stdout).toContain("1 reminder(s) would be sent:");
    expect(dry.stdout).toContain("alan@example.com (UTC): Today's lesson");
    expect(readdirSync(dataDir)).not.toContain("outbox");

    const run = await runCli(["run-task", "daily-reminders", "--at", at], cliEnv);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("1 reminder(s) due, 1 new notification(s)");
    expect(run.stdout).toMatch(/through \.eml files in .*outbox: 1 sent/);

    // Running it again sends nothing more.
    const again = await runCli(["run-task", "daily-reminders", "--at", at], cliEnv);
    expect(again.stdout).toContain("0 new notification(s)");

    const outbox = path.join(dataDir, "outbox");
    const files = readdirSync(outbox);
    expect(files).toHaveLength(1);
    const mail = await simpleParser(readFileSync(path.join(outbox, files[0]!)));
    expect(mail.to).toMatchObject({ text: "alan@example.com" });
    expect(mail.subject).toBe("Reminder: Today's lesson");
    expect(mail.text).toContain("https://lessons.example.com/today/");
    const header = mail.headerLines
      .find((line) => line.key === "list-unsubscribe")!
      .line.replace(/\r?\n\s+/g, "");
    // PUBLIC_BASE_URL is unset and PORT=0: the link names the port the api listens on.
    const base = `http://localhost:${new URL(server.url).port}`;
    const link = new RegExp(`<${base}(/unsubscribe\\?token=[^>]+)>`).exec(header);
    expect(link).not.toBeNull();
    expect(mail.text).toContain(`${base}${link![1]}`);
    const page = await fetch(`${server.url}${link![1]}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Unsubscribe</button>");
    const oneClick = await fetch(`${server.url}${link![1]}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain("You are unsubscribed");
    expect(await server.stop()).toBe(0);
    servers.length = 0;
  }, 120_000);
});

describe("run-task daily-reminders usage", () => {
  it("refuses a malformed --at, and --at for another task", async () => {
    const bad = await runCli(["run-task", "daily-reminders", "--at", "teatime"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--at must be an ISO 8601 instant");
    const wrong = await runCli(["run-task", "incremental-etl", "--dry-run"], {});
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("apply to daily-reminders only");
  });

  it("previews on PostgreSQL without touching anything", async () => {
    const database = await createTestDatabase();
    created.push(database);
    const result = await runCli(
      ["run-task", "daily-reminders", "--dry-run", "--at", "2026-03-02T18:00:00Z"],
      {
        DATABASE_URL: database.url,
        DATA_DIR: mkdtempSync(path.join(tmpdir(), "cohort-lrs-dry-")),
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("daily-reminders at 2026-03-02T18:00:00.000Z (dry run: nothing sent)");
    expect(result.stdout).toContain("0 reminder(s) would be sent");
  });
});
