/** Parses an `Authorization` header. */
export type Credentials =
  | { scheme: "basic"; username: string; password: string }
  | { scheme: "bearer"; token: string };

export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const space = header.indexOf(" ");
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer" && value) return { scheme: "bearer", token: value };
  if (scheme !== "basic") return undefined;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { scheme: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
