#!/usr/bin/env node
// The cohort-lrs command. In a checkout it runs the TypeScript sources through tsx; in the
// container image (built with `npm run build`, no src/) it runs the compiled dist/.
import { existsSync } from "node:fs";

const source = new URL("../src/cli.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import(new URL("../dist/cli.js", import.meta.url).href);
}
