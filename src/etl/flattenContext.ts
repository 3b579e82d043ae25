/** What flattening needs from the configuration: the completion verbs and the public base URL. */
import type { Config } from "../config.ts";
import type { FlattenContext } from "./flattenStatement.ts";

export function flattenContext(config: Pick<Config, "completionVerbs" | "publicBaseUrl">): FlattenContext {
  return { completionVerbs: new Set(config.completionVerbs), publicBaseUrl: config.publicBaseUrl };
}
