import { describe, expect, it } from "vitest";
import { ADMIN_FAILURE_LIMITS, type Attempt, FailureLimiter, type Refusal } from "./failureLimiter.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const allowed = (result: Attempt | Refusal): Attempt => {
  if (!result.allowed) throw new Error(`refused for ${result.retryAfterS} s`);
  return result;
};

describe("FailureLimiter", () => {
  it("counts an attempt when it begins, so no more than max run at once, and refuses the rest with Retry-After", () => {
    const time = clock();
    const limiter = new FailureLimiter({ perAddress: { max: 3, windowMs: 60_000 } }, time.now);
    // Three begin before any of them ends: the fourth is refused at once.
    const attempts = [1, 2, 3].map(() => allowed(limiter.begin("10.0.0.1")));
    expect(attempts).toHaveLength(3);
    expect(limiter.begin("10.0.0.1")).toEqual({ allowed: false, retryAfterS: 60 });
    expect(limiter.retryAfterS("10.0.0.1")).toBe(60);
    // Another address is not affected.
    expect(limiter.begin("10.0.0.2").allowed).toBe(true);
    time.advance(45_000);
    expect(limiter.retryAfterS("10.0.0.1")).toBe(15);
    time.advance(15_000);
    expect(limiter.retryAfterS("10.0.0.1")).toBe(0);
    expect(limiter.begin("10.0.0.1").allowed).toBe(true);
  });

  it("gives a succeeded or cancelled attempt back, once", () => {
    const limiter = new FailureLimiter({ perAddress: { max: 2, windowMs: 60_000 } }, clock().now);
    const first = allowed(limiter.begin("a"));
    allowed(limiter.begin("a"));
    expect(limiter.begin("a").allowed).toBe(false);
    first.succeeded();
    first.succeeded(); // a second call gives nothing more back
    const third = allowed(limiter.begin("a"));
    expect(limiter.begin("a").allowed).toBe(false);
    third.cancel();
    expect(limiter.begin("a").allowed).toBe(true);
    expect(limiter.begin("a").allowed).toBe(false);
  });

  it("does not let an attempt of an ended window lower the count of the next", () => {
    const time = clock();
    const limiter = new FailureLimiter({ perAddress: { max: 2, windowMs: 1_000 } }, time.now);
    const old = allowed(limiter.begin("a"));
    time.advance(1_000);
    allowed(limiter.begin("a"));
    allowed(limiter.begin("a"));
    old.succeeded();
    expect(limiter.begin("a").allowed).toBe(false);
  });

  it("limits an account over all addresses, but not an address that logged in to it before", () => {
    const time = clock();
    const limiter = new FailureLimiter(
      {
        perAddress: { max: 10, windowMs: 60_000 },
        perAccount: { max: 5, windowMs: 60_000 },
        trustMs: 3_600_000,
      },
      time.now,
    );
    allowed(limiter.begin("known", "admin")).succeeded();
    for (let i = 0; i < 5; i++) allowed(limiter.begin(`attacker-${i}`, "admin"));
    expect(limiter.begin("a-new-address", "admin")).toEqual({ allowed: false, retryAfterS: 60 });
    // The account limit does not apply to another account, nor to attempts that name none.
    expect(limiter.begin("a-new-address", "someone-else").allowed).toBe(true);
    expect(limiter.begin("a-new-address").allowed).toBe(true);
    // The address that logged in before still may; its own address limit still applies.
    expect(limiter.retryAfterS("known", "admin")).toBe(0);
    for (let i = 0; i < 10; i++) allowed(limiter.begin("known", "admin"));
    expect(limiter.begin("known", "admin").allowed).toBe(false);
    // Trust ends.
    time.advance(3_600_000);
    allowed(limiter.begin("known-2", "admin")).succeeded();
    for (let i = 0; i < 5; i++) allowed(limiter.begin(`attacker-b-${i}`, "admin"));
    time.advance(1);
    expect(limiter.begin("known", "admin").allowed).toBe(false);
    expect(limiter.begin("known-2", "admin").allowed).toBe(true);
  });

  it("has the documented admin limits: 10 per 15 minutes per address, 100 for the account", () => {
    expect(ADMIN_FAILURE_LIMITS.perAddress).toEqual({ max: 10, windowMs: 900_000 });
    expect(ADMIN_FAILURE_LIMITS.perAccount).toEqual({ max: 100, windowMs: 900_000 });
  });
});
