/**
 * Where one group commit of a store spent its time, so that a slow commit can be told apart from a slow process:
 * the disk or the database (`executeMs`), the event loop not getting to the commit (`lateMs`), or commits backed
 * up behind each other (the rest of `queuedMs`). Both Store adapters report every group commit of message appends
 * (SQLite also its other grouped writes) through the `onCommit` option of their open function.
 */
export interface CommitTiming {
  /** Calls the commit carried, each its own all-or-nothing change (appends, and on SQLite edits and indexing). */
  readonly calls: number;
  /** From the hand-over of the commit's oldest call until the commit started: every wait before it. */
  readonly queuedMs: number;
  /**
   * The part of `queuedMs` after the commit was due to start (its turn of the event loop, or its pacing timer):
   * time the process spent on other work, or was not run at all.
   */
  readonly lateMs: number;
  /**
   * The commit itself, until it settled. SQLite: its statements, COMMIT and fsync, on the serving thread.
   * PostgreSQL: waiting for a pooled connection, the batch statement's round trip and COMMIT.
   */
  readonly executeMs: number;
  /** False when the commit failed as a whole and every call of it was rejected. */
  readonly committed: boolean;
}

/**
 * Called once per group commit, after it settled and before any of its calls' promises settle. It runs on the
 * write path: it must be cheap and must not throw (a throw is caught and dropped, never failing the commit).
 */
export type CommitObserver = (timing: CommitTiming) => void;
