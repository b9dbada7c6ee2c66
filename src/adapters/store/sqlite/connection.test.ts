import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { useTempDirs } from "../../../../test/support/temp-dirs.ts";
import { NotFound } from "../../../domain/errors.ts";
import type { CommitObserver, CommitTiming } from "../../../ports/commit-timing.ts";
import { GROUP_MAX, SqliteConnection } from "./connection.ts";
import { SqliteMessageRepository } from "./messages.ts";
import { applyMigrations } from "./migrations.ts";

const tempDir = useTempDirs("parley-group-");

function openFile(
  commitIntervalMs?: number,
  onCommit?: CommitObserver,
): { path: string; conn: SqliteConnection } {
  const dir = tempDir();
  const path = join(dir, "t.db");
  const db = new Database(path, { create: true, readwrite: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = FULL");
  db.run("PRAGMA foreign_keys = ON");
  return { path, conn: new SqliteConnection(db, commitIntervalMs, onCommit) };
}

function countRows(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Tables whose foreign key SQLite checks at COMMIT: one orphan row in `c` makes the whole commit fail. */
function deferredForeignKeys(conn: SqliteConnection): void {
  conn.run("CREATE TABLE p (id INTEGER PRIMARY KEY)");
  conn.run(
    "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)",
  );
}

describe("SqliteConnection.txGrouped", () => {
  test("calls made in one turn share one transaction and resolve with their own results, in order", async () => {
    const { conn } = openFile();
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES ($x)", { x: i }) + i),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => 1 + i));
    expect(conn.groupCommitStats).toEqual({ transactions: 1, calls: 20 });
    expect(conn.all<{ x: number }>("SELECT x FROM t ORDER BY rowid").map((r) => r.x)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    conn.close();
  });

  test("a call resolves only after the commit is visible to another connection", async () => {
    const { path, conn } = openFile();
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    const pending = conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES (1)"));
    // Queued, not yet run: nothing is visible from outside.
    expect(countRows(path, "t")).toBe(0);
    await pending;
    expect(countRows(path, "t")).toBe(1);
    conn.close();
  });

  test("a failing call rolls back only its own savepoint; the rest of the group commits", async () => {
    const { path, conn } = openFile();
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    const ok1 = conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES (1)"));
    const bad = conn.txGrouped(() => {
      conn.run("INSERT INTO t (x) VALUES (2)");
      throw new NotFound("room");
    });
    const ok3 = conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES (3)"));
    await expect(bad).rejects.toBeInstanceOf(NotFound);
    expect(await ok1).toBe(1);
    expect(await ok3).toBe(1);
    const db = new Database(path, { readonly: true });
    expect(db.query("SELECT x FROM t ORDER BY x").all()).toEqual([{ x: 1 }, { x: 3 }]);
    db.close();
    conn.close();
  });

  test("when the shared commit fails, every call of the group rejects and nothing persists", async () => {
    const { path, conn } = openFile();
    deferredForeignKeys(conn);
    const good = conn.txGrouped(() => conn.run("INSERT INTO c (id, p) VALUES (1, NULL)"));
    const orphan = conn.txGrouped(() => conn.run("INSERT INTO c (id, p) VALUES (2, 99)"));
    const results = await Promise.allSettled([good, orphan]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(countRows(path, "c")).toBe(0);
    // The connection is usable afterwards.
    expect(await conn.txGrouped(() => conn.run("INSERT INTO c (id, p) VALUES (3, NULL)"))).toBe(1);
    expect(countRows(path, "c")).toBe(1);
    conn.close();
  });

  test("a large burst is split into bounded transactions, all committed in order", async () => {
    const { conn } = openFile();
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY AUTOINCREMENT, v INTEGER)");
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        conn.txGrouped(() => conn.run("INSERT INTO t (v) VALUES ($v)", { v: i })),
      ),
    );
    const stats = conn.groupCommitStats;
    expect(stats.calls).toBe(600);
    expect(stats.transactions).toBeGreaterThanOrEqual(3);
    expect(conn.all<{ v: number }>("SELECT v FROM t ORDER BY x").map((r) => r.v)).toEqual(
      Array.from({ length: 600 }, (_, i) => i),
    );
    conn.close();
  });

  test("close commits what is queued; later calls reject", async () => {
    const { path, conn } = openFile();
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    const queued = conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES (1)"));
    conn.close();
    expect(await queued).toBe(1);
    expect(countRows(path, "t")).toBe(1);
    await expect(conn.txGrouped(() => 1)).rejects.toThrow();
  });
});

describe("SqliteConnection.txGrouped, paced", () => {
  const INTERVAL = 200;
  const insert = (conn: SqliteConnection, x: number) =>
    conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES ($x)", { x }));

  test("a connection that has not committed lately commits on the next turn", async () => {
    const { conn } = openFile(INTERVAL);
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    const started = performance.now();
    await insert(conn, 1);
    expect(performance.now() - started).toBeLessThan(INTERVAL / 2);
    conn.close();
  });

  test("calls made within the interval after a commit wait for it to pass and share one commit", async () => {
    const { path, conn } = openFile(INTERVAL);
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    await insert(conn, 1);
    const firstAt = performance.now();
    const a = insert(conn, 2);
    await Bun.sleep(20);
    // Not committed yet: queued until the interval has passed.
    expect(countRows(path, "t")).toBe(1);
    const b = insert(conn, 3);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    // A timer may fire up to a millisecond early.
    expect(performance.now() - firstAt).toBeGreaterThanOrEqual(INTERVAL - 10);
    expect(conn.groupCommitStats).toEqual({ transactions: 2, calls: 3 });
    expect(countRows(path, "t")).toBe(3);
    conn.close();
  });

  test("a full group does not wait for the interval", async () => {
    const { conn } = openFile(60_000);
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    await insert(conn, 0);
    const calls = Array.from({ length: GROUP_MAX }, (_, i) => insert(conn, i + 1));
    const started = performance.now();
    await Promise.all(calls);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(conn.groupCommitStats).toEqual({ transactions: 2, calls: GROUP_MAX + 1 });
    conn.close();
  });

  test("close commits a group waiting for its interval at once", async () => {
    const { path, conn } = openFile(60_000);
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    await insert(conn, 1);
    const waiting = insert(conn, 2);
    conn.close();
    expect(await waiting).toBe(1);
    expect(countRows(path, "t")).toBe(2);
  });
});

describe("SqliteConnection commit timing", () => {
  function observed(commitIntervalMs = 0): { conn: SqliteConnection; seen: CommitTiming[] } {
    const seen: CommitTiming[] = [];
    const { conn } = openFile(commitIntervalMs, (t) => seen.push(t));
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    return { conn, seen };
  }
  const put = (conn: SqliteConnection, x: number) =>
    conn.txGrouped(() => conn.run("INSERT INTO t (x) VALUES ($x)", { x }));

  test("a commit the event loop reached late reports it as late, before its calls resolve", async () => {
    const { conn, seen } = observed();
    const calls = [put(conn, 1), put(conn, 2), put(conn, 3)];
    Bun.sleepSync(60);
    const first = calls[0]?.then(() => seen.length);
    await Promise.all(calls);
    expect(await first).toBe(1);
    expect(seen.length).toBe(1);
    const t = seen[0] as CommitTiming;
    expect(t).toMatchObject({ calls: 3, committed: true });
    expect(t.lateMs).toBeGreaterThanOrEqual(55);
    expect(t.queuedMs).toBeGreaterThanOrEqual(t.lateMs);
    expect(t.executeMs).toBeGreaterThanOrEqual(0);
    conn.close();
  });

  test("the commit's own work is its executeMs, not a wait", async () => {
    const { conn, seen } = observed();
    await conn.txGrouped(() => {
      Bun.sleepSync(50);
      return conn.run("INSERT INTO t (x) VALUES (1)");
    });
    expect(seen.length).toBe(1);
    expect(seen[0]?.executeMs).toBeGreaterThanOrEqual(49);
    expect(seen[0]?.queuedMs).toBeLessThan(49);
    conn.close();
  });

  test("the pacing wait is queued time but not lateness", async () => {
    const { conn, seen } = observed(40);
    await put(conn, 1);
    await put(conn, 2);
    expect(seen.length).toBe(2);
    const paced = seen[1] as CommitTiming;
    expect(paced.queuedMs).toBeGreaterThanOrEqual(25);
    expect(paced.lateMs + 15).toBeLessThanOrEqual(paced.queuedMs);
    conn.close();
  });

  test("a commit that fails as a whole is reported as not committed", async () => {
    const { conn, seen } = observed();
    deferredForeignKeys(conn);
    const orphan = conn.txGrouped(() => conn.run("INSERT INTO c (id, p) VALUES (1, 99)"));
    expect((await Promise.allSettled([orphan]))[0]?.status).toBe("rejected");
    expect(seen).toMatchObject([{ calls: 1, committed: false }]);
    conn.close();
  });

  test("an observer that throws changes no outcome", async () => {
    const { conn } = openFile(0, () => {
      throw new Error("observer fault");
    });
    conn.run("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    expect(await put(conn, 1)).toBe(1);
    expect(conn.get<{ n: number }>("SELECT count(*) AS n FROM t")?.n).toBe(1);
    conn.close();
  });
});

describe("group-committed appends", () => {
  function openMessages(): { conn: SqliteConnection; messages: SqliteMessageRepository } {
    const { conn } = openFile();
    applyMigrations(conn);
    conn.run(
      `INSERT INTO users (id, username, email, display_name, password_hash, role, status, created_at)
       VALUES ('u1', 'ann', 'ann@example.com', 'Ann', 'h', 'user', 'active', 1)`,
    );
    for (const id of ["r1", "r2"]) {
      conn.run(
        `INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq)
         VALUES ($id, 'group', $id, '', 'u1', 1, 0)`,
        { id },
      );
      conn.run("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ($id, 'u1', 'owner', 1)", {
        id,
      });
    }
    return { conn, messages: new SqliteMessageRepository(conn) };
  }

  const msg = (id: string, roomId: string, clientMsgId: string | null = null) => ({
    id,
    roomId,
    senderId: "u1",
    body: `body ${id}`,
    clientMsgId,
    createdAt: 2,
  });

  test("concurrent appends get gap-free seqs per room in call order, in one commit", async () => {
    const { conn, messages } = openMessages();
    const calls = Array.from({ length: 30 }, (_, i) =>
      messages.append(msg(`m${i}`, i % 2 === 0 ? "r1" : "r2")),
    );
    const results = await Promise.all(calls);
    expect(conn.groupCommitStats.transactions).toBe(1);
    const seqs = (roomId: string) =>
      results.filter((r) => r.message.roomId === roomId).map((r) => r.message.seq);
    expect(seqs("r1")).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(seqs("r2")).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(results.every((r) => r.created && r.event?.seq === r.message.seq)).toBe(true);
    // The returned events are built without reading them back: they must equal what the store replays.
    const stored = await messages.listEvents("r1", 0, 100);
    const returned: unknown[] = results.filter((r) => r.message.roomId === "r1").map((r) => r.event);
    expect(stored as unknown[]).toEqual(returned);
    expect(stored.map((e) => e.message)).toEqual(
      results.filter((r) => r.message.roomId === "r1").map((r) => r.message),
    );
    conn.close();
  });

  test("a retry in the same group returns the original; a missing room consumes no seq", async () => {
    const { conn, messages } = openMessages();
    const first = messages.append(msg("a", "r1", "k1"));
    const missing = messages.append(msg("b", "nope"));
    const retry = messages.append(msg("c", "r1", "k1"));
    const next = messages.append(msg("d", "r1"));
    await expect(missing).rejects.toBeInstanceOf(NotFound);
    const [f, r, n] = await Promise.all([first, retry, next]);
    expect(f.created).toBe(true);
    expect(r).toEqual({ message: f.message, event: null, created: false });
    expect(n.message.seq).toBe(2);
    expect((await messages.listEvents("r1", 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
    conn.close();
  });
});
