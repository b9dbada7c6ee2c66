import type { CommitObserver } from "../../../ports/commit-timing.ts";
import { reportCommit } from "../report-commit.ts";

/** The result of one call within a batch: its own value or its own error. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * Commits one batch and answers for each of its inputs, in order. It must resolve only once everything the
 * batch wrote is committed; rejecting means no input of the batch has an outcome of its own (e.g. the
 * connection was lost), and every call of the batch rejects with that error.
 */
export type CommitBatch<In, Out> = (batch: readonly In[]) => Promise<readonly Outcome<Out>[]>;

export interface GroupCommitOptions {
  /** Most calls one batch carries; more wait for the next batch. */
  readonly maxBatch: number;
  /** Most batches committing at once (each holds one pooled connection while it runs). */
  readonly maxInFlight: number;
  /** Hears every batch's timing (ports/commit-timing.ts). */
  readonly onCommit?: CommitObserver;
}

/** How many batches were committed and how many calls they carried (for profiling and tests). */
export interface GroupCommitStats {
  readonly batches: number;
  readonly calls: number;
}

interface Pending<In, Out> {
  readonly input: In;
  readonly resolve: (value: Out) => void;
  readonly reject: (error: unknown) => void;
  /** performance.now() when the call was submitted. */
  readonly at: number;
}

/**
 * Group commit: calls made before the event loop's next turn, and calls made while every batch slot is busy,
 * are queued and handed to `commit` together. Guarantees, per call:
 * - its promise settles only when its batch's `commit` has settled — so with a `commit` that resolves after
 *   COMMIT, nothing is acknowledged before it is committed;
 * - it settles with its own outcome: one call failing does not fail the others of its batch (that is
 *   `commit`'s job to arrange; if `commit` itself rejects, the whole batch rejects with that error);
 * - batches are formed and started in call order, and a batch never holds more than `maxBatch` calls;
 * - at most `maxInFlight` batches run at once; the queue is never starved: whenever a batch finishes, the
 *   next turn starts the next one.
 * The flush runs on `setImmediate`, not a microtask, so that callers woken by separate I/O callbacks of the
 * same turn (socket reads, the previous batch's results) all join one batch.
 */
export class GroupCommit<In, Out> {
  readonly #commit: CommitBatch<In, Out>;
  readonly #options: GroupCommitOptions;
  #queue: Pending<In, Out>[] = [];
  #scheduled = false;
  #inFlight = 0;
  #batches = 0;
  #calls = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(commit: CommitBatch<In, Out>, options: GroupCommitOptions) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1))
      throw new RangeError("maxBatch and maxInFlight must be at least 1");
    this.#commit = commit;
    this.#options = options;
  }

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject, at: performance.now() });
      this.#schedule();
    });
  }

  /**
   * Resolves once every call submitted so far has settled (queue empty, no batch in flight). A store closes only
   * after this, so what was queued at shutdown is committed (or rejected) rather than cut off with the pool.
   */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  get stats(): GroupCommitStats {
    return { batches: this.#batches, calls: this.#calls };
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#options.maxInFlight || this.#queue.length === 0) return;
    this.#scheduled = true;
    const dueAt = performance.now();
    setImmediate(() => {
      this.#scheduled = false;
      const lateMs = performance.now() - dueAt;
      while (this.#inFlight < this.#options.maxInFlight && this.#queue.length > 0) {
        const batch = this.#queue.slice(0, this.#options.maxBatch);
        this.#queue = this.#queue.slice(batch.length);
        this.#inFlight++;
        void this.#run(batch, lateMs);
      }
    });
  }

  async #run(batch: readonly Pending<In, Out>[], lateMs: number): Promise<void> {
    const startedAt = performance.now();
    let outcomes: readonly Outcome<Out>[];
    let committed = true;
    try {
      outcomes = await this.#commit(batch.map((p) => p.input));
      this.#batches++;
      this.#calls += batch.length;
    } catch (error) {
      committed = false;
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    this.#inFlight--;
    this.#report(batch, startedAt, lateMs, committed);
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o === undefined) p.reject(new Error("batched call has no outcome"));
      else if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
    this.#schedule();
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  #report(batch: readonly Pending<In, Out>[], startedAt: number, lateMs: number, committed: boolean): void {
    reportCommit(this.#options.onCommit, {
      calls: batch.length,
      oldestAt: batch[0]?.at ?? startedAt,
      lateMs,
      startedAt,
      committed,
    });
  }
}
