/** OpenAPI pieces shared by the `/xapi` routes. */
import { Type } from "typebox";
import { SUPPORTED_VERSIONS } from "../../xapi/version.ts";

/** Every `/xapi` request but `about` names its xAPI version; Swagger UI's "Try it out" fills it in. */
export const XapiVersionHeader = Type.String({
  description: `the xAPI version the request follows: ${SUPPORTED_VERSIONS.join(" or ")} (1.0.x and 2.0.x are accepted)`,
  pattern: "^(1\\.0|2\\.0)(\\.\\d+)?$",
  default: "2.0.0",
  examples: [...SUPPORTED_VERSIONS],
});
