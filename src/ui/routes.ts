/** The admin area: server-rendered pages under /ui, behind the admin login. */
import formbody from "@fastify/formbody";
import type { FastifyPluginAsync } from "fastify";
import { dashboardPage } from "./dashboard.ts";
import { dbTerminalPage } from "./dbTerminalPage.ts";
import { etlPages } from "./etlPages.ts";
import { keysPage } from "./keysPage.ts";
import { loginRoutes, requireCsrf } from "./login.ts";
import { progressPage } from "./progressPage.ts";
import { reminderPage } from "./reminderPage.ts";
import { xapiLogPage } from "./xapiLogPage.ts";

export const uiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.addHook("preHandler", requireCsrf(app.deps.signingSecret) as never);
  await app.register(loginRoutes);
  await app.register(dashboardPage);
  await app.register(etlPages);
  await app.register(reminderPage);
  await app.register(keysPage);
  await app.register(dbTerminalPage);
  await app.register(progressPage);
  await app.register(xapiLogPage);
};
