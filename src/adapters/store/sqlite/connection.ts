import type { Database, Statement } from "bun:sqlite";

/** Named parameters, written `$name` in SQL and `{ name }` here (the database is opened in strict mode). */
export type Params = Readonly<Record<string, string | number | null>>;

/**
 * One bun:sqlite connection with its prepared statements and write transactions. Statements are prepared on
 * first use and kept for the life of the connection (bun's own `query()` cache holds only 20 statements, fewer
 * than the store uses, so it would re-prepare on the hot path).
 */
export class SqliteConnection {
  readonly db: Database;
  readonly #statements = new Map<string, Statement<unknown, [Params]>>();
  readonly #transaction: { immediate: (fn: () => unknown) => unknown };

  constructor(db: Database) {
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

  close(): void {
    for (const stmt of this.#statements.values()) stmt.finalize();
    this.#statements.clear();
    this.db.close();
  }
}
