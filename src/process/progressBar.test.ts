import { describe, expect, it } from "vitest";
import { progressLine } from "./progressBar.ts";

describe("progressLine", () => {
  it("draws the bar, the percentage, the counts and the rate", () => {
    expect(progressLine(45, 100, 1_000, 10)).toBe("[#####-----]  45%  45/100 rows  45 rows/s");
    expect(progressLine(27_000, 27_000, 3_000, 4)).toBe("[####] 100%  27,000/27,000 rows  9,000 rows/s");
  });

  it("copes with an empty backlog and a zero elapsed time", () => {
    expect(progressLine(0, 0, 0, 4)).toBe("[####] 100%  0/0 rows  0 rows/s");
  });
});
