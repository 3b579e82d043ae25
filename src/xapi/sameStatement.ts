/**
 * Statement comparison (xAPI Data §2.3.1): two statements with one id "match" when they differ
 * only where the LRS may change a statement. Ignored: `id`, `authority`, `stored`, `version`,
 * `timestamp` when the LRS may have assigned it (a timestamp equal to its statement's `stored` is
 * the LRS's; two client timestamps are compared as instants, whatever their time zone),
 * verb `display`, activity `definition`s, `attachments`, the order of group members, the case
 * of mailbox addresses, whether a context activity came alone or in an array, and a duration's
 * precision beyond 0.01 second (Data §4.2.7: `PT0.1237S` matches `PT0.12S`). Everything else must
 * be equal.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function canonical(value: Json, key?: string): Json {
  if (Array.isArray(value)) {
    const items = value.map((item) => canonical(item));
    // Group members are an unordered list.
    return key === "member"
      ? items
          .map((item) => JSON.stringify(item))
          .sort()
          .map((item) => JSON.parse(item))
      : items;
  }
  if (value === null || typeof value !== "object") {
    if (typeof value !== "string") return value;
    if (key === "mbox") return value.toLowerCase();
    if (key === "duration") return hundredths(value);
    return value;
  }
  const out: { [key: string]: Json } = {};
  for (const name of Object.keys(value).sort()) {
    if (name === "definition" || name === "display") continue;
    // Context activities sent as one object are stored as an array of it (Data §2.4.6.2).
    const item = value[name]!;
    const listed = key === "contextActivities" && !Array.isArray(item) && item !== null ? [item] : item;
    out[name] = canonical(listed, name);
  }
  return out;
}

/** A duration with its seconds truncated to hundredths: `PT1.2S`, `PT1.20S`, `PT1.209S` alike. */
function hundredths(duration: string): string {
  return duration.replace(/(\d+)(?:\.(\d*))?S$/, (_all, whole: string, fraction = "") => {
    return `${whole}.${`${fraction}00`.slice(0, 2)}S`;
  });
}

function comparable(statement: object, keepTimestamp: boolean): Json {
  const {
    id: _id,
    authority: _a,
    stored: _s,
    version: _v,
    attachments: _t,
    timestamp,
    ...rest
  } = statement as Record<string, unknown>;
  const body = canonical(rest as Json) as { [key: string]: Json };
  if (keepTimestamp && typeof timestamp === "string") body.timestamp = new Date(timestamp).getTime();
  return body;
}

/** True when the statement's timestamp was given by the client (not assigned at `stored`). */
function clientTimestamp(statement: object): boolean {
  const { timestamp, stored } = statement as { timestamp?: unknown; stored?: unknown };
  return typeof timestamp === "string" && timestamp !== stored;
}

/** True when `incoming` may be accepted as the already stored `existing`. */
export function sameStatement(existing: object, incoming: object): boolean {
  const compareTimestamps = clientTimestamp(existing) && clientTimestamp(incoming);
  return (
    JSON.stringify(comparable(existing, compareTimestamps)) ===
    JSON.stringify(comparable(incoming, compareTimestamps))
  );
}
