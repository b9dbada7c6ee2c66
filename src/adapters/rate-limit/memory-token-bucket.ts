import type { Clock } from "../../ports/clock.ts";
import type { TokenBucket } from "../../ports/rate-limiter.ts";
import { assertTake, TOKEN_EPSILON } from "./token-bucket-math.ts";

/** How often (in clock time) buckets that have refilled to capacity are dropped. */
const SWEEP_INTERVAL_MS = 10_000;

interface Bucket {
  tokens: number;
  /** Clock time `tokens` was computed at. */
  at: number;
  /** When the bucket will be full again: from then on it can be dropped. */
  fullAt: number;
}

export interface MemoryTokenBucket extends TokenBucket {
  /** Buckets currently held, full ones not yet swept included (for tests of the bound). */
  readonly size: number;
}

/**
 * Token buckets for a single process. A bucket that has refilled to capacity means the same as no bucket, so
 * the periodic sweep drops those and memory tracks active keys only.
 */
export function memoryTokenBucket(clock: Clock): MemoryTokenBucket {
  const buckets = new Map<string, Bucket>();
  let nextSweepAt = clock.now() + SWEEP_INTERVAL_MS;

  function sweepIfDue(now: number): void {
    if (now < nextSweepAt) return;
    nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [key, b] of buckets) if (b.fullAt <= now) buckets.delete(key);
  }

  return {
    get size() {
      return buckets.size;
    },

    async take(key, limit, cost = 1) {
      assertTake(limit, cost);
      const { capacity } = limit;
      const perMs = limit.refillPerSecond / 1000;
      const now = clock.now();
      sweepIfDue(now);
      const b = buckets.get(key);
      let tokens = capacity;
      let at = now;
      if (b !== undefined) {
        // A clock that stepped back refills nothing rather than draining the bucket.
        tokens = now > b.at ? Math.min(capacity, b.tokens + (now - b.at) * perMs) : b.tokens;
        at = Math.max(now, b.at);
      }
      const allowed = tokens + TOKEN_EPSILON >= cost;
      if (allowed) tokens = Math.max(0, tokens - cost);
      buckets.set(key, { tokens, at, fullAt: at + (capacity - tokens) / perMs });
      return {
        allowed,
        remaining: Math.floor(tokens + TOKEN_EPSILON),
        retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil((cost - tokens) / perMs)),
      };
    },

    async reset(key) {
      buckets.delete(key);
    },
  };
}
