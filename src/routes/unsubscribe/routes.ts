/**
 * One-click unsubscribe from reminder emails: `GET /unsubscribe?token=` (the link in the email)
 * and `POST /unsubscribe?token=` (RFC 8058 one-click, what mail programs send for the
 * List-Unsubscribe-Post header). The token is signed; a bad or forged one gets a plain 400 page.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { eq } from "drizzle-orm";
import { Type } from "typebox";
import { verifyToken } from "../../auth/signing.ts";
import { users } from "../../db/schema.ts";
import { UNSUBSCRIBE_PURPOSE } from "../../reminders/sendReminder.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body><h1>${title}</h1><p>${body}</p></body></html>`;
}

export const unsubscribeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const handle = async (token: string | undefined): Promise<{ status: 200 | 400; html: string }> => {
    const userId = token ? verifyToken(app.deps.signingSecret, UNSUBSCRIBE_PURPOSE, token) : undefined;
    if (!userId || !UUID.test(userId)) {
      return {
        status: 400,
        html: page(
          "This unsubscribe link is not valid",
          "The link may be incomplete (copy the whole address from the email) or was not issued by this course. Nothing was changed.",
        ),
      };
    }
    const updated = await app.deps.database.db
      .update(users)
      .set({ remindersEnabled: false })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    if (updated.length === 0) {
      return {
        status: 400,
        html: page(
          "This unsubscribe link is not valid",
          "No learner matches it any more. Nothing was changed.",
        ),
      };
    }
    return {
      status: 200,
      html: page("You are unsubscribed", "You will not get any more lesson reminders from this course."),
    };
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
      schema: { ...schema, summary: "Stop reminder emails (the link in each email)" },
    },
    async (request, reply) => {
      const { status, html } = await handle(request.query.token);
      return reply.code(status).type("text/html; charset=utf-8").send(html);
    },
  );
  app.post(
    "/unsubscribe",
    { config: { auth: "public" }, schema: { ...schema, summary: "One-click unsubscribe (RFC 8058)" } },
    async (request, reply) => {
      const { status, html } = await handle(request.query.token);
      return reply.code(status).type("text/html; charset=utf-8").send(html);
    },
  );
};
