/** Role `migrate`: applies pending database migrations and exits. */
import { loadConfig } from "../config.ts";
import { startRuntime } from "../process/runtime.ts";

export async function migrate(): Promise<void> {
  const runtime = await startRuntime(loadConfig(), { migrate: true, secrets: false, migrateOnly: true });
  const applied = runtime.migrationsApplied;
  process.stdout.write(
    applied.length
      ? `applied ${applied.length} migration(s): ${applied.join(", ")}\n`
      : "database schema is up to date; nothing to apply\n",
  );
  await runtime.close();
}
