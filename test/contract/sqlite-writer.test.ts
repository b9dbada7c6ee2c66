/**
 * The SQLite writer thread (src/adapters/store/sqlite/sqlite-writer.ts, writer-thread.ts): what it adds to the
 * store contract, which store.sqlite.test.ts runs with and without it. A commit that waits holds only the writer
 * thread; close answers every write made before it; a thread that cannot work fails writes instead of losing
 * them; the thread keeps its process alive exactly while writes are pending.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/adapters/store/sqlite/open-sqlite-store.ts";
import { SqliteWriter } from "../../src/adapters/store/sqlite/sqlite-writer.ts";
import type { Store } from "../../src/ports/store.ts";

const STORE_MODULE = join(import.meta.dir, "../../src/adapters/store/sqlite/open-sqlite-store.ts");

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = join(tmpdir(), `parley-writer-${process.pid}-${crypto.randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A migrated store with user u1 in room r1, writing on its writer thread unless told otherwise. */
async function seeded(
  path: string,
  opts: { writerThread?: boolean; busyTimeoutMs?: number } = {},
): Promise<Store> {
  const store = openSqliteStore({ path, writerThread: true, ...opts });
  await store.migrate();
  await store.users.create({
    id: "u1",
    username: "ann",
    email: "ann@example.com",
    displayName: "Ann",
    passwordHash: "h",
    role: "user",
    createdAt: 1,
  });
  await store.rooms.create({ id: "r1", kind: "group", name: "R", topic: "", ownerId: "u1", createdAt: 1 }, [
    { userId: "u1", role: "owner" },
  ]);
  return store;
}

function message(n: number) {
  return {
    id: `m${n}`,
    roomId: "r1",
    senderId: "u1",
    body: `body ${n}`,
    clientMsgId: null,
    createdAt: 10 + n,
  };
}

/**
 * What `p` rejects with (null if it resolves). Used instead of `expect(p).rejects`, which waits on a pending
 * promise without letting this thread receive the writer thread's answer.
 */
function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (error: unknown) => error,
  );
}

/** Holds the file's write lock from a connection of this thread until `release` is called. */
function holdWriteLock(path: string): { release: () => void } {
  const db = new Database(path);
  db.run("BEGIN IMMEDIATE");
  return {
    release: () => {
      db.run("COMMIT");
      db.close();
    },
  };
}

describe("SQLite writer thread", () => {
  test("a write waiting for the lock holds only the writer thread: this thread reads, and releases the lock", () =>
    withDir(async (dir) => {
      const path = join(dir, "parley.db");
      const store = await seeded(path, { busyTimeoutMs: 10_000 });
      const lock = holdWriteLock(path);
      let settled = false;
      const append = store.messages.append(message(1)).finally(() => {
        settled = true;
      });
      await Bun.sleep(100);
      // The append waits on the writer thread; this thread is free to read and to run this timer.
      expect(settled).toBe(false);
      expect((await store.rooms.findById("r1"))?.lastSeq).toBe(0);
      lock.release();
      expect((await append).event?.seq).toBe(1);
      expect((await store.rooms.findById("r1"))?.lastSeq).toBe(1);
      await store.close();
    }));

  test("without it, the same wait holds the serving thread: the lock this thread holds is never released in time", () =>
    withDir(async (dir) => {
      const path = join(dir, "parley.db");
      const store = await seeded(path, { writerThread: false, busyTimeoutMs: 300 });
      const lock = holdWriteLock(path);
      const released = Bun.sleep(100).then(() => lock.release());
      // The grouped commit's BEGIN IMMEDIATE blocks this thread for the whole busy timeout, so the timer that
      // would release the lock cannot run first.
      await expect(store.messages.append(message(1))).rejects.toMatchObject({ code: "SQLITE_BUSY" });
      await released;
      await store.close();
    }));

  test("SQLite's errors cross the thread with their code", () =>
    withDir(async (dir) => {
      const path = join(dir, "parley.db");
      const store = await seeded(path, { busyTimeoutMs: 50 });
      const lock = holdWriteLock(path);
      try {
        expect(await rejectionOf(store.messages.append(message(1)))).toMatchObject({ code: "SQLITE_BUSY" });
      } finally {
        lock.release();
      }
      expect((await store.messages.append(message(2))).event?.seq).toBe(1);
      await store.close();
    }));

  test("close answers and commits every write made before it; later writes reject, reads too", () =>
    withDir(async (dir) => {
      const path = join(dir, "parley.db");
      const store = await seeded(path);
      const appends = Array.from({ length: 300 }, (_, i) => store.messages.append(message(i + 1)));
      await store.close();
      const seqs = (await Promise.all(appends)).map((a) => a.event?.seq);
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(await rejectionOf(store.messages.append(message(301)))).toMatchObject({
        message: "database is closed",
      });
      await expect(store.ping()).rejects.toThrow();

      const reopened = openSqliteStore({ path });
      expect((await reopened.rooms.findById("r1"))?.lastSeq).toBe(300);
      expect(await reopened.messages.page("r1", { limit: 1 })).toMatchObject([{ id: "m300", seq: 300 }]);
      await reopened.close();
    }));

  test("a thread that cannot open its database fails every write with the reason, and closes", () =>
    withDir(async (dir) => {
      const notADirectory = join(dir, "file");
      writeFileSync(notADirectory, "");
      const writer = new SqliteWriter(join(notADirectory, "parley.db"), 100);
      // The directory cannot be made where a file is.
      expect(await rejectionOf(writer.call("store", "migrate", []))).toMatchObject({ code: "EEXIST" });
      expect(await rejectionOf(writer.call("messages", "append", [message(1)]))).toMatchObject({
        code: "EEXIST",
      });
      await writer.close();
    }));

  test("keeps its process alive while writes are pending, and lets it end when none are", () =>
    withDir(async (dir) => {
      const path = join(dir, "parley.db");
      await (await seeded(path)).close();
      // Neither awaited nor closed: the process must stay until both are committed, then end by itself.
      const script = `
        const { openSqliteStore } = await import(${JSON.stringify(STORE_MODULE)});
        const store = openSqliteStore({ path: ${JSON.stringify(path)}, writerThread: true });
        for (const n of [1, 2]) {
          store.messages.append({ id: "m" + n, roomId: "r1", senderId: "u1", body: "b", clientMsgId: null, createdAt: n });
        }`;
      const child = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "pipe" });
      const exited = await Promise.race([child.exited, Bun.sleep(10_000).then(() => "still running")]);
      if (exited === "still running") child.kill();
      expect(exited, await new Response(child.stderr).text()).toBe(0);
      const store = openSqliteStore({ path });
      expect((await store.rooms.findById("r1"))?.lastSeq).toBe(2);
      await store.close();
    }));
});
