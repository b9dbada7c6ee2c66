/**
 * Counters over fixed windows, shared by every process that uses the same adapter (memory: one process;
 * Redis: all). Used for login throttling and other per-key budgets counted in hits per window.
 * Adapters: in-process and Redis; both pass test/contract/rate-limiter.contract.ts.
 */
export interface RateLimiter {
  /**
   * Adds one hit to `key` and returns the count in the current window including this hit, and the milliseconds
   * until the window ends. The window starts with the first hit after the previous one ended and lasts
   * `windowMs`; a later hit with a different `windowMs` does not move it. Atomic: N concurrent hits on one key,
   * from any number of processes, produce counts 1..N.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** The current count without adding a hit ({ count: 0, resetInMs: 0 } when no window is open). */
  peek(key: string): Promise<{ count: number; resetInMs: number }>;
  /** Forgets the key (e.g. after a successful login). Idempotent. */
  reset(key: string): Promise<void>;
}

/**
 * Token buckets: a steady rate with bounded bursts, for limits like "messages per second per user" where a
 * fixed window would allow twice the rate across a window edge. A bucket holds up to `capacity` tokens, starts
 * full, and regains `refillPerSecond` tokens per second (continuously, fractions included). Buckets are shared
 * like RateLimiter counters (memory: one process; Redis: all) and pass the same contract file.
 */
export interface TokenBucket {
  /**
   * Takes `cost` tokens (default 1) from the bucket `key` if it holds that many, else takes nothing.
   * Atomic: of concurrent takes on one bucket, from any number of processes, exactly as many succeed as the
   * tokens allow. A key's limit is whatever the caller passes on each call; callers keep it constant per key.
   * Throws RangeError if `cost` exceeds `capacity` (such a take could never succeed) or a number is not
   * positive and finite.
   */
  take(key: string, limit: TokenBucketLimit, cost?: number): Promise<TokenBucketResult>;
  /**
   * Gives back `cost` tokens (default 1) that a successful `take` on `key` with the same limit charged for work
   * that then did not happen (e.g. a send the store refused), so only work done spends the budget. The bucket is
   * refilled to now first, then credited, and never holds more than `capacity`: a refund to a full or missing
   * bucket changes nothing. Atomic like `take`. Throws the same RangeErrors as `take`.
   */
  refund(key: string, limit: TokenBucketLimit, cost?: number): Promise<void>;
  /**
   * Takes one token from each of `takes` (distinct keys, each with its limit) if every one of them holds it, else
   * takes none: work checked against several budgets (a sender's and a room's) spends from none when any
   * refuses. Atomic like `take`, across all the buckets, and one round trip on a shared store. Throws the same
   * RangeErrors as `take`, and RangeError for no takes or a key given twice.
   */
  takeEach(takes: readonly BucketTake[]): Promise<TakeEachResult>;
  /** Refills the bucket to capacity (forgets it). Idempotent. */
  reset(key: string): Promise<void>;
}

export interface BucketTake {
  readonly key: string;
  readonly limit: TokenBucketLimit;
}

export interface TakeEachResult {
  readonly allowed: boolean;
  /** -1 when allowed; otherwise the position in `takes` of the first bucket without a token. */
  readonly refused: number;
  /** 0 when allowed; otherwise the milliseconds until that bucket has its token (rounded up). */
  readonly retryAfterMs: number;
}

export interface TokenBucketLimit {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface TokenBucketResult {
  readonly allowed: boolean;
  /** Whole tokens left after this call. */
  readonly remaining: number;
  /** 0 when allowed; otherwise the milliseconds until `cost` tokens will be available (rounded up). */
  readonly retryAfterMs: number;
}
