import type { Database, Statement } from "bun:sqlite";
import type { CommitObserver } from "../../../ports/commit-timing.ts";
import { reportCommit } from "../report-commit.ts";

/** Named parameters, written `$name` in SQL and `{ name }` here (the database is opened in strict mode). */
export type Params = Readonly<Record<string, string | number | null>>;

interface Grouped {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** performance.now() when the call was made. */
  readonly at: number;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/**
 * Most calls one grouped transaction commits; more wait for the next one. It bounds how long a single commit
 * keeps the event loop (bun:sqlite is synchronous) while still sharing one fsync among many writers.
 */
export const GROUP_MAX = 256;

/**
 * The default shortest time between the starts of two group commits (PARLEY_SQLITE_COMMIT_INTERVAL_MS). Under
 * load, the calls of those milliseconds share one commit — one fsync, and pages that several messages touch (the
 * room rows, index pages, the table's last page) written once: seed's server CPU fell by about a sixth at 5 ms
 * and a fifth at 10 ms (docs/benchmarks/optimizations.md, "Group commits paced"). A connection that has not
 * committed for that long commits on the next turn, as before, so a lone write waits for nothing; a full group
 * (GROUP_MAX) does not wait. The price is latency under load (at most the interval). A connection that sends
 * back to back does not wait one interval per message: the gateway hands its next SEND over while the last one
 * commits (send-handler.ts), so they share the commit.
 */
export const GROUP_COMMIT_INTERVAL_MS = 10;

/** How many grouped transactions committed and how many calls they carried (for profiling and tests). */
export interface GroupCommitStats {
  readonly transactions: number;
  readonly calls: number;
}

/**
 * One bun:sqlite connection with its prepared statements and write transactions. Statements are prepared on
 * first use and kept for the life of the connection (bun's own `query()` cache holds only 20 statements, fewer
 * than the store uses, so it would re-prepare on the hot path).
 */
export class SqliteConnection {
  readonly db: Database;
  readonly #statements = new Map<string, Statement<unknown, [Params]>>();
  readonly #transaction: { immediate: (fn: () => unknown) => unknown };
  #group: Grouped[] = [];
  #groupScheduled = false;
  /** The pending paced commit, while one waits for the commit interval to pass. */
  #groupTimer: ReturnType<typeof setTimeout> | null = null;
  /** performance.now() at the start of the last group commit. */
  #lastCommitAt = Number.NEGATIVE_INFINITY;
  /** performance.now() when the scheduled group commit is due to start (its turn, or its pacing timer). */
  #dueAt = 0;
  #groupTransactions = 0;
  #groupCalls = 0;
  #closed = false;

  /**
   * `commitIntervalMs`: see GROUP_COMMIT_INTERVAL_MS (0 commits every group on the next turn). `onCommit` hears
   * every group commit's timing (ports/commit-timing.ts).
   */
  constructor(
    db: Database,
    private readonly commitIntervalMs: number = GROUP_COMMIT_INTERVAL_MS,
    private readonly onCommit?: CommitObserver,
  ) {
    this.db = db;
    this.#transaction = db.transaction((fn: () => unknown) => fn());
  }

  #prepare(sql: string): Statement<unknown, [Params]> {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare<unknown, [Params]>(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  get<Row>(sql: string, params: Params = {}): Row | null {
    return this.#prepare(sql).get(params) as Row | null;
  }

