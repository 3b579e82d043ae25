/**
 * Limits failed authentication per client address, and optionally per account, so secrets cannot
 * be guessed at line rate (DESIGN §11). Terminology:
 *
 * - an **attempt** is one check of a secret. It is counted *before* the check, as a failure
 *   (`begin()` reserves it); `succeeded()` gives it back. So however many requests arrive at once,
 *   at most `max` checks per window can ever run for one address: the count and the decision are
 *   one synchronous step, with nothing awaited in between.
 * - a **window** is fixed: it starts at an address's first attempt and lasts `windowMs`; when it
 *   is full, the address is refused (429) until it ends.
 * - the **account** tier (for the admin password, which every address guesses at) bounds guessing
 *   spread over many addresses. So that such a flood cannot lock the operator out, an address that
 *   authenticated as the account within `trustMs` is *trusted*: a full account window does not
 *   refuse it (its own address window still does).
 *
 * Kept in memory: each process limits on its own, so N api replicas allow N times the numbers.
 */

/** A limit: `max` failed attempts per `windowMs`. */
export interface FailureRule {
  max: number;
  windowMs: number;
}

export interface FailureLimits {
  perAddress: FailureRule;
  /** Failures of one account from every address together; unset: no account limit. */
  perAccount?: FailureRule;
  /** How long a successful login trusts its address for the account limit, in ms. Default 30 days. */
  trustMs?: number;
}

/** An attempt counted as failed until it `succeeded()`. */
export interface Attempt {
  readonly allowed: true;
  /** The secret was right: the attempt is not a failure after all (and the address is trusted). */
  succeeded(): void;
  /** The check could not run (the server was busy): the attempt is given back, nothing trusted. */
  cancel(): void;
}

/** The address (or the account) has failed too often: try again in `retryAfterS` seconds. */
export interface Refusal {
  readonly allowed: false;
  readonly retryAfterS: number;
}

interface Window {
  count: number;
  resetAt: number;
}

const DEFAULT_TRUST_MS = 30 * 24 * 60 * 60_000;
/** Above this many tracked keys, expired ones are dropped. */
const PRUNE_ABOVE = 50_000;

class Windows {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly rule: FailureRule,
    private readonly now: () => number,
  ) {}

  /** Seconds until `key` may be counted again, or 0 when it may now. */
  retryAfterS(key: string): number {
    const window = this.windows.get(key);
    const now = this.now();
    if (!window || window.resetAt <= now || window.count < this.rule.max) return 0;
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  /** Counts one for `key`; returns the window it was counted in. Check `retryAfterS` first. */
  add(key: string): Window {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > PRUNE_ABOVE) this.prune(now);
      window = { count: 0, resetAt: now + this.rule.windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window;
  }

  /** Takes back one count, if `window` is still the key's current one. */
  remove(key: string, window: Window): void {
    if (this.windows.get(key) === window && window.count > 0) window.count -= 1;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

export class FailureLimiter {
  private readonly addresses: Windows;
  private readonly accounts: Windows | undefined;
  /** `account\u0000address` → until when that address is trusted for the account. */
  private readonly trusted = new Map<string, number>();
  private readonly trustMs: number;

  constructor(
    limits: FailureLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.addresses = new Windows(limits.perAddress, now);
    this.accounts = limits.perAccount ? new Windows(limits.perAccount, now) : undefined;
    this.trustMs = limits.trustMs ?? DEFAULT_TRUST_MS;
  }

  /**
   * Seconds until `address` (guessing at `account`) may try again, or 0 when it may try now.
   * Counts nothing: for requests that will not run a check of their own.
   */
  retryAfterS(address: string, account?: string): number {
    const byAddress = this.addresses.retryAfterS(address);
    if (byAddress > 0 || account === undefined || !this.accounts) return byAddress;
    return this.isTrusted(account, address) ? 0 : this.accounts.retryAfterS(account);
  }

  /**
   * Before checking a secret: counts the attempt as failed for the address (and the account), or
   * refuses it when a window is full. Call `succeeded()` on the attempt when the secret was right.
   */
  begin(address: string, account?: string): Attempt | Refusal {
    const retryAfterS = this.retryAfterS(address, account);
    if (retryAfterS > 0) return { allowed: false, retryAfterS };
    const addressWindow = this.addresses.add(address);
    const accounts = account === undefined ? undefined : this.accounts;
    const accountWindow = accounts?.add(account!);
    let settled = false;
    const giveBack = () => {
      if (settled) return false;
      settled = true;
      this.addresses.remove(address, addressWindow);
      if (accountWindow) accounts!.remove(account!, accountWindow);
      return true;
    };
    return {
      allowed: true,
      succeeded: () => {
        if (giveBack() && account !== undefined && this.accounts) this.trust(account, address);
      },
      cancel: () => {
        giveBack();
      },
    };
  }

  private isTrusted(account: string, address: string): boolean {
    const until = this.trusted.get(`${account}\u0000${address}`);
    return until !== undefined && until > this.now();
  }

  private trust(account: string, address: string): void {
    const now = this.now();
    if (this.trusted.size > PRUNE_ABOVE) {
      for (const [key, until] of this.trusted) if (until <= now) this.trusted.delete(key);
      if (this.trusted.size > PRUNE_ABOVE) this.trusted.clear();
    }
    this.trusted.set(`${account}\u0000${address}`, now + this.trustMs);
  }
}

/**
 * xAPI credentials: 20 failed attempts a minute per client address. No account (key) limit: a
 * key is no secret (it sits in lesson pages' JavaScript), so a key limit would let anyone lock
 * every learner of a course out; a generated secret has 192 bits and cannot be guessed anyway.
 */
export const XAPI_FAILURE_LIMITS: FailureLimits = { perAddress: { max: 20, windowMs: 60_000 } };

/**
 * The admin password, whether sent to the login form, as HTTP Basic or as Bearer (one limiter for
 * all three): 10 failed attempts per 15 minutes per address, and 100 per 15 minutes for the admin
 * account from all addresses together (addresses that logged in within 30 days are exempt from
 * the latter).
 */
export const ADMIN_FAILURE_LIMITS: FailureLimits = {
  perAddress: { max: 10, windowMs: 15 * 60_000 },
  perAccount: { max: 100, windowMs: 15 * 60_000 },
  trustMs: DEFAULT_TRUST_MS,
};
