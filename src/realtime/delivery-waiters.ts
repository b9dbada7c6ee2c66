interface Waiter {
  readonly seq: number;
  readonly done: () => void;
}

/**
 * Callers waiting for a room's stream to reach a seq on this process (RoomHub.whenDelivered: a RECEIPT that must
 * follow its own message's frame). Guarantees: a wait settles exactly once — when `reached` is called with its seq
 * or a later one, when its timeout passes, or at `releaseAll` — and never rejects.
 */
export class DeliveryWaiters {
  #waiters: Waiter[] = [];

  /** Resolves once `reached(seq or later)` or `releaseAll()` is called, or after `timeoutMs`. */
  wait(seq: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      this.#waiters.push({ seq, done: finish });
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Releases every wait for `seq` or an earlier one. */
  reached(seq: number): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.seq <= seq) w.done();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Releases every wait (the room's stream is closing here). */
  releaseAll(): void {
    for (const w of this.#waiters) w.done();
    this.#waiters = [];
  }
}