  all<Row>(sql: string, params: Params = {}): Row[] {
    return this.#prepare(sql).all(params) as Row[];
  }

  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params: Params = {}): number {
    return this.#prepare(sql).run(params).changes;
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken at the start, so a read-then-write
   * inside `fn` cannot race another connection or process (they wait up to busy_timeout). Commits when `fn`
   * returns, rolls back when it throws; nested calls become savepoints.
   */
  tx<T>(fn: () => T): T {
    return this.#transaction.immediate(fn) as T;
  }

  /**
   * Group commit: like `tx`, but `fn` joins the other calls made before the group commits — on the event loop's
   * next turn, or once GROUP_COMMIT_INTERVAL_MS have passed since the last one started — in ONE immediate
   * transaction, each in its own savepoint, so they share one commit (and with synchronous=FULL, one fsync).
   * Guarantees, per call, exactly those of `tx`:
   * - the promise resolves only after the shared transaction has committed (durably), with `fn`'s result;
   * - `fn` throwing rolls back its own savepoint only and rejects its own promise; the others still commit;
   * - if the shared transaction cannot commit (or SQLite aborts it), every call of the group rejects and none
   *   of their changes persist;
   * - calls run, and so are committed, in the order they were made; later ones see earlier ones' writes.
   */
  txGrouped<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("database is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#group.push({ fn, resolve: resolve as (value: unknown) => void, reject, at: performance.now() });
      if (this.#group.length >= GROUP_MAX && this.#groupTimer !== null) {
        // A full group has nothing to wait for.
        clearTimeout(this.#groupTimer);
        this.#groupTimer = null;
        this.#groupScheduled = false;
      }
      if (!this.#groupScheduled) this.#scheduleGroup();
    });
  }

  #scheduleGroup(): void {
    this.#groupScheduled = true;
    const now = performance.now();
    const wait = this.#lastCommitAt + this.commitIntervalMs - now;
    if (wait <= 0 || this.#group.length >= GROUP_MAX) {
      // The next turn, not a microtask: writers woken by the same batch of socket reads all join this group.
      this.#dueAt = now;
      setImmediate(() => this.#commitGroups(false));
      return;
    }
    this.#dueAt = now + wait;
    this.#groupTimer = setTimeout(() => {
      this.#groupTimer = null;
      this.#commitGroups(false);
    }, wait);
  }

  get groupCommitStats(): GroupCommitStats {
    return { transactions: this.#groupTransactions, calls: this.#groupCalls };
  }

  /** Commits one group, or every queued call when `all`; what is left waits for the next (paced) commit. */
  #commitGroups(all: boolean): void {
    const scheduled = this.#groupScheduled;
    this.#groupScheduled = false;
    const startedAt = performance.now();
    if (this.#group.length > 0) this.#lastCommitAt = startedAt;
    // Only a scheduled commit was due at a known time; one forced by close() is not late.
    let lateMs = scheduled ? Math.max(0, startedAt - this.#dueAt) : 0;
    do {
      const group = this.#group.slice(0, GROUP_MAX);
      this.#group = this.#group.slice(group.length);
      if (group.length > 0) this.#commitGroup(group, lateMs);
      lateMs = 0;
    } while (all && this.#group.length > 0);
    if (this.#group.length > 0 && !this.#groupScheduled) this.#scheduleGroup();
  }

  #commitGroup(group: readonly Grouped[], lateMs: number): void {
    if (this.#closed) {
      for (const g of group) g.reject(new Error("database is closed"));
      return;
    }
    const outcomes: Outcome[] = [];
    const startedAt = performance.now();
    try {
      this.tx(() => {
        for (const g of group) {
          try {
            outcomes.push({ ok: true, value: this.tx(g.fn) });
          } catch (error) {
            outcomes.push({ ok: false, error });
            // Some errors (I/O, full disk) make SQLite roll the whole transaction back: the earlier calls'
            // changes are gone too, so the group must fail as a whole rather than commit what is left.
            if (!this.db.inTransaction) throw error;
          }
        }
      });
    } catch (error) {
      this.#report(group, startedAt, lateMs, false);
      for (const g of group) g.reject(error);
      return;
    }
    this.#report(group, startedAt, lateMs, true);
    this.#groupTransactions++;
    this.#groupCalls += group.length;
    group.forEach((g, i) => {
      const o = outcomes[i];
      if (o === undefined) g.reject(new Error("grouped call has no outcome"));
      else if (o.ok) g.resolve(o.value);
      else g.reject(o.error);
    });
  }

  #report(group: readonly Grouped[], startedAt: number, lateMs: number, committed: boolean): void {
    reportCommit(this.onCommit, {
      calls: group.length,
      oldestAt: group[0]?.at ?? startedAt,
      lateMs,
      startedAt,
      committed,
    });
  }

  /** Commits what is queued for a group commit, then closes; later calls reject. */
  close(): void {
    if (this.#groupTimer !== null) clearTimeout(this.#groupTimer);
    this.#groupTimer = null;
    this.#commitGroups(true);
    this.#closed = true;
    for (const stmt of this.#statements.values()) stmt.finalize();
    this.#statements.clear();
    this.db.close();
  }
}
