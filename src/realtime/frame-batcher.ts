/** Something holding frames until the next flush. `flush` publishes them, in order, and must not throw. */
export interface Flushable {
  flush(): void;
}

/**
 * Runs the deferred flushes of every room hub of a process: once per event-loop turn when `windowMs` is 0, or
 * `windowMs` after the first event of a window otherwise. One timer serves all hubs.
 *
 * Guarantees: a scheduled flushable is flushed exactly once per `schedule` round (scheduling it again before the
 * flush is a no-op), at the latest `windowMs` plus one loop turn after it was scheduled; flushes run in the order
 * the flushables were first scheduled. A flush that throws is reported to `onError` and does not stop the others.
 *
 * Window 0 flushes with `setImmediate`, not a microtask: a microtask flush runs at the end of the one callback
 * that produced the event and batched nothing in measurement, while `setImmediate` gathers the whole turn.
 * The hubs use it only with a window above 0 (hub-registry.ts says why; docs/benchmarks/optimizations.md).
 */
export class FlushScheduler {
  readonly #due = new Set<Flushable>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #immediate: ReturnType<typeof setImmediate> | null = null;
  #closed = false;

  constructor(
    readonly windowMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(item: Flushable): void {
    if (this.#closed) return;
    this.#due.add(item);
    if (this.#timer !== null || this.#immediate !== null) return;
    if (this.windowMs > 0) this.#timer = setTimeout(() => this.flushAll(), this.windowMs);
    else this.#immediate = setImmediate(() => this.flushAll());
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
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
  }
}
