/** The query keys of a statement (Communication §2.1.3: which parts each filter matches). */

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { agentIdentity, hashKey, indexKey, keyText, statementIndexKeys } from "./statementIndexKeys.ts";

/** An independent spelling of the key hash, to pin its format. */
const hashOf = (text: string) =>
  createHash("sha256")
    .update(text, "utf8")
    .digest("hex")
    .slice(0, 32)
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

import type { Statement } from "./validateStatement.ts";

describe("statementIndexKeys", () => {
  it("gives direct keys for actor, verb, object and registration, and related keys for the rest", () => {
    const statement = {
      actor: { mbox: "mailto:Ada@Example.com" },
      verb: { id: "http://adlnet.gov/expapi/verbs/completed" },
      object: { id: "https://lessons.example.com/a" },
      context: {
        registration: "6F0C7BB5-6E0A-4A8B-9D1E-2B8C9F6A1D10",
        team: { objectType: "Group", openid: "https://team.example.com" },
        contextActivities: { category: { id: "https://profiles.example.com/p" } },
      },
      authority: {
        objectType: "Group",
        member: [
          { account: { homePage: "https://oauth.example.com", name: "app" } },
          { mbox: "mailto:u@example.com" },
        ],
      },
    } as Statement;
    expect(statementIndexKeys(statement).sort()).toEqual(
      [
        "agent:Agent|mbox=mailto:ada@example.com",
        "related_agent:Agent|mbox=mailto:ada@example.com",
        "verb:http://adlnet.gov/expapi/verbs/completed",
        "activity:https://lessons.example.com/a",
        "related_activity:https://lessons.example.com/a",
        "registration:6f0c7bb5-6e0a-4a8b-9d1e-2b8c9f6a1d10",
        "related_agent:Group|openid=https://team.example.com",
        "related_activity:https://profiles.example.com/p",
        "related_agent:Agent|account=https://oauth.example.com app",
        "related_agent:Agent|mbox=mailto:u@example.com",
      ].sort(),
    );
  });

  it("gives a SubStatement's parts as related keys only, and a StatementRef nothing of its target", () => {
    const sub = statementIndexKeys({
      actor: { mbox: "mailto:a@example.com" },
      verb: { id: "urn:verb:planned" },
      object: {
        objectType: "SubStatement",
        actor: { mbox: "mailto:b@example.com" },
        verb: { id: "urn:verb:attend" },
        object: { id: "urn:activity:x" },
      },
    } as Statement);
    expect(sub).toContain("related_agent:Agent|mbox=mailto:b@example.com");
    expect(sub).toContain("related_activity:urn:activity:x");
    expect(sub).not.toContain("agent:Agent|mbox=mailto:b@example.com");
    expect(sub).not.toContain("verb:urn:verb:attend");
    expect(sub).not.toContain("activity:urn:activity:x");

    const ref = statementIndexKeys({
      actor: { mbox: "mailto:a@example.com" },
      verb: { id: "urn:verb:liked" },
      object: { objectType: "StatementRef", id: "6f0c7bb5-6e0a-4a8b-9d1e-2b8c9f6a1d10" },
    } as Statement);
    expect(ref.sort()).toEqual(
      [
        "agent:Agent|mbox=mailto:a@example.com",
        "related_agent:Agent|mbox=mailto:a@example.com",
        "verb:urn:verb:liked",
      ].sort(),
    );
  });

  it("stores every key as the first 128 bits of its SHA-256 (a uuid), as SQL computes it too", () => {
    const long = `https://lessons.example.com/${"x".repeat(2_000)}`;
    const key = indexKey("activity", long);
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(key).toBe(hashKey(keyText("activity", long)));
    expect(
      statementIndexKeys({
        actor: { mbox: "mailto:a@example.com" },
        verb: { id: "urn:v" },
        object: { id: long },
      } as Statement).map(hashKey),
    ).toContain(key);
    // sha256("verb:urn:v") = 116dc3adb61e4feee1b864b296385c00…: the uuid is its first 32 hex digits.
    expect(hashKey("verb:urn:v")).toBe("116dc3ad-b61e-4fee-e1b8-64b296385c00");
    expect(hashKey("verb:urn:v")).toBe(hashOf("verb:urn:v"));
    expect(indexKey("verb", "urn:v")).not.toBe(indexKey("activity", "urn:v"));
  });

  it("tells an Agent from a Group with the same identifier, and has no identity for an anonymous Group", () => {
    expect(agentIdentity({ mbox: "mailto:t@example.com" })).not.toBe(
      agentIdentity({ objectType: "Group", mbox: "mailto:t@example.com" }),
    );
    expect(
      agentIdentity({ objectType: "Group", member: [{ mbox: "mailto:t@example.com" }] }),
    ).toBeUndefined();
  });
});
