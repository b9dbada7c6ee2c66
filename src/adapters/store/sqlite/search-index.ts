import type { SqliteConnection } from "./connection.ts";

/**
 * How long after a message is stored its batch of the full-text index waits for more. Nothing a client sees
 * depends on it (a search brings the index up to date first); it only sets how many messages share one index
 * segment: at a few thousand messages a second, a second's worth.
 */
export const SEARCH_INDEX_DELAY_MS = 1000;
/** Most messages one batch indexes, so one batch keeps the event loop for milliseconds, not seconds. */
export const SEARCH_INDEX_BATCH = 5000;

/**
 * Adds stored messages to the full-text index after their commit, in batches, instead of inside the group
 * commit that stores them (FTS5 writes an index segment per transaction: per message, that cost more than the
 * rest of an append; docs/benchmarks/optimizations.md, "Search indexing after commit").
 *
 * New messages are queued in `search_pending` by a trigger in the transaction that stores them (migration 3),
 * so the queue is exactly as durable as the messages: whatever a crashed or closed process left pending is
 * indexed by the next batch of any process using the file. Guarantees:
 * - `catchUp()` resolves once every message committed before it was called is in the index (or deleted); a
 *   search calls it first, so a search finds every message committed before it started, in its current form;
 * - a batch runs in a grouped transaction (one savepoint of a group commit), atomically: the messages it took
 *   leave the queue together with their entries entering the index;
 * - edits and deletions keep the index exact throughout (triggers: an indexed message is re-indexed, a pending
 *   one is indexed as it is when its batch runs).
 */
export class SearchIndex {
  readonly #conn: SqliteConnection;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  /**
   * Called after messages were stored: a batch runs within SEARCH_INDEX_DELAY_MS (or `delayMs`). A batch that
   * leaves messages queued is followed by the next one at once, so the queue does not grow under any rate.
   */
  schedule(delayMs = SEARCH_INDEX_DELAY_MS): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#conn
        .txGrouped(() => this.#indexBatch())
        .then(
          (more) => {
            if (more) this.schedule(0);
          },
          // The store was closed, or the write failed (e.g. another process held the lock past the busy timeout):
          // the messages stay queued, and the next batch or search indexes them.
          () => {},
        );
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * Indexes every message queued now, in batches; see the class comment. Messages queued meanwhile (by other
   * processes) are left to later batches, so a search waits for the queue as it found it, not for a busy file to
   * fall quiet: a batch takes the oldest first, and every message committed before the call has a key no higher
   * than the highest queued then.
   */
  async catchUp(): Promise<void> {
    const target =
      this.#conn.get<{ pk: number | null }>("SELECT max(pk) AS pk FROM search_pending")?.pk ?? null;
    if (target === null) return;
    while (this.#conn.get("SELECT 1 FROM search_pending WHERE pk <= $target LIMIT 1", { target }) !== null) {
      await this.#conn.txGrouped(() => this.#indexBatch());
    }
  }

  /** Stops the timer; queued messages stay queued in the file. */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Indexes the oldest queued messages (up to SEARCH_INDEX_BATCH); true when more are left. */
  #indexBatch(): boolean {
    const last = this.#conn.get<{ pk: number | null }>(
      "SELECT max(pk) AS pk FROM (SELECT pk FROM search_pending ORDER BY pk LIMIT $limit)",
      { limit: SEARCH_INDEX_BATCH },
    )?.pk;
    if (last === null || last === undefined) return false;
    this.#conn.run(
      `INSERT INTO messages_fts (rowid, body)
       SELECT m.pk, m.body FROM search_pending p JOIN messages m ON m.pk = p.pk
        WHERE p.pk <= $last AND m.deleted_at IS NULL
        ORDER BY p.pk`,
      { last },
    );
    this.#conn.run("DELETE FROM search_pending WHERE pk <= $last", { last });
    return this.#conn.get("SELECT 1 FROM search_pending LIMIT 1") !== null;
  }
}
