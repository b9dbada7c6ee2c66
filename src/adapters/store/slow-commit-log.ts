import type { CommitObserver, CommitTiming } from "../../ports/commit-timing.ts";

/** Where the lines go: pino's `warn` in the server. */
export interface WarnSink {
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface SlowCommitLogOptions {
  /** A commit counts as slow when its queuedMs + executeMs reach this. Must be above 0. */
  readonly thresholdMs: number;
  /** Shortest time between two lines (default 1 s). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * Logs the store's slow commits as `slow store commit`, with where the commit's time went (CommitTiming), so an
 * operator can tell a slow disk or database (`executeMs`) from a process that did not get to its commit
 * (`lateMs`) and from commits backed up behind each other (the rest of `queuedMs`).
 *
 * Guarantees: at most one line per interval however many commits are slow, so a saturated store cannot flood the
 * log; no slow commit goes uncounted: the first of a quiet period is logged at once, and those that follow within
 * the interval are logged together once it ends (the slowest of them, with `slowCommits` saying how many), or at
 * `close()`. The observer itself only compares and counts: it costs nothing measurable per commit.
 */
export class SlowCommitLog {
  readonly #sink: WarnSink;
  readonly #thresholdMs: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastLineAt = Number.NEGATIVE_INFINITY;
  #held = 0;
  #slowest: CommitTiming | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(sink: WarnSink, opts: SlowCommitLogOptions) {
    if (!(opts.thresholdMs > 0)) throw new RangeError("thresholdMs must be above 0");
    this.#sink = sink;
    this.#thresholdMs = opts.thresholdMs;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The observer to hand to a store's `onCommit`. */
  readonly observe: CommitObserver = (timing) => {
    if (timing.queuedMs + timing.executeMs < this.#thresholdMs) return;
    const now = this.#now();
    if (this.#held === 0 && now - this.#lastLineAt >= this.#intervalMs) {
      this.#write(timing, 1, now);
      return;
    }
    this.#held++;
    if (this.#slowest === null || total(timing) > total(this.#slowest)) this.#slowest = timing;
    if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#flush(), Math.max(0, this.#lastLineAt + this.#intervalMs - now));
      this.#timer.unref?.();
    }
  };

  /** Logs what is held back, at once. */
  close(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#slowest === null) return;
    this.#write(this.#slowest, this.#held, this.#now());
    this.#slowest = null;
    this.#held = 0;
  }

  #write(t: CommitTiming, slowCommits: number, now: number): void {
    this.#lastLineAt = now;
    this.#sink.warn(
      {
        calls: t.calls,
        totalMs: round(total(t)),
        queuedMs: round(t.queuedMs),
        lateMs: round(t.lateMs),
        executeMs: round(t.executeMs),
        committed: t.committed,
        slowCommits,
        thresholdMs: this.#thresholdMs,
      },
      "slow store commit",
    );
  }
}

function total(t: CommitTiming): number {
  return t.queuedMs + t.executeMs;
}
