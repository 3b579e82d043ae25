/**
 * The layering the code relies on (docs/decisions.md, "The completion rule and the data layer"),
 * checked on the source so that it stays true: pages and handlers build no SQL, the completion
 * rule and the names other systems rely on are each written once.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "..", "src");

/** Every non-test .ts file under `dir`, relative to src/. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
    .map((entry) => path.relative(SRC, path.join(entry.parentPath, entry.name)))
    .sort();
}

const text = (file: string) => readFileSync(path.join(SRC, file), "utf8");
const containing = (needle: string | RegExp) =>
  sources().filter((file) =>
    typeof needle === "string" ? text(file).includes(needle) : needle.test(text(file)),
  );

describe("the data layer", () => {
  it("pages and handlers neither import the database client nor build SQL", () => {
    const surface = sources().filter((file) => file.startsWith("ui/") || file.startsWith("routes/"));
    expect(surface.length).toBeGreaterThan(10);
    for (const file of surface) {
      const source = text(file);
      expect(source, file).not.toMatch(/from "(\.\.\/)+db\/client\.ts"/);
      expect(source, file).not.toMatch(/from "drizzle-orm"/);
      expect(source, file).not.toMatch(/\bsql`/);
    }
  });

  it("writes the completion rule once (DESIGN §6)", () => {
    expect(containing(/is_completion and not/)).toEqual(["data/completion.ts"]);
    expect(containing("'mailto:' ||")).toEqual(["data/completion.ts"]);
    expect(containing("completionVerbs.has(")).toEqual(["data/completion.ts"]);
  });

  it("defines each stream, queue and verb name other systems rely on once, in names.ts", () => {
    for (const name of [
      '"xapi:statements"',
      '"xapi:statements:dead"',
      '"cohort-lrs-flatten"',
      '"cohort-lrs-jobs"',
      '"http://adlnet.gov/expapi/verbs/voided"',
    ]) {
      expect(containing(name), name).toEqual(["names.ts"]);
    }
    expect(text("names.ts")).not.toMatch(/^import /m);
  });
});
