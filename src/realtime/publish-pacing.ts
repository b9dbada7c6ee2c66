import type { FlushScheduler } from "./frame-batcher.ts";

/**
 * The pace of a busy room's publishes on one process (PARLEY_WS_PACE_MS, PARLEY_WS_PACE_BURST).
 *
 * Why: every publish to a room costs one socket write per local subscriber, whatever it carries, and those writes
 * are most of fan-out's CPU (docs/benchmarks/optimizations.md, "Busy rooms publish at a pace"). A room fed by a
 * group commit every 10 ms would otherwise cost its subscribers 100 writes a second each, one event or many.
 *
 * Guarantees, per room (the caller keeps the room's `tat`, its theoretical next publish time, starting at 0):
 * - a room may publish at once `burst` times in a row; after that, at once again as soon as the publishes it has
 *   made average no more than one per `intervalMs` (the generic cell rate algorithm: one number per room), and in
 *   any case one interval after its last publish (it earns no debt, see `next`);
 * - a room that must not publish at once schedules its batch on `flushes`, a scheduler whose window is
 *   `intervalMs`, so its events wait at most `intervalMs` and whatever else it accepts meanwhile shares the same
 *   WebSocket message;
 * - a room whose events come less often than once per `intervalMs` never waits.
 *
 * `now` is a monotonic clock in milliseconds.
 */
export class PublishPacing {
  readonly #slack: number;

  constructor(
    readonly intervalMs: number,
    readonly burst: number,
    readonly flushes: FlushScheduler,
    readonly now: () => number = () => performance.now(),
  ) {
    if (!(intervalMs > 0)) throw new RangeError("intervalMs must be above 0");
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError("burst must be an integer of at least 1");
    this.#slack = (burst - 1) * intervalMs;
  }

  /** Whether a room whose theoretical next publish time is `tat` may publish at `now` without waiting. */
  allows(tat: number, now: number): boolean {
    return now >= tat - this.#slack;
  }

  /**
   * The room's theoretical next publish time after it published at `now`. It never runs more than `burst`
   * intervals ahead of `now`: a room does not go into debt, so however many events a flood of joins or messages
   * made it publish, one interval after its last publish it may publish at once again.
   */
  next(tat: number, now: number): number {
    return Math.min(Math.max(tat, now) + this.intervalMs, now + this.#slack + this.intervalMs);
  }
}
