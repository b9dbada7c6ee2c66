import type { BucketTake, TokenBucketLimit } from "../../ports/rate-limiter.ts";

/**
 * Slack for float rounding when comparing token counts: refills like 1/3 token per second accumulate errors
 * around 1e-15, which must not turn "exactly enough" into "one short".
 */
export const TOKEN_EPSILON = 1e-9;

/** Rejects limits and costs no bucket can serve, identically in every adapter. */
export function assertTake(limit: TokenBucketLimit, cost: number): void {
  const { capacity, refillPerSecond } = limit;
  if (!Number.isFinite(capacity) || capacity <= 0)
    throw new RangeError(`capacity must be positive, got ${capacity}`);
  if (!Number.isFinite(refillPerSecond) || refillPerSecond <= 0) {
    throw new RangeError(`refillPerSecond must be positive, got ${refillPerSecond}`);
  }
  if (!Number.isFinite(cost) || cost <= 0) throw new RangeError(`cost must be positive, got ${cost}`);
  if (cost > capacity)
    throw new RangeError(`cost ${cost} exceeds capacity ${capacity}: it could never be taken`);
}

/** Rejects a `takeEach` no adapter may run: no takes, a key given twice, or a limit `assertTake` refuses. */
export function assertTakeEach(takes: readonly BucketTake[]): void {
  if (takes.length === 0) throw new RangeError("takeEach needs at least one bucket");
  const keys = new Set<string>();
  for (const t of takes) {
    assertTake(t.limit, 1);
    if (keys.has(t.key)) throw new RangeError(`bucket ${t.key} given twice`);
    keys.add(t.key);
  }
}
