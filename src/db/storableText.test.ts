import { describe, expect, it } from "vitest";
import { fieldPath, findUnstorableText, storableText, unstorableTextProblem } from "./storableText.ts";

describe("unstorableTextProblem", () => {
  it.each([
    ["plain text", "Ada Lovelace", undefined],
    ["an emoji (a surrogate pair)", "🎓 done", undefined],
    ["text in other scripts", "Ærøskøbing — 東京", undefined],
    ["a NUL", "a\u0000b", "must not contain U+0000 (NUL)"],
    ["a lone high surrogate", "a\ud83d", "must not contain the unpaired surrogate U+D83D"],
    ["a lone low surrogate", "\ude00a", "must not contain the unpaired surrogate U+DE00"],
    ["a pair written backwards", "\ude00\ud83d", "must not contain the unpaired surrogate U+DE00"],
  ])("%s", (_, text, problem) => {
    expect(unstorableTextProblem(text)).toBe(problem);
  });
});

describe("findUnstorableText", () => {
  it("names strings and keys in document order, a bad key before the value under it", () => {
    const value = {
      name: "ok",
      list: ["fine", "bad\u0000", { "k\ud800": "also\u0000bad" }],
      after: "\udc00",
    };
    expect(findUnstorableText(value)).toEqual([
      { path: ["list", 1], message: "must not contain U+0000 (NUL)" },
      { path: ["list", 2, "k\ud800"], message: "must not contain the unpaired surrogate U+D800" },
      { path: ["list", 2, "k\ud800"], message: "must not contain U+0000 (NUL)" },
      { path: ["after"], message: "must not contain the unpaired surrogate U+DC00" },
    ]);
  });

  it("finds nothing in numbers, booleans, nulls and clean text", () => {
    expect(findUnstorableText({ a: [1, true, null, "x", { b: 2.5 }] })).toEqual([]);
    expect(findUnstorableText(undefined)).toEqual([]);
  });

  it("stops at the limit", () => {
    expect(
      findUnstorableText(
        Array.from({ length: 100 }, () => "\u0000"),
        20,
      ),
    ).toHaveLength(20);
  });

  it("walks a value nested 200,000 levels deep without overflowing the stack", () => {
    let value: unknown = "bottom\u0000";
    for (let i = 0; i < 200_000; i++) value = [value];
    const [found] = findUnstorableText(value);
    expect(found!.path).toHaveLength(200_000);
  });
});

describe("fieldPath", () => {
  it("writes identifiers with dots, indexes in brackets, and other keys as JSON strings", () => {
    expect(fieldPath(["actor", "name"])).toBe("actor.name");
    expect(fieldPath([2, "result", "extensions", "http://x.example/e", 0], "statement")).toBe(
      'statement[2].result.extensions["http://x.example/e"][0]',
    );
    expect(fieldPath(["cohortId"], "query")).toBe("query.cohortId");
    expect(fieldPath(["k\u0000"])).toBe('["k\\u0000"]');
  });
});

describe("storableText", () => {
  it.each([
    ["plain text and pairs unchanged", "Ada 🎓 東京", "Ada 🎓 東京"],
    ["every NUL as ␀", "a\u0000b\u0000", "a\u2400b\u2400"],
    ["lone surrogates as U+FFFD", "\ud83d x \ude00", "\ufffd x \ufffd"],
    ["a pair written backwards as two U+FFFD", "\ude00\ud83d", "\ufffd\ufffd"],
  ])("%s", (_, text, stored) => {
    expect(storableText(text)).toBe(stored);
    expect(unstorableTextProblem(storableText(text))).toBeUndefined();
  });
});
