/**
 * Text PostgreSQL can store. Two kinds of JavaScript string cannot be: one holding U+0000 (NUL),
 * which neither `text` nor `jsonb` accepts, and one holding an unpaired UTF-16 surrogate
 * (U+D800–U+DFFF without its other half), which is not Unicode at all: `jsonb` refuses its
 * escape, and a `text` parameter silently becomes U+FFFD. Every input is checked for both before
 * it reaches the database (the HTTP hook in `http/storableInput.ts`, the statement validator),
 * so they are refused with 400 and a field name instead of failing a write with 500.
 */

/** NUL, or a surrogate that is not half of a pair (with `u`, a pair is one code point). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is this pattern's purpose.
const UNSTORABLE = /[\u0000\ud800-\udfff]/u;

/** What is wrong with `text`, or undefined when PostgreSQL can store it. */
export function unstorableTextProblem(text: string): string | undefined {
  const found = UNSTORABLE.exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0);
  return code === 0
    ? "must not contain U+0000 (NUL)"
    : `must not contain the unpaired surrogate U+${code.toString(16).toUpperCase()}`;
}

export type PathSegment = string | number;

export interface UnstorableText {
  /** Where, from the root of the value: object keys and array indexes. A key at fault is the last segment. */
  path: PathSegment[];
  message: string;
}

/** A step down from the root; paths share their parents, so a deep value costs no copying. */
interface Step {
  segment: PathSegment;
  up: Step | undefined;
}

function pathOf(step: Step | undefined): PathSegment[] {
  const path: PathSegment[] = [];
  for (let at = step; at; at = at.up) path.push(at.segment);
  return path.reverse();
}

/**
 * Finds the strings and object keys in `value` that PostgreSQL cannot store, in document order,
 * at most `limit` of them. Walks with its own stack, in time linear in the size of `value`
 * whatever its nesting depth.
 */
export function findUnstorableText(value: unknown, limit = 20): UnstorableText[] {
  const found: UnstorableText[] = [];
  type Item = { value: unknown; at: Step | undefined } | { badKey: Step; message: string };
  const stack: Item[] = [{ value, at: undefined }];
  while (stack.length && found.length < limit) {
    const item = stack.pop()!;
    if ("badKey" in item) {
      found.push({ path: pathOf(item.badKey), message: item.message });
      continue;
    }
    const { value: node, at } = item;
    if (typeof node === "string") {
      const message = unstorableTextProblem(node);
      if (message) found.push({ path: pathOf(at), message });
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ value: node[i], at: { segment: i, up: at } });
    } else if (typeof node === "object" && node !== null && !Buffer.isBuffer(node)) {
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, nested] = entries[i]!;
        const step = { segment: key, up: at };
        stack.push({ value: nested, at: step });
        // A bad key is reported where it is met, before the value under it.
        const message = unstorableTextProblem(key);
        if (message) stack.push({ badKey: step, message });
      }
    }
  }
  return found;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A path as a field name: `a.b[0]`, with keys that are not identifiers quoted as JSON
 * (`extensions["http://x"]`), so a NUL or surrogate in a key is shown escaped, never raw.
 */
export function fieldPath(path: PathSegment[], root = ""): string {
  return path.reduce<string>((at, segment) => {
    if (typeof segment === "number") return `${at}[${segment}]`;
    if (!IDENTIFIER.test(segment)) return `${at}[${JSON.stringify(segment)}]`;
    return at ? `${at}.${segment}` : segment;
  }, root);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing NUL is this pattern's purpose.
const UNSTORABLE_ALL = /[\u0000\ud800-\udfff]/gu;

/**
 * `text` made storable, for what is kept as evidence rather than refused (the log of refused
 * xAPI requests): a NUL becomes U+2400 (␀, the symbol for NUL, so a reader still sees where it
 * was), an unpaired surrogate U+FFFD (the replacement character). Anything else is unchanged.
 */
export function storableText(text: string): string {
  return UNSTORABLE.test(text)
    ? text.replace(UNSTORABLE_ALL, (found) => (found === "\u0000" ? "\u2400" : "\ufffd"))
    : text;
}
