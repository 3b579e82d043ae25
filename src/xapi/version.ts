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

/**
 * The version each credential's client named last, so a request that forgets the header is
 * refused in the version that client speaks (the 1.0.3 and 2.0.0 specs each want their own
 * version on that 400, and the request itself cannot say which). Only verified requests are
 * remembered; per process, at most `capacity` keys (default 10,000), the oldest forgotten first.
 */
export class LastVersions {
  private readonly byKey = new Map<string, XapiVersion>();

  constructor(private readonly capacity = 10_000) {}

  remember(key: string, version: XapiVersion): void {
    if (this.byKey.get(key) === version) return;
    this.byKey.delete(key);
    this.byKey.set(key, version);
    if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
  }

  of(key: string | undefined): XapiVersion | undefined {
    return key === undefined ? undefined : this.byKey.get(key);
  }
}
