import { defineConfig } from "vitest/config";

/** `npm run test:faults`: tests that kill real processes. One file at a time: they load the machine. */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
