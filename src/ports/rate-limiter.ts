/**
 * Counters over fixed windows, shared by every process that uses the same adapter (memory: one process;
 * Redis: all). Used for login throttling and per-user send limits.
 */
export interface RateLimiter {
  /**
   * Adds one hit to `key` and returns the count in the current window including this hit, and the milliseconds
   * until the window ends. Atomic: N concurrent hits produce counts 1..N.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** The current count without adding a hit (0 when the window has passed). */
  peek(key: string): Promise<{ count: number; resetInMs: number }>;
  /** Forgets the key (e.g. after a successful login). */
  reset(key: string): Promise<void>;
}
