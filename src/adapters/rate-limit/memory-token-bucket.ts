import type { Clock } from "../../ports/clock.ts";
import type { TokenBucket, TokenBucketLimit } from "../../ports/rate-limiter.ts";
import { assertTake, assertTakeEach, TOKEN_EPSILON } from "./token-bucket-math.ts";

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
 * The tokens in bucket `b` (capacity for a missing one) refilled up to `now`, and the time they are counted at.
 * A clock that stepped back refills nothing rather than draining the bucket, and never moves `at` back.
 */
function refilled(
  b: Bucket | undefined,
  capacity: number,
  perMs: number,
  now: number,
): { tokens: number; at: number } {
  if (b === undefined) return { tokens: capacity, at: now };
  return {
    tokens: now > b.at ? Math.min(capacity, b.tokens + (now - b.at) * perMs) : b.tokens,
    at: Math.max(now, b.at),
  };
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

  /** Checks the call like every adapter, sweeps when due, and gives the limit in the arithmetic's units. */
  function begin(limit: TokenBucketLimit, cost: number): { capacity: number; perMs: number; now: number } {
    assertTake(limit, cost);
    const now = clock.now();
    sweepIfDue(now);
    return { capacity: limit.capacity, perMs: limit.refillPerSecond / 1000, now };
  }

  return {
    get size() {
      return buckets.size;
    },

    async take(key, limit, cost = 1) {
      const { capacity, perMs, now } = begin(limit, cost);
      let { tokens, at } = refilled(buckets.get(key), capacity, perMs, now);
      const allowed = tokens + TOKEN_EPSILON >= cost;
      if (allowed) tokens = Math.max(0, tokens - cost);
      buckets.set(key, { tokens, at, fullAt: at + (capacity - tokens) / perMs });
      return {
        allowed,
        remaining: Math.floor(tokens + TOKEN_EPSILON),
        retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil((cost - tokens) / perMs)),
      };
    },

    async refund(key, limit, cost = 1) {
      const { capacity, perMs, now } = begin(limit, cost);
      const b = buckets.get(key);
      if (b === undefined) return; // a missing bucket is a full one: nothing to credit
      const r = refilled(b, capacity, perMs, now);
      const tokens = Math.min(capacity, r.tokens + cost);
      buckets.set(key, { tokens, at: r.at, fullAt: r.at + (capacity - tokens) / perMs });
    },

    async takeEach(takes) {
      assertTakeEach(takes);
      const now = clock.now();
      sweepIfDue(now);
      const states = takes.map(({ key, limit }) => {
        const perMs = limit.refillPerSecond / 1000;
        return {
          key,
          capacity: limit.capacity,
          perMs,
          ...refilled(buckets.get(key), limit.capacity, perMs, now),
        };
      });
      const refused = states.findIndex((b) => b.tokens + TOKEN_EPSILON < 1);
      for (const b of states) {
        const tokens = refused < 0 ? Math.max(0, b.tokens - 1) : b.tokens;
        buckets.set(b.key, { tokens, at: b.at, fullAt: b.at + (b.capacity - tokens) / b.perMs });
      }
      const short = states[refused];
      return short === undefined
        ? { allowed: true, refused: -1, retryAfterMs: 0 }
        : { allowed: false, refused, retryAfterMs: Math.max(1, Math.ceil((1 - short.tokens) / short.perMs)) };
    },

    async reset(key) {
      buckets.delete(key);
    },
  };
}
