/**
 * The admin area's icon. Browsers ask for `/favicon.ico` on every page (Swagger UI's included)
 * unless told otherwise; the pages point at `/favicon.svg`. Both answer the same small SVG, which
 * Chromium, Firefox and Safari accept at either address, and may be cached for a day.
 */
import type { FastifyPluginAsync } from "fastify";

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d2330"/><rect x="6" y="18" width="5" height="8" rx="1" fill="#7c9cf5"/><rect x="13.5" y="12" width="5" height="14" rx="1" fill="#a9bdf8"/><rect x="21" y="6" width="5" height="20" rx="1" fill="#ffffff"/></svg>`;

export const faviconRoutes: FastifyPluginAsync = async (app) => {
  for (const url of ["/favicon.svg", "/favicon.ico"]) {
    app.get(url, { config: { auth: "public" }, schema: { hide: true } }, async (_request, reply) =>
      reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(FAVICON_SVG),
    );
  }
};
