/**
 * `/ui/admin/keys`: the xAPI credentials content uses. The secret of a new key is shown once;
 * afterwards only its hash exists. Revoking takes two steps (a confirmation page with a box to
 * tick) and takes effect at once in this process and within 5 s in the others (the verification
 * cache).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { csrfToken } from "../auth/session.ts";
import { CMI5_KEY_PREFIX } from "../cmi5/launchCredential.ts";
import {
  createApiCredential,
  getApiCredential,
  listApiCredentials,
  PIPELINE_TEST_KEY,
  revokeApiCredential,
} from "../data/apiCredentials.ts";
import type { ApiCredential } from "../db/schema.ts";
import { unstorableTextProblem } from "../db/storableText.ts";
import { type Html, html } from "./html.ts";
import { csrfField, describedBy, fieldError, page, table } from "./layout.ts";

export const SCOPES = ["all", "statements/write", "statements/read"] as const;

/** The new-key form as sent back after a refusal: what was typed and what is wrong with it. */
interface NewKeyForm {
  name: string;
  scope: string;
  problems: { name?: string; scope?: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const keysPage: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.deps;
  /** Where each kind of credential came from, in words. */
  const kind = (row: ApiCredential) =>
    row.bootstrap
      ? config.bootstrapCredential?.key === row.key
        ? "bootstrap (PUBLIC_PEM/SECRET_PEM)"
        : "bootstrap (generated at first start)"
      : row.key === PIPELINE_TEST_KEY
        ? "admin area's pipeline test"
        : row.key.startsWith(CMI5_KEY_PREFIX)
          ? "cmi5 launch (expires on its own)"
          : "created in the admin area";

  /**
   * The xAPI endpoint content should be configured with: PUBLIC_BASE_URL's when it is set, else
   * the address this page was reached at (the default public URL names localhost, which content
   * on another machine cannot reach).
   */
  const endpoint = (request: FastifyRequest): Html =>
    config.publicBaseUrlSource === "env"
      ? html`<code>${config.publicBaseUrl}/xapi/</code>`
      : html`<code>${request.protocol}://${request.host}/xapi/</code> <span class="muted">(the address you reached this page at; PUBLIC_BASE_URL is not set, so statements' authority and reminder links use ${config.publicBaseUrl}: set it to the address learners use)</span>`;

  const render = async (request: FastifyRequest, notice?: Html, form?: NewKeyForm) => {
    const { database, signingSecret } = app.deps;
    const rows = await listApiCredentials(database.db);
    const now = new Date();
    const csrf = csrfToken(signingSecret, request.adminHolder!);
    return page(
      "xAPI keys",
      html`${notice ?? ""}
<p>Content (Storyline, Rise, H5P, your own pages) sends statements to the endpoint ${endpoint(request)} with a key as the
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
      : html`<a href="/ui/admin/keys/revoke?id=${row.id}">Revoke…</a>`,
  ]),
)}
<p class="muted">A revoked bootstrap key from PUBLIC_PEM/SECRET_PEM comes back at the next start while the environment names it.</p>
<h2>New key</h2>
<div class="panel"><form method="post" action="/ui/admin/keys">${csrfField(csrf)}
  <label for="name">Name (who uses it)</label><input id="name" name="name" required maxlength="100" size="32" value="${form?.name ?? ""}"${describedBy("name", form?.problems.name)}>${fieldError("name", form?.problems.name)}
  <label for="scope">Scope</label>
  <select id="scope" name="scope"${describedBy("scope", form?.problems.scope)}>${SCOPES.map(
    (scope) =>
      html`<option value="${scope}" ${scope === form?.scope ? html`selected` : ""}>${scope}</option>`,
  )}</select>${fieldError("scope", form?.problems.scope)}
  <p><button type="submit">Create</button></p>
</form></div>`,
      { csrf, active: "/ui/admin/keys" },
    );
  };

  app.get("/ui/admin/keys", { config: { auth: "admin" }, schema: { hide: true } }, async (request, reply) =>
    reply.type("text/html; charset=utf-8").send(await render(request)),
  );

  app.post(
    "/ui/admin/keys",
    {
      schema: {
        hide: true,
        // Checked in the handler, so that a refused form comes back as a page with its messages.
        body: Type.Record(Type.String({ maxLength: 100 }), Type.Unknown()),
      },
      config: { auth: "admin", bodyTextCheckedByHandler: true },
    },
    async (request, reply) => {
      const field = (value: unknown) => (typeof value === "string" ? value : "");
      const rawName = field(request.body.name);
      const name = rawName.trim();
      const scope = request.body.scope === undefined ? "all" : field(request.body.scope);
      const problems: NewKeyForm["problems"] = {};
      const unstorable = unstorableTextProblem(rawName);
      if (unstorable) problems.name = unstorable;
      else if (!name || name.length > 100) problems.name = "A key needs a name of 1–100 characters.";
      if (!(SCOPES as readonly string[]).includes(scope))
        problems.scope = `Choose one of ${SCOPES.join(", ")}.`;
      if (problems.name || problems.scope) {
        return reply
          .code(400)
          .type("text/html; charset=utf-8")
          .send(
            await render(
              request,
              html`<p class="notice bad">Nothing was created: check the fields below.</p>`,
              {
                name: unstorable ? "" : rawName.slice(0, 200),
                scope,
                problems,
              },
            ),
          );
      }
      const { key, secret } = await createApiCredential(app.deps.database.db, name, scope);
      const notice = html`<div class="notice"><strong>Key created. Copy the secret now: it is not shown again.</strong>
<pre>key:    ${key}
secret: ${secret}</pre></div>`;
      return reply.type("text/html; charset=utf-8").send(await render(request, notice));
    },
  );

  /** The confirmation step of a revocation: what the key is, what revoking it does, a box to tick. */
  const confirmPage = (request: FastifyRequest, row: ApiCredential, problem?: string) => {
    const csrf = csrfToken(app.deps.signingSecret, request.adminHolder!);
    const warning = row.bootstrap
      ? html`<p class="notice bad"><strong>This is the bootstrap key</strong> (${kind(row)}): content set up with the credential printed at the first start, or from PUBLIC_PEM/SECRET_PEM, stops working.${
          config.bootstrapCredential?.key === row.key
            ? " It comes back at the next start while the environment names it."
            : ""
        }</p>`
      : "";
    return page(
      "Revoke an xAPI key",
      html`${warning}<div class="record"><dl>
<div><dt>Name</dt><dd>${row.name}</dd></div>
<div><dt>Key</dt><dd><code>${row.key}</code></dd></div>
<div><dt>Kind</dt><dd>${kind(row)}</dd></div>
<div><dt>Last used</dt><dd>${row.lastUsedAt?.toISOString() ?? "never"}</dd></div>
</dl></div>
<div class="panel"><form method="post" action="/ui/admin/keys/revoke">${csrfField(csrf)}<input type="hidden" name="id" value="${row.id}">
<p>Content sending statements with this key gets 401 from now on (within 5 s on every replica). This cannot be undone: a new key would have to be set up in the content.</p>
<label class="check"><input type="checkbox" name="confirm" value="yes" id="confirm" required${describedBy("confirm", problem)}> Yes, revoke “${row.name}”</label>
${fieldError("confirm", problem)}
<p class="actions"><button class="danger" type="submit">Revoke key</button> <a href="/ui/admin/keys">Cancel</a></p>
</form></div>`,
      { csrf, active: "/ui/admin/keys" },
    );
  };

  /** The active (not yet revoked) credential with this id, if any. */
  const activeKey = async (id: string) => {
    if (!UUID.test(id)) return undefined;
    const row = await getApiCredential(app.deps.database.db, id.toLowerCase());
    return row && (!row.revokedAt || row.revokedAt > new Date()) ? row : undefined;
  };

  app.get(
    "/ui/admin/keys/revoke",
    {
      config: { auth: "admin" },
      schema: {
        hide: true,
        querystring: Type.Object({ id: Type.Optional(Type.String({ maxLength: 100 })) }),
      },
    },
    async (request, reply) => {
      const row = await activeKey(request.query.id ?? "");
      if (!row) {
        return reply
          .code(404)
          .type("text/html; charset=utf-8")
          .send(await render(request, html`<p class="notice bad">No active key with that id.</p>`));
      }
      return reply.type("text/html; charset=utf-8").send(confirmPage(request, row));
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
          confirm: Type.Optional(Type.String({ maxLength: 10 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const row = await activeKey(request.body.id ?? "");
      if (row && request.body.confirm !== "yes") {
        return reply
          .code(400)
          .type("text/html; charset=utf-8")
          .send(confirmPage(request, row, "Tick this box to confirm: nothing was revoked."));
      }
      const revoked = row ? await revokeApiCredential(app.deps.database.db, row.id) : undefined;
      app.credentialVerifier.forget();
      const notice = revoked
        ? html`<p class="notice">Revoked ${revoked}. Content using it now gets 401.</p>`
        : html`<p class="notice bad">No active key with that id.</p>`;
      return reply
        .code(revoked ? 200 : 400)
        .type("text/html; charset=utf-8")
        .send(await render(request, notice));
    },
  );
};
