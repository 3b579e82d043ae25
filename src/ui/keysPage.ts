/**
 * `/ui/admin/keys`: the xAPI credentials content uses. The secret of a new key is shown once;
 * afterwards only its hash exists. Revoking takes effect at once in this process and within 30 s
 * in the others (the verification cache).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import {
  createApiCredential,
  listApiCredentials,
  PIPELINE_TEST_KEY,
  revokeApiCredential,
} from "../data/apiCredentials.ts";
import { type Html, html } from "./html.ts";
import { csrfField, page, table } from "./layout.ts";

export const SCOPES = ["all", "statements/write", "statements/read"] as const;

export const keysPage: FastifyPluginAsyncTypebox = async (app) => {
  const render = async (holder: string, notice?: Html) => {
    const { database, signingSecret, config } = app.deps;
    const rows = await listApiCredentials(database.db);
    const now = new Date();
    const csrf = csrfToken(signingSecret, holder);
    const kind = (row: (typeof rows)[number]) =>
      row.bootstrap
        ? config.bootstrapCredential?.key === row.key
          ? "bootstrap (PUBLIC_PEM/SECRET_PEM)"
          : "bootstrap (generated)"
        : row.key === PIPELINE_TEST_KEY
          ? "admin area's pipeline test"
          : "";
    return page(
      "xAPI keys",
      html`${notice ?? ""}
<p>Content (Storyline, Rise, H5P, your own pages) sends statements to <code>${config.publicBaseUrl}/xapi/</code> with a key as the
Basic auth username and its secret as the password.</p>
${table(
  ["name", "key", "scopes", "kind", "created", "last used", "revoked", ""],
  rows.map((row) => [
    row.name,
    row.key,
    row.scopes.join(", "),
    kind(row),
    row.createdAt,
    row.lastUsedAt,
    row.revokedAt && row.revokedAt > now ? html`expires ${row.revokedAt.toISOString()}` : row.revokedAt,
    row.revokedAt && row.revokedAt <= now
      ? ""
      : html`<form method="post" action="/ui/admin/keys/revoke" class="inline">${csrfField(csrf)}<input type="hidden" name="id" value="${row.id}"><button class="danger" type="submit">Revoke</button></form>`,
  ]),
)}
<p class="muted">A revoked bootstrap key from PUBLIC_PEM/SECRET_PEM comes back at the next start while the environment names it.</p>
<h2>New key</h2>
<div class="panel"><form method="post" action="/ui/admin/keys">${csrfField(csrf)}
  <label for="name">Name (who uses it)</label><input id="name" name="name" required maxlength="100" size="32">
  <label for="scope">Scope</label>
  <select id="scope" name="scope">${SCOPES.map((scope) => html`<option value="${scope}">${scope}</option>`)}</select>
  <p><button type="submit">Create</button></p>
</form></div>`,
      { csrf, active: "/ui/admin/keys" },
    );
  };

  app.get("/ui/admin/keys", { config: { auth: "admin" }, schema: { hide: true } }, async (request, reply) =>
    reply.type("text/html; charset=utf-8").send(await render(request.adminHolder!)),
  );

  app.post(
    "/ui/admin/keys",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        body: Type.Object({
          name: Type.Optional(Type.String({ maxLength: 200 })),
          scope: Type.Optional(Type.String({ maxLength: 40 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const name = (request.body.name ?? "").trim();
      const scope = request.body.scope ?? "all";
      if (!name || name.length > 100 || !(SCOPES as readonly string[]).includes(scope)) {
        return reply
          .code(400)
          .type("text/html; charset=utf-8")
          .send(
            await render(
              request.adminHolder!,
              html`<p class="notice bad">A key needs a name (1–100 characters) and one of the scopes ${SCOPES.join(", ")}.</p>`,
            ),
          );
      }
      const { key, secret } = await createApiCredential(app.deps.database.db, name, scope);
      const notice = html`<div class="notice"><strong>Key created. Copy the secret now: it is not shown again.</strong>
<pre>key:    ${key}
secret: ${secret}</pre></div>`;
      return reply.type("text/html; charset=utf-8").send(await render(request.adminHolder!, notice));
    },
  );

  app.post(
    "/ui/admin/keys/revoke",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        body: Type.Object({
          id: Type.Optional(Type.String({ maxLength: 40 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const id = request.body.id ?? "";
      const valid = /^[0-9a-f-]{36}$/i.test(id);
      const revoked = valid ? await revokeApiCredential(app.deps.database.db, id) : undefined;
      app.credentialVerifier.forget();
      const notice = revoked
        ? html`<p class="notice">Revoked ${revoked}. Content using it now gets 401.</p>`
        : html`<p class="notice bad">No active key with that id.</p>`;
      return reply
        .code(revoked ? 200 : 400)
        .type("text/html; charset=utf-8")
        .send(await render(request.adminHolder!, notice));
    },
  );
};
