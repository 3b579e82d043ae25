/** Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core; never a downloaded browser. */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { freePort, type Server, startServer } from "./cli.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: install Debian's chromium package (bash .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The first IPv4 address of this machine that is not loopback (how a LAN reaches it). */
export function lanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === "IPv4" && !address.internal) return address.address;
    }
  }
  throw new Error("this test needs a non-loopback IPv4 address on the machine (none is configured)");
}

/**
 * `cohort-lrs <args>` listening on every address (HOST=0.0.0.0) of a free port, and the URL this
 * machine's LAN address reaches it at: how an operator on another machine sees the service.
 */
export async function startAtLanAddress(
  args: string[],
  env: Record<string, string>,
  timeoutMs?: number,
): Promise<{ server: Server; port: number; base: string }> {
  const port = await freePort("0.0.0.0");
  const server = await startServer(args, { ...env, HOST: "0.0.0.0", PORT: String(port) }, timeoutMs);
  return { server, port, base: `http://${lanAddress()}:${port}` };
}

/** A lesson or AU: a page and its scripts, served from an origin of its own. */
export interface ContentOrigin {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves `page` (HTML) at every path but the `scripts`' (path → file, such as a library's UMD
 * build), as an authoring tool's published content is served: from an origin of its own, so the
 * browser's calls to the LRS are cross-origin.
 */
export function serveContent(page: string, scripts: Record<string, string>): Promise<ContentOrigin> {
  const server = createServer((request, response) => {
    const script = scripts[request.url ?? ""];
    if (script) {
      response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(script));
      return;
    }
    response.writeHead(200, { "content-type": "text/html" }).end(page);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}
