// `npm test` runs this first so a missing service is one clear line, not a wall of failures.
import { requireServices } from "./services.ts";

try {
  await requireServices();
} catch (error) {
  process.stderr.write(`cannot run the tests: ${(error as Error).message}\n`);
  process.exit(1);
}
