import type { Store } from "../../../ports/store.ts";
import { SqliteConnection } from "./connection.ts";
import { applyMigrations } from "./migrations.ts";
import { isInMemory, openDatabase } from "./open-database.ts";
import { sqliteRepositories } from "./repositories.ts";
import { SqliteWriter } from "./sqlite-writer.ts";
import { writesOnThread } from "./writes-on-thread.ts";

export interface SqliteStoreOptions {
  /** A file path (its directory is created if missing), or ":memory:" for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another connection's write lock before failing. */
  readonly busyTimeoutMs?: number;
  /**
   * Make every write on a thread of its own (writer-thread.ts), so that commits never hold the event loop; reads
   * stay on the caller's thread. Default false: each batch of writes then crosses threads, which costs more CPU
   * than a commit where fsync is fast (measured in docs/benchmarks/optimizations.md). Ignored for an in-memory
   * database, which only its own connection can open.
   */
  readonly writerThread?: boolean;
}

/**
 * Opens the embedded store (settings and durability: open-database.ts). Message writes are group-committed
 * (SqliteConnection.txGrouped) so that concurrent sends share one fsync. With the writer thread, this thread's
 * connection is read-only (query_only) and every write goes to the thread's connection, in the order made.
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  const conn = new SqliteConnection(openDatabase(opts.path, busyTimeoutMs));
  const local = sqliteRepositories(conn);
  const writer =
    (opts.writerThread ?? false) && !isInMemory(opts.path)
      ? new SqliteWriter(opts.path, busyTimeoutMs)
      : null;
  if (writer !== null) conn.db.run("PRAGMA query_only = ON");
  let closed = false;
  return {
    dialect: "sqlite",
    ...(writer === null ? local : writesOnThread(local, writer)),
    async migrate() {
      if (writer === null) applyMigrations(conn);
      else await writer.call("store", "migrate", []);
    },
    async ping() {
      conn.get("SELECT 1");
    },
    /** Idempotent; answers every write made before it, then every method rejects. */
    async close() {
      if (closed) return;
      closed = true;
      try {
        await writer?.close();
      } finally {
        conn.close();
      }
    },
  };
}
