/**
 * xAPI Data §2.3.2 Voided, with Communication §2.1.3: a voided statement is left out of queries
 * and `statementId` reads, and stays readable by `voidedStatementId`; statements targeting it are
 * still returned; a voiding statement cannot target a voiding statement. On PostgreSQL and on
 * the embedded PGlite.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BACKENDS, useXapiBackend } from "../../../test/helpers/xapiBackends.ts";

const ADA = { mbox: "mailto:ada@example.com" };
const BOB = { mbox: "mailto:bob@example.com" };
const COMPLETED = { id: "http://adlnet.gov/expapi/verbs/completed" };
const VOIDED = { id: "http://adlnet.gov/expapi/verbs/voided", display: { "en-US": "voided" } };
const LESSON = { id: "https://lessons.example.com/day-1" };
const voiding = (target: string) => ({
  actor: BOB,
  verb: VOIDED,
  object: { objectType: "StatementRef", id: target },
});

describe.each(BACKENDS)("voiding on %s", (backend) => {
  const x = useXapiBackend(backend);

  const post = (body: unknown) =>
    x.app.inject({
      method: "POST",
      url: "/xapi/statements",
      headers: x.content.headers,
      payload: body as object,
    });
  const get = (query: string) =>
    x.app.inject({ method: "GET", url: `/xapi/statements?${query}`, headers: x.content.headers });
  const ids = async (query: string) => {
    const response = await get(query);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().statements as { id: string }[]).map((s) => s.id);
  };
  const count = async () => (await ids("limit=0")).length;

  it("§2.3.2 a voided statement leaves queries and statementId reads; voidedStatementId still reads it", async () => {
    const [target] = (await post({ actor: ADA, verb: COMPLETED, object: LESSON })).json() as string[];
    const [kept] = (await post({ actor: ADA, verb: COMPLETED, object: LESSON })).json() as string[];
    const [voider] = (await post(voiding(target!))).json() as string[];

    expect(await ids("")).toEqual([voider, kept]);
    // The voider matches Ada through its target (§2.1.3); the target itself is gone.
    expect(await ids(`agent=${encodeURIComponent(JSON.stringify(ADA))}`)).toEqual([voider, kept]);
    expect(await ids(`agent=${encodeURIComponent(JSON.stringify(BOB))}`)).toEqual([voider]);
    expect((await get(`statementId=${target}`)).statusCode).toBe(404);
    const byVoidedId = await get(`voidedStatementId=${target}`);
    expect(byVoidedId.statusCode).toBe(200);
    expect(byVoidedId.json().id).toBe(target);
    // A statement that is not voided is not served by voidedStatementId.
    expect((await get(`voidedStatementId=${kept}`)).statusCode).toBe(404);
    expect((await get(`statementId=${voider}`)).statusCode).toBe(200);
  });

  it("§2.1.3 the voiding statement is returned by the filters its voided target matches", async () => {
    const [target] = (await post({ actor: ADA, verb: COMPLETED, object: LESSON })).json() as string[];
    const [voider] = (await post(voiding(target!))).json() as string[];
    expect(await ids(`activity=${encodeURIComponent(LESSON.id)}`)).toEqual([voider]);
    expect(await ids(`verb=${encodeURIComponent(COMPLETED.id)}`)).toEqual([voider]);
    expect(await ids(`agent=${encodeURIComponent(JSON.stringify(ADA))}`)).toEqual([voider]);
    expect(await ids(`verb=${encodeURIComponent(VOIDED.id)}`)).toEqual([voider]);
  });

  it("§2.3.2 a statement may void one not stored yet; it is voided once it arrives", async () => {
    const later = randomUUID();
    expect((await post(voiding(later))).statusCode).toBe(200);
    expect((await post({ id: later, actor: ADA, verb: COMPLETED, object: LESSON })).statusCode).toBe(200);
    expect((await get(`statementId=${later}`)).statusCode).toBe(404);
    expect((await get(`voidedStatementId=${later}`)).statusCode).toBe(200);
  });

  it("§2.3.2 a voiding statement targeted by one stored before it is not voided: queries still return it", async () => {
    const [target] = (await post({ actor: ADA, verb: COMPLETED, object: LESSON })).json() as string[];
    const voiderId = randomUUID();
    // Sent first, it cannot know that its target will be a voiding statement.
    const [early] = (await post(voiding(voiderId))).json() as string[];
    expect((await post({ id: voiderId, ...voiding(target!) })).statusCode).toBe(200);

    expect((await get(`statementId=${voiderId}`)).statusCode).toBe(200);
    expect(await ids("")).toEqual([voiderId, early]);
    const lesson = `activity=${encodeURIComponent(LESSON.id)}`;
    expect(await ids(lesson)).toEqual([voiderId]);
    expect(await ids(`${lesson}&verb=${encodeURIComponent(VOIDED.id)}`)).toEqual([voiderId]);
    expect(await ids(`${lesson}&verb=${encodeURIComponent(COMPLETED.id)}`)).toEqual([voiderId]);
    expect(await ids(`verb=${encodeURIComponent(VOIDED.id)}`)).toEqual([voiderId, early]);
  });

  it("§2.3.2 a voiding statement cannot target a voiding statement: 400, nothing stored", async () => {
    const [target] = (await post({ actor: ADA, verb: COMPLETED, object: LESSON })).json() as string[];
    const [voider] = (await post(voiding(target!))).json() as string[];
    const before = await count();

    const again = await post(voiding(voider!.toUpperCase()));
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({
      error: "invalid_void",
      details: [{ field: "statement.object.id" }],
    });

    const first = randomUUID();
    const sameRequest = await post([
      { actor: ADA, verb: COMPLETED, object: LESSON },
      { id: first, ...voiding(randomUUID()) },
      voiding(first),
    ]);
    expect(sameRequest.statusCode).toBe(400);
    expect(sameRequest.json()).toMatchObject({
      error: "invalid_void",
      details: [{ field: "statement[2].object.id" }],
    });

    expect(await count()).toBe(before);
    expect((await get(`statementId=${voider}`)).statusCode).toBe(200);
  });
});
