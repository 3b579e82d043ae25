/**
 * Unsubscribing through the link of a reminder email (the link itself, as each email carries it,
 * is the reminders' test): the GET page changes nothing, its button's POST and the RFC 8058
 * one-click POST turn reminders off, and bad tokens change nothing.
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SIGNING_SECRET, useTestApp } from "../../../test/helpers/app.ts";
import { signUp } from "../../commands/signUp.ts";
import { queryRows } from "../../db/client.ts";
import { unsubscribeUrl } from "../../reminders/sendReminder.ts";

const BASE_URL = "https://course.example.com";
const harness = useTestApp({ PUBLIC_BASE_URL: BASE_URL });

const learner = (avatar: string) =>
  signUp(
    harness.database.db,
    { name: avatar, email: `${avatar}@example.com`, avatar, cohortId: "c1", timezone: "UTC" },
    BASE_URL,
  );

describe("unsubscribe", () => {
  const linkOf = (learner: { id: string }) =>
    unsubscribeUrl(BASE_URL, SIGNING_SECRET, learner.id).slice(BASE_URL.length);

  const remindersOf = async (id: string) =>
    (
      await queryRows<{ reminders_enabled: boolean }>(
        harness.database.db,
        sql`select reminders_enabled from users where id = ${id}`,
      )
    )[0]!.reminders_enabled;

  it("the emailed link shows a button and changes nothing; the button's POST turns reminders off", async () => {
    const alan = await learner("alan");
    const link = linkOf(alan);
    // What a mail scanner does: follow the link, more than once. Nothing changes.
    for (let i = 0; i < 3; i++) {
      const page = await harness.app.inject({ method: "GET", url: link });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-type"]).toMatch(/text\/html/);
      expect(page.body).not.toContain("You are unsubscribed");
      expect(page.body).toContain("<button");
    }
    expect(await remindersOf(alan.id)).toBe(true);

    // The page's form posts back to the same address, with the one-click body.
    const page = await harness.app.inject({ method: "GET", url: link });
    const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page.body)!;
    const action = form[1]!.replace(/&amp;/g, "&");
    expect(action).toBe(link);
    const fields = Object.fromEntries(
      [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    expect(fields).toEqual({ "List-Unsubscribe": "One-Click" });
    const clicked = await harness.app.inject({
      method: "POST",
      url: action,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams(fields as Record<string, string>).toString(),
    });
    expect(clicked.statusCode).toBe(200);
    expect(clicked.body).toContain("You are unsubscribed");
    expect(await remindersOf(alan.id)).toBe(false);
    // Visiting the link again says so, and still changes nothing.
    const again = await harness.app.inject({ method: "GET", url: link });
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain("already off");
  });

  it("RFC 8058 one-click POST works as mail programs send it: urlencoded, multipart, or no body", async () => {
    const learners = [await learner("ada"), await learner("bea"), await learner("cyd")];
    const boundary = "----oneclick";
    const bodies = [
      { "content-type": "application/x-www-form-urlencoded", payload: "List-Unsubscribe=One-Click" },
      {
        "content-type": `multipart/form-data; boundary=${boundary}`,
        payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
      },
      undefined,
    ];
    for (const [i, who] of learners.entries()) {
      const body = bodies[i];
      const response = await harness.app.inject({
        method: "POST",
        url: linkOf(who),
        ...(body ? { headers: { "content-type": body["content-type"] }, payload: body.payload } : {}),
      });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain("You are unsubscribed");
      expect(await remindersOf(who.id)).toBe(false);
    }
  });

  it("refuses forged, broken and re-encoded tokens on GET and POST, changing nothing", async () => {
    const alan = await learner("alan");
    const grace = await learner("grace");
    const link = linkOf(alan);
    const token = decodeURIComponent(link.slice("/unsubscribe?token=".length));
    const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = [
      `${token}=`,
      token.replace(/.$/, (last) => B64URL[B64URL.indexOf(last) ^ 1]!),
      token.replace(/-/g, "+").replace(/_/g, "/"),
    ].filter((spelled) => spelled !== token);
    const urls = [
      link.replace(alan.id, grace.id),
      "/unsubscribe?token=nonsense",
      "/unsubscribe",
      ...respelled.map((spelled) => `/unsubscribe?token=${encodeURIComponent(spelled)}`),
    ];
    for (const url of urls) {
      for (const method of ["GET", "POST"] as const) {
        const refused = await harness.app.inject({ method, url });
        expect(refused.statusCode).toBe(400);
        expect(refused.body).toContain("not valid");
      }
    }
    expect(await remindersOf(alan.id)).toBe(true);
    expect(await remindersOf(grace.id)).toBe(true);
  });
});
