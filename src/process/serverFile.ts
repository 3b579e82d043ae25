/**
 * A running embedded server holds its database; `DATA_DIR/server.json` (mode 0600) says where it
 * listens, so `run-task` can ask it to run a task instead (authenticated with the admin password
 * in the same directory).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ADMIN_PASSWORD_FILE } from "../auth/bootstrap.ts";
import type { TaskName } from "../jobs/definitions.ts";
import type { TaskReport, TaskRequest } from "../jobs/runTaskNow.ts";
import type { Runtime } from "./runtime.ts";

const SERVER_FILE = "server.json";

export function writeServerFile(dataDir: string, url: string): { remove(): void } {
  const file = path.join(dataDir, SERVER_FILE);
  writeFileSync(file, `${JSON.stringify({ url, pid: process.pid })}\n`, { mode: 0o600 });
  return { remove: () => rmSync(file, { force: true }) };
}

/** Records where a server on the embedded database listens; on PostgreSQL there is nothing to record. */
export function recordServer(runtime: Runtime, url: string): { remove(): void } {
  return runtime.database.kind === "pglite"
    ? writeServerFile(runtime.config.dataDir, url)
    : { remove: () => {} };
}

export async function runTaskOnServer(
  config: { dataDir: string; adminPassword: string | undefined },
  task: TaskName,
  request: TaskRequest,
): Promise<TaskReport> {
  const { dataDir } = config;
  let server: { url: string };
  try {
    server = JSON.parse(readFileSync(path.join(dataDir, SERVER_FILE), "utf8")) as { url: string };
  } catch {
    throw new Error(
      `the embedded database in ${dataDir} is in use, and no running server is recorded in ${SERVER_FILE}`,
    );
  }
  let password = config.adminPassword;
  if (!password) {
    try {
      password = readFileSync(path.join(dataDir, ADMIN_PASSWORD_FILE), "utf8").trim();
    } catch {
      throw new Error(
        `the embedded database in ${dataDir} is held by the server at ${server.url}; ` +
          "set ADMIN_PASSWORD to that server's admin password to run the task through it",
      );
    }
  }
  const response = await fetch(`${server.url}/api/tasks/${task}/run`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      ...(request.at ? { at: request.at.toISOString() } : {}),
      ...(request.dryRun ? { dryRun: true } : {}),
    }),
  });
  const body = (await response.json()) as TaskReport & { message?: string };
  if (!response.ok)
    throw new Error(`the running server at ${server.url} answered ${response.status}: ${body.message}`);
  return { ...body, lines: [`(run by the server at ${server.url})`, ...body.lines] };
}
