import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** Whether `path` names a database private to its connection, which no second connection (or thread) can open. */
export function isInMemory(path: string): boolean {
  return path === "" || path === ":memory:" || path.startsWith("file:");
}

/**
 * Opens one connection with the settings every Parley connection shares. Several connections (threads,
 * processes) may open the same file: writes serialise on SQLite's write lock (immediate transactions, waiting up
 * to `busyTimeoutMs`), reads run concurrently under WAL.
 *
 * Durability: synchronous=FULL makes every commit reach the disk before the call resolves, which is what
 * "committed before acknowledged" requires; WAL's usual NORMAL may lose the last commits on power loss.
 */
export function openDatabase(path: string, busyTimeoutMs: number): Database {
  if (!isInMemory(path)) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, readwrite: true, strict: true });
  try {
    db.run(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    db.run("PRAGMA journal_mode = WAL");
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
  return db;
}
