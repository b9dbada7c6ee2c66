import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { CommitObserver } from "../../../ports/commit-timing.ts";
import type { Store } from "../../../ports/store.ts";
import { SqliteConnection } from "./connection.ts";
import { SqliteMessageRepository } from "./messages.ts";
import { applyMigrations } from "./migrations.ts";
import { SqliteRoomRepository } from "./rooms.ts";
import { SqliteSessionRepository } from "./sessions.ts";
import { SqliteUserRepository } from "./users.ts";

export interface SqliteStoreOptions {
  /** A file path (its directory is created if missing), or ":memory:" for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another connection's write lock before failing. */
  readonly busyTimeoutMs?: number;
  /** The shortest time between two group commits (default GROUP_COMMIT_INTERVAL_MS; see SqliteConnection). */
  readonly commitIntervalMs?: number;
  /** Hears every group commit's timing (ports/commit-timing.ts). */
  readonly onCommit?: CommitObserver;
}

function isInMemory(path: string): boolean {
  return path === "" || path === ":memory:" || path.startsWith("file:");
}

/**
 * Switches the file to WAL (a no-op once it is). Leaving rollback mode takes an exclusive lock, and SQLite answers
 * SQLITE_BUSY at once, without its busy handler, when the connection already holds a shared lock it would have to
 * upgrade (waiting could deadlock): several processes opening one new file together can meet that here. Such a
 * refusal is retried, after a few milliseconds, until the busy timeout.
 */
function enableWal(db: Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.run("PRAGMA journal_mode = WAL");
      return;
    } catch (e) {
      const busy = typeof e === "object" && e !== null && (e as { code?: unknown }).code === "SQLITE_BUSY";
      if (!busy || Date.now() >= deadline) throw e;
      // Synchronous like the rest of this adapter; only while opening, and only when another process is too.
      Bun.sleepSync(2 + Math.random() * 8);
    }
  }
}

/**
 * Opens the embedded store. Several processes may open the same file: writes serialise on SQLite's write lock
 * (immediate transactions, waiting up to busyTimeoutMs), reads run concurrently under WAL.
 *
 * Durability: synchronous=FULL makes every commit reach the disk before the call resolves, which is what
 * "committed before acknowledged" requires; WAL's usual NORMAL may lose the last commits on power loss. Message
 * writes are group-committed (SqliteConnection.txGrouped) so that concurrent sends share that fsync.
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  if (!isInMemory(opts.path)) mkdirSync(dirname(opts.path), { recursive: true });
  const db = new Database(opts.path, { create: true, readwrite: true, strict: true });
  const busyTimeoutMs = Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000));
  try {
    db.run(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    enableWal(db, busyTimeoutMs);
    db.run("PRAGMA synchronous = FULL");
    db.run("PRAGMA foreign_keys = ON");
    // Each grouped call runs in a savepoint, whose rollback journal SQLite keeps in a temporary file by default:
    // when a group's calls touch the same pages (big groups over few rooms), a write system call per page. In
    // memory it costs a few pages per call of one group, and it is never needed after a crash (the WAL is the
    // record).
    db.run("PRAGMA temp_store = MEMORY");
  } catch (e) {
    db.close();
    throw e;
  }
  const conn = new SqliteConnection(db, opts.commitIntervalMs, opts.onCommit);
  const messages = new SqliteMessageRepository(conn);
  let closed = false;
  return {
    dialect: "sqlite",
    users: new SqliteUserRepository(conn),
    sessions: new SqliteSessionRepository(conn),
    rooms: new SqliteRoomRepository(conn),
    messages,
    async migrate() {
      applyMigrations(conn);
    },
    async ping() {
      conn.get("SELECT 1");
    },
    /** Idempotent; afterwards every method rejects. */
    async close() {
      if (closed) return;
      closed = true;
      messages.close();
      conn.close();
    },
  };
}
