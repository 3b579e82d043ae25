/**
 * URLs with credentials are shown masked wherever they appear (start banner, reminders page,
 * DB terminal, logs), however the password is spelled: an `@` or `:` in it, a `:` in the user,
 * percent-encoded characters, or raw characters that end the authority early.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres } from "../src/db/client.ts";
import { smtpEmailClient } from "../src/mail/emailClient.ts";
import { maskUrl, withoutCredentials } from "../src/maskUrl.ts";
import { adminHeaders, buildApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** Tricky URLs, each with the secret pieces that must not show. */
const TRICKY: { url: string; secrets: string[]; masked: string }[] = [
  {
    url: "smtp://mailer:s3cr@t-pa55@mail.example.com:587",
    secrets: ["s3cr", "t-pa55"],
    masked: "smtp://mailer:***@mail.example.com:587",
  },
  {
    url: "smtp://mailer:p@ss:w@rd@mail.example.com",
    secrets: ["p@ss", "ss:w", "w@rd", "rd@"],
    masked: "smtp://mailer:***@mail.example.com",
  },
  {
    url: "smtps://us%3Aer:pa%40ss%2Fw%3Ard@mail.example.com:465",
    secrets: ["pa%40ss", "pa@ss", "ss%2Fw", "w%3Ard", "w:rd"],
    masked: "smtps://us%3Aer:***@mail.example.com:465",
  },
  {
    url: "postgres://app:hunter2@db:5432/lrs",
    secrets: ["hunter2"],
    masked: "postgres://app:***@db:5432/lrs",
  },
  {
    url: "redis://:r3d1s@secret@cache:6379/0",
    secrets: ["r3d1s", "secret"],
    masked: "redis://:***@cache:6379/0",
  },
  // A raw "#" or "?" in the password ends the authority early: nothing after the scheme is safe.
  { url: "smtp://mailer:12#s3cret@mail.example.com", secrets: ["12", "s3cret"], masked: "smtp://***" },
  { url: "smtp://mailer:99?pw=s3cret@mail.example.com", secrets: ["99", "s3cret"], masked: "smtp://***" },
  // Credentials in the query string.
  {
    url: "smtp://mail.example.com:587/?pool=true&password=s3cret&apiKey=k3y",
    secrets: ["s3cret", "k3y"],
    masked: "smtp://mail.example.com:587/?pool=true&password=***&apiKey=***",
  },
  { url: "smtp://mail.example.com", secrets: [], masked: "smtp://mail.example.com" },
];

describe("maskUrl", () => {
  it.each(TRICKY)("masks $url", ({ url, secrets, masked }) => {
    expect(maskUrl(url)).toBe(masked);
    for (const secret of secrets) expect(maskUrl(url)).not.toContain(secret);
  });

  it("shows nothing of a URL it cannot parse", () => {
    expect(maskUrl("smtp://mailer:pa/ss@mail.example.com")).toBe("(unparseable URL)");
    expect(maskUrl("not a url, password hunter2")).toBe("(unparseable URL)");
  });

  it("drops the credentials of a URL a browser must open", () => {
    expect(withoutCredentials("https://sql:p@ss@sqlpad.example.com/q?x=1")).toBe(
      "https://sqlpad.example.com/q?x=1",
    );
  });
});

describe("where URLs are shown", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it("the start banner's database line and the mail description", async () => {
    for (const { url, secrets } of TRICKY.filter((tricky) => tricky.url.startsWith("smtp"))) {
      const client = smtpEmailClient(url, "course@example.com");
      for (const secret of secrets) expect(client.description).not.toContain(secret);
      client.close();
    }
    const postgres = openPostgres("postgres://app:p@ss:w0rd@127.0.0.1:32398/lrs");
    expect(postgres.location).toBe("postgres://app:***@127.0.0.1:32398/lrs");
    await postgres.close();
  });

  it("the Reminders page and the DB terminal", async () => {
    const app = await buildApp(database, {
      SMTP_URL: "smtp://mailer:s3cr@t-pa55@127.0.0.1:32398",
      SQLPAD_URL: "https://sql:sq1p@ss@sqlpad.example.com/",
    });
    try {
      const reminders = await app.inject({ method: "GET", url: "/ui/test-reminders", headers: adminHeaders });
      expect(reminders.statusCode).toBe(200);
      expect(reminders.body).toContain("smtp://mailer:***@127.0.0.1:32398");
      expect(reminders.body).not.toContain("s3cr");
      expect(reminders.body).not.toContain("pa55");
      const terminal = await app.inject({ method: "GET", url: "/ui/db-terminal", headers: adminHeaders });
      expect(terminal.statusCode).toBe(200);
      expect(terminal.body).toContain('src="https://sqlpad.example.com/"');
      expect(terminal.body).not.toContain("sq1p");
    } finally {
      await app.close();
    }
  });
});
