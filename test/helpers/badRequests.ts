/**
 * Generated bad xAPI requests (fast-check): statements each made invalid in one way, with the
 * field the error must name, and bodies that are not statements at all. The bad-input test sends
 * them to check each is refused; the bad-input benchmark sends them to watch the heap. No vitest
 * here: the benchmark uses it.
 */
import fc from "fast-check";
import { statement } from "./xapi.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sets `value` at `path` in a copy of `target` (or deletes the key when `value` is undefined). */
export function setAt(target: Json, path: string[], value: Json | undefined): Json {
  const copy = structuredClone(target) as { [key: string]: Json };
  let node: { [key: string]: Json } = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as { [key: string]: Json };
  }
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function nest(depth: number): Json {
  let value: Json = "deep";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const base = statement() as unknown as Json;

/** Mutations that each make a statement invalid, with the path the error must name. */
export const invalidStatement: fc.Arbitrary<{ body: Json; names: string }> = fc.oneof(
  fc
    .constantFrom("actor", "verb", "object")
    .map((key) => ({ body: setAt(base, [key], undefined), names: key })),
  fc
    .tuple(
      fc.constantFrom<string[]>(
        ["actor"],
        ["verb"],
        ["object"],
        ["result"],
        ["verb", "id"],
        ["object", "id"],
        ["actor", "mbox"],
      ),
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })),
    )
    .map(([path, value]) => ({ body: setAt(base, path, value), names: path.join(".") })),
  fc
    .string({ minLength: 0, maxLength: 20 })
    .filter((text) => !/^[a-z][a-z0-9+.-]*:\S+$/i.test(text))
    .map((iri) => ({ body: setAt(base, ["verb", "id"], iri), names: "verb.id" })),
  fc.string({ maxLength: 30 }).map((mbox) => ({
    body: setAt(base, ["actor"], { mbox: `x${mbox.replace(/^mailto:/, "")}` }),
    names: "actor.mbox",
  })),
  fc.constant({
    body: setAt(base, ["actor"], { mbox: "mailto:a@example.com", openid: "https://id.example.com/a" }),
    names: "actor",
  }),
  fc
    .string({ maxLength: 40 })
    .filter((id) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    .map((id) => ({ body: setAt(base, ["id"], id), names: "id" })),
  fc
    .constantFrom(
      "yesterday",
      "2026-13-01T00:00:00Z",
      "2026-02-30T10:00:00Z",
      "2026-03-02",
      "2026-03-02T10:00:00-00:00",
    )
    .map((t) => ({ body: setAt(base, ["timestamp"], t), names: "timestamp" })),
  fc
    .constantFrom("12 minutes", "PT", "P1H", "T10M", "-PT1M")
    .map((d) => ({ body: setAt(base, ["result", "duration"], d), names: "result.duration" })),
  fc
    .oneof(
      fc.double({ min: 1.0001, max: 1e6, noNaN: true }),
      fc.double({ min: -1e6, max: -1.0001, noNaN: true }),
    )
    .map((scaled) => ({
      body: setAt(base, ["result", "score"], { scaled }),
      names: "result.score.scaled",
    })),
  fc
    .tuple(
      fc.constantFrom([], ["actor"], ["verb"], ["object"], ["result"], ["object", "definition"]),
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => /^[a-z]\w*$/i.test(k)),
    )
    .filter(
      ([path, key]) =>
        ![
          "id",
          "actor",
          "verb",
          "object",
          "result",
          "context",
          "timestamp",
          "stored",
          "authority",
          "version",
          "attachments",
          "objectType",
          "name",
          "mbox",
          "mbox_sha1sum",
          "openid",
          "account",
          "display",
          "definition",
          "score",
          "success",
          "completion",
          "response",
          "duration",
          "extensions",
          "description",
          "type",
          "moreInfo",
          "interactionType",
          "correctResponsesPattern",
          "choices",
          "scale",
          "source",
          "target",
          "steps",
          "member",
        ].includes(key) ||
        (path.length === 0 && key === "unknown"),
    )
    .map(([path, key]) => ({ body: setAt(base, [...path, key], "surprise"), names: key })),
  fc.integer({ min: 40, max: 2_000 }).map((depth) => ({
    body: setAt(base, ["result", "extensions"], { "https://x.example/e": nest(depth) }),
    names: "extensions",
  })),
  fc.array(fc.constant(base), { minLength: 1, maxLength: 5 }).chain((good) =>
    fc.integer({ min: 0, max: good.length }).map((at) => {
      const batch = [...good] as Json[];
      batch.splice(at, 0, setAt(base, ["verb"], undefined));
      return { body: batch, names: `statement[${at}].verb` };
    }),
  ),
);

/** Bodies that are not statements at all: wrong types, truncated or non-UTF-8 JSON, other media. */
export const brokenRequest: fc.Arbitrary<{ payload: string | Buffer; contentType: string }> = fc.oneof(
  fc
    .jsonValue()
    .filter((v) => typeof v !== "object" || v === null || (Array.isArray(v) && v.length === 0))
    .map((v) => ({ payload: JSON.stringify(v), contentType: "application/json" })),
  fc
    .integer({ min: 1, max: 200 })
    .map((cut) => ({ payload: JSON.stringify(base).slice(0, cut), contentType: "application/json" })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({
    payload: Buffer.concat([
      Buffer.from('{"actor": "'),
      Buffer.from([0xff, 0xfe, ...bytes]),
      Buffer.from('"}'),
    ]),
    contentType: "application/json",
  })),
  fc
    .constantFrom(
      "text/plain",
      "application/xml",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
    )
    .map((contentType) => ({ payload: JSON.stringify(base), contentType })),
  fc.constant({
    payload: JSON.stringify({
      ...(base as object),
      verb: { id: "https://x.example/v", display: { en: "x".repeat(300_000) } },
    }),
    contentType: "application/json",
  }),
);
