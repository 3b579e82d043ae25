import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Fault tests kill real processes; they run on their own: npm run test:faults.
    exclude: ["test/faults/**", "node_modules/**"],
    globalSetup: ["test/globalSetup.ts"],
    // Two cores: two test files at a time, each on its own database.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: "reports/test-report.json" }]],
  },
});
