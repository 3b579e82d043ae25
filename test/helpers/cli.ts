/** Runs the real `cohort-lrs` command as a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/cohort-lrs.js", import.meta.url));

/** The parent's environment without any cohort-lrs configuration, plus `env`. */
export function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of [
    "DATABASE_URL",
    "REDIS_URL",
    "ETL_MODE",
    "ADMIN_PASSWORD",
    "PUBLIC_PEM",
    "SECRET_PEM",
    "DATA_DIR",
    "PORT",
    "HOST",
    "SMTP_URL",
  ]) {
    delete base[name];
  }
  return { ...base, LOG_LEVEL: "info", ...env };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cohort-lrs args…` to completion. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`cohort-lrs ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Server {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a role and resolves once it prints `ready` (by default: where it listens). */
export function startServer(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  ready = /listening on (http:\/\/\S+)/,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env) });
    let output = "";
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`cohort-lrs ${args.join(" ")} did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1] ?? "",
          output: () => output,
          stop: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cohort-lrs ${args.join(" ")} exited with ${code} before listening:\n${output}`));
    });
  });
}

/**
 * A TCP port free on `host` now (every address: "0.0.0.0"), for a listener the test cannot ask to
 * pick its own (port 0), such as a server that must know its own address before it starts.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
