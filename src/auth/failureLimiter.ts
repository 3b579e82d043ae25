/**
 * Counts failed authentication attempts per client address and refuses a client that fails too
 * often (429), so secrets cannot be guessed at line rate. Successful requests are not counted.
 * Kept in memory: each replica limits on its own, which bounds guessing per replica.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    /** Failures allowed per window. */
    private readonly max: number,
    /** Window length in ms. */
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `client` may try again, or 0 when it may try now. */
  retryAfter(client: string): number {
    const entry = this.failures.get(client);
    if (!entry || entry.resetAt <= this.now()) return 0;
    return entry.count >= this.max ? Math.ceil((entry.resetAt - this.now()) / 1000) : 0;
  }

  fail(client: string): void {
    const now = this.now();
    const entry = this.failures.get(client);
    if (!entry || entry.resetAt <= now) {
      if (this.failures.size > 50_000) this.prune(now);
      this.failures.set(client, { count: 1, resetAt: now + this.windowMs });
    } else {
      entry.count += 1;
    }
  }

  private prune(now: number): void {
    for (const [client, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(client);
  }
}
