/**
 * URLs as they may be shown or logged: the password of the userinfo masked, secret-looking query
 * values masked, the fragment left out. Parsed the way WHATWG URL parsers (and our clients) read
 * them, so an `@` or `:` in a password, or a percent-encoded character, cannot leave part of the
 * password in view the way a regular expression over the text would.
 */

/** Query parameters whose values are credentials (`password`, `pass`, `secret`, `token`, `apikey`, …). */
const SECRET_PARAM = /pass|pwd|secret|token|key|signature|auth|credential/i;

/** `smtp://user:***@mail.example.com:587`: `raw` with nothing secret left in it. */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "(unparseable URL)";
  }
  // An "@" after the host means the parser did not see the whole userinfo: a password with a
  // raw "/", "?" or "#" ends the authority early, and the rest of it reads as path, query or
  // fragment (or the host). Nothing but the scheme of such a URL is safe to show.
  if (`${url.pathname}${url.search}${url.hash}`.includes("@")) {
    return `${url.protocol}//***`;
  }
  const userinfo = url.password ? `${url.username}:***@` : url.username ? `${url.username}@` : "";
  const query = [...url.searchParams.keys()].length
    ? `?${[...url.searchParams]
        .map(
          ([name, value]) =>
            `${encodeURIComponent(name)}=${SECRET_PARAM.test(name) ? "***" : encodeURIComponent(value)}`,
        )
        .join("&")}`
    : "";
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${query}`;
}

/**
 * `raw` without its userinfo, for a URL a browser must still open (an embedded page): browsers
 * refuse frames with credentials in them anyway, and a password in a page's source is shown.
 */
export function withoutCredentials(raw: string): string {
  const url = new URL(raw);
  url.username = "";
  url.password = "";
  return url.toString();
}
