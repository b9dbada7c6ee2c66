/** Something holding frames until the next flush. `flush` publishes them, in order, and must not throw. */
export interface Flushable {
  flush(): void;
}

/**
 * Runs the deferred flushes of every room hub of a process: at the end of the current task when `windowMs` is 0,
 * or `windowMs` after the first event of a window otherwise. One microtask or one timer serves all hubs.
 *
 * Guarantees: a scheduled flushable is flushed exactly once per `schedule` round (scheduling it again before the
 * flush is a no-op), at the latest `windowMs` plus one loop turn after it was scheduled; flushes run in the order
 * the flushables were first scheduled. A flush that throws is reported to `onError` and does not stop the others.
 *
 * Window 0 flushes in a microtask: after the synchronous run that scheduled it (one broker delivery run, one
 * commit's continuations) and before the event loop handles anything else, so it adds no latency and gathers what
 * that run delivered: the messages of one group commit, which a pipelining sender fills with many of one room
 * (docs/benchmarks/optimizations.md, "A room's events of one task in one message"). Deferring to `setImmediate`
 * instead delays every publish by a loop iteration, which raised p99 when it was measured ("Coalescing room
 * frames per subscriber topic" in the same document).
 */
export class FlushScheduler {
  readonly #due = new Set<Flushable>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #microtask = false;
  #closed = false;
  readonly #flushFromMicrotask = (): void => {
    if (this.#microtask) this.flushAll();
  };

  constructor(
    readonly windowMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(item: Flushable): void {
    if (this.#closed) return;
    this.#due.add(item);
    if (this.#timer !== null || this.#microtask) return;
    if (this.windowMs > 0) {
      this.#timer = setTimeout(() => this.flushAll(), this.windowMs);
    } else {
      this.#microtask = true;
      queueMicrotask(this.#flushFromMicrotask);
    }
  }

  /** Flushes everything scheduled so far, now. */
  flushAll(): void {
    this.#disarm();
    if (this.#due.size === 0) return;
    const due = [...this.#due];
    this.#due.clear();
    for (const item of due) {
      try {
        item.flush();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Drops what is scheduled without flushing it; later `schedule` calls are ignored. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    this.#due.clear();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#microtask = false;
  }
}
