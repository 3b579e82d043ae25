/**
 * Unsubscribing from reminder emails.
 *
 * - `GET /unsubscribe?token=` (the link in each email) changes nothing: it shows a page with an
 *   "Unsubscribe" button. Mail scanners and link previews fetch links on their own, so a GET that
 *   unsubscribed would turn reminders off for learners who never asked.
 * - `POST /unsubscribe?token=` turns reminders off: the page's button, and the RFC 8058 one-click
 *   POST mail programs send for the `List-Unsubscribe-Post: List-Unsubscribe=One-Click` header
 *   (a form body, urlencoded or multipart, or none; its content is not needed, the token is).
 *
 * The token is signed; a bad or forged one gets a plain 400 page and changes nothing.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { verifyToken } from "../../auth/signing.ts";
import { remindersEnabled, turnOffReminders } from "../../data/reminderSettings.ts";
import { UNSUBSCRIBE_PURPOSE } from "../../reminders/sendReminder.ts";
import { escapeHtml } from "../../ui/html.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A one-click body is `List-Unsubscribe=One-Click`; anything much longer is not one. */
const FORM_BODY_LIMIT = 4 * 1024;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
button{font:inherit;padding:.5rem 1.2rem;cursor:pointer}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

const invalid = (why: string) => ({
  status: 400 as const,
  html: page("This unsubscribe link is not valid", `<p>${why} Nothing was changed.</p>`),
});
const badLink = invalid(
  "The link may be incomplete (copy the whole address from the email) or was not issued by this course.",
);
const noLearner = invalid("No learner matches it any more.");

export const unsubscribeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps.database;
  // RFC 8058 bodies: parsed as nothing (the token in the URL is what counts), and kept small.
  app.addContentTypeParser(
    ["application/x-www-form-urlencoded", "multipart/form-data"],
    { parseAs: "string", bodyLimit: FORM_BODY_LIMIT },
    (_request, _body, done) => done(null, {}),
  );

  const learnerOf = (token: string | undefined): string | undefined => {
    const userId = token ? verifyToken(app.deps.signingSecret, UNSUBSCRIBE_PURPOSE, token) : undefined;
    return userId && UUID.test(userId) ? userId : undefined;
  };

  const schema = {
    tags: ["learners"],
    querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) }),
    response: { 200: Type.String(), 400: Type.String() },
  };

  app.get(
    "/unsubscribe",
    {
      config: { auth: "public" },
      schema: {
        ...schema,
        summary: "The link in each email: a page asking to confirm (changes nothing)",
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      const userId = learnerOf(token);
      let answer: { status: 200 | 400; html: string } = badLink;
      if (userId) {
        const enabled = await remindersEnabled(db, userId);
        answer =
          enabled === undefined
            ? noLearner
            : {
                status: 200,
                html: page(
                  "Stop lesson reminders?",
                  `<p>${
                    enabled
                      ? "Press the button to stop getting lesson reminders from this course."
                      : "Reminders are already off for you; you will not get any."
                  }</p>
<form method="post" action="/unsubscribe?token=${escapeHtml(encodeURIComponent(token!))}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>`,
                ),
              };
      }
      return reply.code(answer.status).type("text/html; charset=utf-8").send(answer.html);
    },
  );

  app.post(
    "/unsubscribe",
    {
      config: { auth: "public" },
      schema: { ...schema, summary: "Stop reminder emails: the page's button, and RFC 8058 one-click" },
    },
    async (request, reply) => {
      const userId = learnerOf(request.query.token);
      let answer: { status: 200 | 400; html: string } = badLink;
      if (userId) {
        answer = !(await turnOffReminders(db, userId))
          ? noLearner
          : {
              status: 200,
              html: page(
                "You are unsubscribed",
                "<p>You will not get any more lesson reminders from this course.</p>",
              ),
            };
      }
      return reply.code(answer.status).type("text/html; charset=utf-8").send(answer.html);
    },
  );
};
