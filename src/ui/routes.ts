/** The admin area: server-rendered pages under /ui, behind the admin login. */
import formbody from "@fastify/formbody";
import type { FastifyPluginAsync } from "fastify";
import { dashboardPage } from "./dashboard.ts";
import { dbTerminalPage } from "./dbTerminalPage.ts";
import { etlPages } from "./etlPages.ts";
import { faviconRoutes } from "./favicon.ts";
import { keysPage } from "./keysPage.ts";
import { learnerPage } from "./learnerPage.ts";
import { learnersPage } from "./learnersPage.ts";
import { lessonsPage } from "./lessonsPage.ts";
import { loginRoutes, requireCsrf } from "./login.ts";
import { progressPage } from "./progressPage.ts";
import { reminderPage } from "./reminderPage.ts";
import { xapiLogPage } from "./xapiLogPage.ts";

export const uiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.addHook("preHandler", requireCsrf(app.deps.signingSecret) as never);
  await app.register(faviconRoutes);
  await app.register(loginRoutes);
  await app.register(dashboardPage);
  await app.register(etlPages);
  await app.register(learnersPage);
  await app.register(learnerPage);
  await app.register(reminderPage);
  await app.register(keysPage);
  await app.register(lessonsPage);
  await app.register(dbTerminalPage);
  await app.register(progressPage);
  await app.register(xapiLogPage);
};
