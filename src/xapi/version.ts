/**
 * xAPI versions. Requests name theirs in `X-Experience-API-Version`; every response carries the
 * version this LRS speaks. 1.0.x requests are validated by the 1.0.3 rules, 2.0.x by 2.0.0.
 */
export const SUPPORTED_VERSIONS = ["1.0.3", "2.0.0"] as const;
export type XapiVersion = (typeof SUPPORTED_VERSIONS)[number];
export const VERSION_HEADER = "x-experience-api-version";

/** The rules a request's version header selects, or undefined when it is not supported. */
export function negotiateVersion(header: string | undefined): XapiVersion | undefined {
  if (!header) return undefined;
  const match = /^(1\.0|2\.0)(\.\d+)?$/.exec(header.trim());
  if (!match) return undefined;
  return match[1] === "1.0" ? "1.0.3" : "2.0.0";
}

/** The version recorded on a stored statement that came without one. */
export function defaultStatementVersion(version: XapiVersion): string {
  // xAPI 1.0.3 §2.4.10: "If not provided, [the LRS] SHOULD set [version] to 1.0.0".
  return version === "1.0.3" ? "1.0.0" : "2.0.0";
}
