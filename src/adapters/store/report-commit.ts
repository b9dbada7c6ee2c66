import type { CommitObserver } from "../../ports/commit-timing.ts";

/** One group commit as an adapter saw it: performance.now() readings and what it carried. */
export interface CommitSpan {
  readonly calls: number;
  /** When the commit's oldest call was handed over. */
  readonly oldestAt: number;
  /** How long after it was due the commit started (0 when it was not scheduled for a time). */
  readonly lateMs: number;
  readonly startedAt: number;
  readonly committed: boolean;
}

/**
 * Hands a finished commit's timing to `observer`, if there is one (ports/commit-timing.ts): its wait, the late
 * part of that wait (never more than the wait), and its own time until now. Never throws: an observer that does
 * is ignored, so the commit's outcome stands whatever it does.
 */
export function reportCommit(observer: CommitObserver | undefined, span: CommitSpan): void {
  if (observer === undefined) return;
  const queuedMs = Math.max(0, span.startedAt - span.oldestAt);
  try {
    observer({
      calls: span.calls,
      queuedMs,
      lateMs: Math.min(span.lateMs, queuedMs),
      executeMs: performance.now() - span.startedAt,
      committed: span.committed,
    });
  } catch {
    // An observer must not throw; if one does, nothing depends on it.
  }
}
