/** OpenAPI pieces shared by the `/xapi` routes. */
import { Type } from "typebox";
import { SUPPORTED_VERSIONS } from "../../xapi/version.ts";

/**
 * Every `/xapi` request but `about` names its xAPI version; Swagger UI's "Try it out" fills it in.
 * The value is checked by the protocol hook (`protocol.ts`: any 1.0.x or 2.0.x), not by this schema.
 */
export const XapiVersionHeader = Type.String({
  description: `the xAPI version the request follows: ${SUPPORTED_VERSIONS.join(" or ")} (any 1.0.x or 2.0.x is accepted)`,
  default: "2.0.0",
  examples: [...SUPPORTED_VERSIONS],
});

/** The request headers every `/xapi` route but `about` declares. */
export const XapiHeaders = Type.Object({ "X-Experience-API-Version": XapiVersionHeader });
