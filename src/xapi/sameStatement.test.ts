import { describe, expect, it } from "vitest";
import { sameStatement } from "./sameStatement.ts";

const base = {
  id: "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
  actor: { mbox: "mailto:Ada@Example.com", name: "Ada" },
  verb: { id: "http://adlnet.gov/expapi/verbs/completed", display: { "en-US": "completed" } },
  object: { id: "https://example.com/a", definition: { name: { "en-US": "A" } } },
  result: { duration: "PT1H" },
  timestamp: "2026-03-02T09:30:00+01:00",
  stored: "2026-03-02T08:31:00.000Z",
  authority: { mbox: "mailto:lrs@example.com" },
  version: "1.0.0",
};

describe("sameStatement", () => {
  it("takes a context activity sent alone as the array the LRS stores it in", () => {
    const parent = { id: "https://example.com/course" };
    const asSent = { ...base, context: { contextActivities: { parent } } };
    const asStored = { ...base, context: { contextActivities: { parent: [parent] } } };
    expect(sameStatement(asStored, asSent)).toBe(true);
    expect(
      sameStatement(asStored, { ...base, context: { contextActivities: { parent: [parent, parent] } } }),
    ).toBe(false);
  });

  it("ignores what the LRS sets or may change", () => {
    expect(
      sameStatement(base, {
        ...base,
        actor: { name: "Ada", mbox: "mailto:ada@example.com" },
        verb: { id: base.verb.id, display: { de: "abgeschlossen" } },
        object: { id: base.object.id },
        timestamp: "2026-03-02T08:30:00Z",
        stored: "2026-03-03T00:00:00.000Z",
        authority: { mbox: "mailto:other@example.com" },
        version: "1.0.3",
        attachments: [],
      }),
    ).toBe(true);
  });

  it("ignores a timestamp the LRS assigned (equal to stored)", () => {
    const assigned = { ...base, timestamp: "2026-04-01T00:00:00.000Z", stored: "2026-04-01T00:00:00.000Z" };
    expect(sameStatement(base, assigned)).toBe(true);
  });

  it("compares group members as an unordered list", () => {
    const group = (members: string[]) => ({
      ...base,
      actor: { objectType: "Group", member: members.map((m) => ({ mbox: m })) },
    });
    expect(
      sameStatement(group(["mailto:a@x.org", "mailto:b@x.org"]), group(["mailto:b@x.org", "mailto:a@x.org"])),
    ).toBe(true);
  });

  it("compares durations to 0.01 second, truncating (Data §4.2.7)", () => {
    const timed = (duration: string) => ({ ...base, result: { duration } });
    expect(sameStatement(timed("P1DT12H36M0.12S"), timed("P1DT12H36M0.1237S"))).toBe(true);
    expect(sameStatement(timed("PT1S"), timed("PT1.00S"))).toBe(true);
    expect(sameStatement(timed("PT1.2S"), timed("PT1.209S"))).toBe(true);
    expect(sameStatement(timed("P1DT12H36M0.12S"), timed("P1DT12H36M0.13S"))).toBe(false);
    expect(sameStatement(timed("PT1.99S"), timed("PT2S"))).toBe(false);
  });

  it.each([
    ["another verb", { verb: { id: "http://adlnet.gov/expapi/verbs/failed" } }],
    ["another object", { object: { id: "https://example.com/b" } }],
    ["another result", { result: { duration: "PT60M" } }],
    ["another client timestamp", { timestamp: "2026-03-02T09:31:00+01:00" }],
    ["an added context", { context: { registration: "6690e6c9-3ef0-4ed3-8b37-7f3964730bef" } }],
  ])("tells statements apart by %s", (_, change) => {
    expect(sameStatement(base, { ...base, ...change })).toBe(false);
  });
});
