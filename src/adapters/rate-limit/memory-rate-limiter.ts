import type { Clock } from "../../ports/clock.ts";
import type { RateLimiter } from "../../ports/rate-limiter.ts";

/** How often (in clock time) all keys are swept of ended windows, so memory tracks active keys only. */
const SWEEP_INTERVAL_MS = 10_000;

export interface MemoryRateLimiter extends RateLimiter {
  /** Keys currently held, ended windows not yet swept included (for tests of the bound). */
  readonly size: number;
}

/** Fixed-window counters for a single process. A window is open while now < resetAt. */
export function memoryRateLimiter(clock: Clock): MemoryRateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let nextSweepAt = clock.now() + SWEEP_INTERVAL_MS;

  function sweepIfDue(now: number): void {
    if (now < nextSweepAt) return;
    nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [key, w] of windows) if (w.resetAt <= now) windows.delete(key);
  }

  return {
    get size() {
      return windows.size;
    },

    async hit(key, windowMs) {
      if (!Number.isInteger(windowMs) || windowMs <= 0) {
        throw new RangeError(`window must be a positive whole number of ms, got ${windowMs}`);
      }
      const now = clock.now();
      sweepIfDue(now);
      let w = windows.get(key);
      if (w === undefined || w.resetAt <= now) {
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
      }
      w.count++;
      return { count: w.count, resetInMs: w.resetAt - now };
    },

    async peek(key) {
      const now = clock.now();
      sweepIfDue(now);
      const w = windows.get(key);
      if (w === undefined || w.resetAt <= now) return { count: 0, resetInMs: 0 };
      return { count: w.count, resetInMs: w.resetAt - now };
    },

    async reset(key) {
      windows.delete(key);
    },
  };
}
