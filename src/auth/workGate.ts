/**
 * Bounds expensive work (scrypt checks of secrets): at most `concurrency` run at once, at most
 * `queueLimit` wait, and anything beyond is refused at once with `ServerBusy` (503, Retry-After).
 * scrypt runs on libuv's thread pool and takes tens of ms of CPU and 16 MiB each; unbounded, a
 * burst of logins takes every core and thread from the requests that need none (`/health`).
 */
import { availableParallelism } from "node:os";
import { ServerBusy } from "../errors.ts";

export interface WorkGateOptions {
  /** Tasks running at once. Default: half the CPU cores, 1 to 4. */
  concurrency?: number;
  /** Tasks waiting for a turn; more are refused. Default 32. */
  queueLimit?: number;
}

export class WorkGate {
  private readonly concurrency: number;
  private readonly queueLimit: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: WorkGateOptions = {}) {
    this.concurrency =
      options.concurrency ?? Math.min(4, Math.max(1, Math.floor(availableParallelism() / 2)));
    this.queueLimit = options.queueLimit ?? 32;
  }

  /** Runs `task` when a turn is free; throws `ServerBusy` at once when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) throw new ServerBusy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      // Hand the turn straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Tasks running and waiting now (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
