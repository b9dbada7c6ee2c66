import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { useTempDirs } from "../../../../test/support/temp-dirs.ts";
import type { Store } from "../../../ports/store.ts";
import { SqliteConnection } from "./connection.ts";
import { applyMigrations, MIGRATIONS } from "./migrations.ts";
import { openSqliteStore } from "./open-sqlite-store.ts";
import { SEARCH_INDEX_BATCH, SEARCH_INDEX_DELAY_MS } from "./search-index.ts";

const tempDir = useTempDirs("parley-search-");

function tempPath(): string {
  const dir = tempDir();
  return join(dir, "parley.db");
}

/** Reads the file on a connection of its own, as another process would. */
function pendingIn(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query("SELECT count(*) AS n FROM search_pending").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A migrated store on `path` with one user in one room. */
async function openWithRoom(path: string): Promise<{ store: Store; userId: string; roomId: string }> {
  const store = openSqliteStore({ path });
  await store.migrate();
  const userId = "u1";
  const roomId = "r1";
  if ((await store.users.findById(userId)) === null) {
    await store.users.create({
      id: userId,
      username: "ann",
      email: "ann@example.com",
      displayName: "Ann",
      passwordHash: "h",
      role: "user",
      createdAt: 1,
    });
    await store.rooms.create(
      { id: roomId, kind: "group", name: "Room", topic: "", ownerId: userId, createdAt: 1 },
      [{ userId, role: "owner" }],
    );
  }
  return { store, userId, roomId };
}

let n = 0;
function append(store: Store, roomId: string, senderId: string, body: string) {
  n += 1;
  return store.messages.append({
    id: `m${String(n).padStart(8, "0")}`,
    roomId,
    senderId,
    body,
    clientMsgId: null,
    createdAt: 10 + n,
  });
}

async function found(store: Store, userId: string, word: string): Promise<string[]> {
  return (await store.messages.search(userId, word, { limit: 100 })).map((h) => h.message.body ?? "");
}

describe("SQLite search indexing after commit", () => {
  test("a message is searchable as soon as it is committed, and waits in the queue until then", async () => {
    const path = tempPath();
    const { store, userId, roomId } = await openWithRoom(path);
    await append(store, roomId, userId, "hello quokka");
    expect(pendingIn(path)).toBe(1);
    expect(await found(store, userId, "quokka")).toEqual(["hello quokka"]);
    expect(pendingIn(path)).toBe(0);
    await store.close();
  });

  test("the queue is indexed in the background without a search", async () => {
    const path = tempPath();
    const { store, userId, roomId } = await openWithRoom(path);
    await Promise.all([
      append(store, roomId, userId, "one wombat"),
      append(store, roomId, userId, "two wombat"),
    ]);
    expect(pendingIn(path)).toBe(2);
    await Bun.sleep(SEARCH_INDEX_DELAY_MS + 500);
    expect(pendingIn(path)).toBe(0);
    expect(await found(store, userId, "wombat")).toEqual(["two wombat", "one wombat"]);
    await store.close();
  });

  test("edits and deletions before and after indexing leave exactly the current bodies findable", async () => {
    const path = tempPath();
    const { store, userId, roomId } = await openWithRoom(path);
    // Each message has its own word, and a second one after its edit: the index must hold the live words only.
    const live = new Map<string, string>();
    const gone = new Set<string>();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { message } = await append(store, roomId, userId, `w${i}a common`);
      ids.push(message.id);
      live.set(message.id, `w${i}a`);
    }
    const edit = async (i: number) => {
      gone.add(live.get(ids[i]!)!);
      live.set(ids[i]!, `w${i}b`);
      await store.messages.edit(roomId, ids[i]!, `w${i}b common`, userId, 100 + i);
    };
    const remove = async (i: number) => {
      gone.add(live.get(ids[i]!)!);
      live.delete(ids[i]!);
      await store.messages.softDelete(roomId, ids[i]!, userId, 200 + i);
    };
    // While queued: 0–9 edited, 10–14 deleted, 15–19 edited then deleted.
    for (let i = 0; i < 10; i++) await edit(i);
    for (let i = 10; i < 15; i++) await remove(i);
    for (let i = 15; i < 20; i++) {
      await edit(i);
      await remove(i);
    }
    expect(pendingIn(path)).toBe(40);
    expect((await found(store, userId, "common")).length).toBe(live.size);
    expect(pendingIn(path)).toBe(0);
    // Indexed now: 20–29 edited, 30–34 deleted, 0–4 edited a second time.
    for (let i = 20; i < 30; i++) await edit(i);
    for (let i = 30; i < 35; i++) await remove(i);
    for (let i = 0; i < 5; i++) {
      gone.add(live.get(ids[i]!)!);
      live.set(ids[i]!, `w${i}c`);
      await store.messages.edit(roomId, ids[i]!, `w${i}c common`, userId, 300 + i);
    }
    for (const word of live.values()) expect(await found(store, userId, word)).toHaveLength(1);
    for (const word of gone) expect(await found(store, userId, word)).toEqual([]);
    expect((await found(store, userId, "common")).length).toBe(live.size);
    // FTS5's own structural check of the index.
    const db = new Database(path);
    db.run("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)");
    db.close();
    await store.close();
  });

  test("messages a closed store left queued are indexed by the next store on the file", async () => {
    const path = tempPath();
    const first = await openWithRoom(path);
    await append(first.store, first.roomId, first.userId, "left behind platypus");
    await first.store.close();
    expect(pendingIn(path)).toBe(1);
    const second = await openWithRoom(path);
    expect(await found(second.store, second.userId, "platypus")).toEqual(["left behind platypus"]);
    await second.store.close();
  });

  test("a search on another connection to the file finds what this one stored", async () => {
    const path = tempPath();
    const writer = await openWithRoom(path);
    const reader = await openWithRoom(path);
    await append(writer.store, writer.roomId, writer.userId, "shared echidna");
    expect(await found(reader.store, reader.userId, "echidna")).toEqual(["shared echidna"]);
    await writer.store.close();
    await reader.store.close();
  });

  test(`a queue longer than one batch (${SEARCH_INDEX_BATCH}) is indexed whole before a search`, async () => {
    const path = tempPath();
    const { store, userId, roomId } = await openWithRoom(path);
    const total = SEARCH_INDEX_BATCH + 150;
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, total - i) }, (_, k) =>
          append(store, roomId, userId, `bulk ${i + k}`),
        ),
      );
    }
    expect(pendingIn(path)).toBe(total);
    expect(await found(store, userId, `${total - 1}`)).toEqual([`bulk ${total - 1}`]);
    expect(pendingIn(path)).toBe(0);
    expect(await found(store, userId, "0")).toEqual(["bulk 0"]);
    await store.close();
  });

  test("a file indexed by the earlier schema keeps its index through the migration and follows edits", async () => {
    const path = tempPath();
    const db = new Database(path, { create: true, readwrite: true, strict: true });
    db.run("PRAGMA foreign_keys = ON");
    const conn = new SqliteConnection(db);
    applyMigrations(
      conn,
      MIGRATIONS.filter((m) => m.version < 3),
    );
    conn.run(`INSERT INTO users (id, username, email, display_name, password_hash, role, status, created_at)
              VALUES ('u1', 'ann', 'ann@example.com', 'Ann', 'h', 'user', 'active', 1)`);
    conn.run(
      `INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq) VALUES ('r1', 'group', 'Room', '', 'u1', 1, 1)`,
    );
    conn.run("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r1', 'u1', 'owner', 1)");
    // Stored under schema 2: its trigger indexed the message in the same transaction.
    conn.run(`INSERT INTO messages (id, room_id, seq, sender_id, body, created_at)
              VALUES ('m-old', 'r1', 1, 'u1', 'ancient numbat', 2)`);
    conn.run(
      "INSERT INTO events (room_id, seq, type, at, actor_id, message_id) VALUES ('r1', 1, 'message', 2, 'u1', 'm-old')",
    );
    conn.close();

    const { store, userId, roomId } = await openWithRoom(path);
    expect(pendingIn(path)).toBe(0);
    expect(await found(store, userId, "numbat")).toEqual(["ancient numbat"]);
    await store.messages.edit(roomId, "m-old", "renewed bilby", userId, 3);
    expect(await found(store, userId, "numbat")).toEqual([]);
    expect(await found(store, userId, "bilby")).toEqual(["renewed bilby"]);
    await store.close();
  });
});
