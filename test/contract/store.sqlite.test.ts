import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteConnection } from "../../src/adapters/store/sqlite/connection.ts";
import { applyMigrations, MIGRATIONS } from "../../src/adapters/store/sqlite/migrations.ts";
import { openSqliteStore } from "../../src/adapters/store/sqlite/open-sqlite-store.ts";
import { storeContract } from "./store.contract.ts";

const STORE_MODULE = join(import.meta.dir, "../../src/adapters/store/sqlite/open-sqlite-store.ts");

function tempDir(): string {
  return join(tmpdir(), `parley-sqlite-${process.pid}-${crypto.randomUUID()}`);
}

storeContract("sqlite", async ({ onCommit }) => {
  const dir = tempDir();
  return {
    store: openSqliteStore({ path: join(dir, "parley.db"), onCommit }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/** Runs `body` in a separate bun process with `store` opened on `path`; resolves to its exit code and stderr. */
async function inChildProcess(path: string, body: string): Promise<{ code: number; stderr: string }> {
  const script = `
    const { openSqliteStore } = await import(${JSON.stringify(STORE_MODULE)});
    const store = openSqliteStore({ path: ${JSON.stringify(path)} });
    ${body}
    await store.close();`;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "pipe" });
  const stderr = await new Response(child.stderr).text();
  return { code: await child.exited, stderr };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const newUser = {
  username: "ann",
  email: "ann@example.com",
  displayName: "Ann",
  passwordHash: "h",
  role: "user",
} as const;

/** Migrates the file at `path` and puts user u1 in room r1 ("R"), then closes it. */
async function seedRoom(path: string): Promise<void> {
  const store = openSqliteStore({ path });
  await store.migrate();
  await store.users.create({ id: "u1", createdAt: 1, ...newUser });
  await store.rooms.create({ id: "r1", kind: "group", name: "R", topic: "", ownerId: "u1", createdAt: 1 }, [
    { userId: "u1", role: "owner" },
  ]);
  await store.close();
}

describe("SQLite store specifics", () => {
  test("creates the parent directory and puts the file in WAL mode", () =>
    withDir(async (dir) => {
      const path = join(dir, "nested", "deeper", "parley.db");
      const store = openSqliteStore({ path });
      await store.migrate();
      await store.close();
      expect(existsSync(path)).toBe(true);
      const db = new Database(path, { readonly: true });
      try {
        expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
        const versions = db.query("SELECT version FROM schema_migrations").all();
        expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
      } finally {
        db.close();
      }
    }));

  test("reopening the file keeps every committed change", () =>
    withDir(async (dir) => {
      const path = join(dir, "parley.db");
      const first = openSqliteStore({ path });
      await first.migrate();
      const user = await first.users.create({ id: "u1", createdAt: 1, ...newUser });
      await first.rooms.create(
        { id: "r1", kind: "group", name: "R", topic: "", ownerId: "u1", createdAt: 1 },
        [{ userId: "u1", role: "owner" }],
      );
      const sent = await first.messages.append({
        id: "m1",
        roomId: "r1",
        senderId: "u1",
        body: "kept",
        clientMsgId: "c1",
        createdAt: 2,
      });
      await first.close();

      const second = openSqliteStore({ path });
      await second.migrate();
      expect(await second.users.findById("u1")).toEqual(user);
      expect(await second.messages.page("r1", { limit: 10 })).toEqual([sent.message]);
      expect((await second.rooms.findById("r1"))?.lastSeq).toBe(1);
      const retry = await second.messages.append({
        id: "m2",
        roomId: "r1",
        senderId: "u1",
        body: "again",
        clientMsgId: "c1",
        createdAt: 3,
      });
      expect(retry.created).toBe(false);
      expect((await second.messages.search("u1", "kept", { limit: 5 })).map((h) => h.message.id)).toEqual([
        "m1",
      ]);
      await second.close();
    }));

  test("works in memory", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    await store.migrate();
    await store.ping();
    expect(await store.users.create({ id: "u1", createdAt: 1, ...newUser })).toMatchObject({
      username: "ann",
    });
    await store.close();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });

  test("the details-version migration gives rooms created before it version 1, and later changes raise it", () =>
    withDir(async (dir) => {
      const path = join(dir, "old.db");
      mkdirSync(dir, { recursive: true });
      const db = new Database(path, { create: true, strict: true });
      const conn = new SqliteConnection(db);
      // The schema as the build before the version column left it, with a room in it.
      applyMigrations(
        conn,
        MIGRATIONS.filter((m) => m.version === 1),
      );
      db.run(
        `INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
         VALUES ('u1', 'ann', 'ann@example.com', 'Ann', 'h', 'user', 1)`,
      );
      db.run(
        `INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq)
         VALUES ('r1', 'group', 'Old', '', 'u1', 1, 0)`,
      );
      conn.close();

      const store = openSqliteStore({ path });
      await store.migrate();
      expect(await store.rooms.findById("r1")).toMatchObject({ name: "Old", version: 1 });
      expect(await store.rooms.update("r1", { name: "New" })).toMatchObject({ name: "New", version: 2 });
      await store.close();
    }));

  test("processes renaming one room at once get distinct versions 2..n+1; the room has the highest one's name", () =>
    withDir(async (dir) => {
      const path = join(dir, "renames.db");
      await seedRoom(path);

      // Each worker renames the room 10 times and prints the version each of its renames committed.
      const workers = [1, 2, 3].map(async (w) => {
        const out = join(dir, `w${w}.json`);
        const result = await inChildProcess(
          path,
          `const seen = [];
          for (let i = 0; i < 10; i++) seen.push((await store.rooms.update("r1", { name: "w${w}-" + i })).version);
          await Bun.write(${JSON.stringify(out)}, JSON.stringify(seen));`,
        );
        expect(result).toEqual({ code: 0, stderr: "" });
        return (await Bun.file(out).json()) as number[];
      });
      const perWorker = await Promise.all(workers);
      const versions = perWorker.flat().sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
      // Within one worker the renames are sequential, so its versions rise.
      for (const seen of perWorker) expect(seen).toEqual([...seen].sort((a, b) => a - b));
      const top = perWorker.flatMap((seen, w) => seen.map((v, i) => ({ v, name: `w${w + 1}-${i}` })));
      const highest = top.reduce((x, y) => (y.v > x.v ? y : x));
      const store = openSqliteStore({ path });
      expect(await store.rooms.findById("r1")).toMatchObject({ name: highest.name, version: 31 });
      await store.close();
    }));

  test("processes sharing one file migrate once and keep seqs gap-free and sends idempotent", () =>
    withDir(async (dir) => {
      const path = join(dir, "shared.db");
      const migrations = await Promise.all(
        [1, 2, 3].map(() => inChildProcess(path, "await store.migrate();")),
      );
      expect(migrations).toEqual([1, 2, 3].map(() => ({ code: 0, stderr: "" })));

      await seedRoom(path);

      // Each worker sends the same 20 client-msg-ids (retries racing across processes) and 20 fresh messages.
      const workers = [1, 2, 3].map((w) =>
        inChildProcess(
          path,
          `for (let i = 0; i < 20; i++) {
            const base = { roomId: "r1", senderId: "u1", body: "b" + i, createdAt: i };
            await store.messages.append({ ...base, id: "w${w}-k" + i, clientMsgId: "k" + i });
            await store.messages.append({ ...base, id: "w${w}-n" + i, clientMsgId: null });
          }`,
        ),
      );
      expect(await Promise.all(workers)).toEqual([1, 2, 3].map(() => ({ code: 0, stderr: "" })));

      const store = openSqliteStore({ path });
      const messages = await store.messages.page("r1", { limit: 1000 });
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 80 }, (_, i) => 80 - i));
      const keyed = messages.flatMap((m) => (m.clientMsgId === null ? [] : [m.clientMsgId]));
      expect(keyed.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
      expect((await store.rooms.findById("r1"))?.lastSeq).toBe(80);
      expect((await store.messages.listEvents("r1", 0, 1000)).length).toBe(80);
      await store.close();
    }));
});
