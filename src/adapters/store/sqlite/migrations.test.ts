import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { useTempDirs } from "../../../../test/support/temp-dirs.ts";
import { SqliteConnection } from "./connection.ts";
import { SELECT_EVENTS } from "./events.ts";
import { SqliteMessageRepository } from "./messages.ts";
import { applyMigrations, MIGRATIONS, type Migration } from "./migrations.ts";
import { openSqliteStore } from "./open-sqlite-store.ts";
import { SqliteRoomRepository } from "./rooms.ts";
import { type EventRow, toRoomEvent } from "./rows.ts";
import { SqliteUserRepository } from "./users.ts";

const tempDir = useTempDirs("parley-migrate-");

function tempPath(): string {
  const dir = tempDir();
  return join(dir, "parley.db");
}

/** A connection as the store opens one (foreign keys on), on a file migrated up to and including `upTo`. */
function openAt(path: string, upTo: number): SqliteConnection {
  const db = new Database(path, { create: true, readwrite: true, strict: true });
  db.run("PRAGMA foreign_keys = ON");
  const conn = new SqliteConnection(db, 0);
  applyMigrations(
    conn,
    MIGRATIONS.filter((m) => m.version <= upTo),
  );
  return conn;
}

/** The rows `sql` returns, run on a connection of its own, as another process would. */
function rowsOf(path: string, sql: string): unknown[] {
  const db = new Database(path, { readwrite: true });
  try {
    return db.query(sql).all();
  } finally {
    db.close();
  }
}

const user = (id: string) => ({
  id,
  username: id,
  email: `${id}@example.com`,
  displayName: id,
  passwordHash: "h",
  role: "user" as const,
  createdAt: 1,
});

describe("SQLite migrations", () => {
  test("schemas 4 and 5 keep every message, key, stream event, search hit and idempotency key; client ids alone are indexed", async () => {
    const path = tempPath();
    // A file as the builds of schema 3 left it, written through the repositories: messages with and without client
    // ids, an edited one, a deleted one, one still queued for search and the others indexed; and, as those builds
    // wrote them, an event row for each message.
    const old = openAt(path, 3);
    const users = new SqliteUserRepository(old);
    await users.create(user("u1"));
    await users.create(user("u2"));
    await new SqliteRoomRepository(old).create(
      { id: "r1", kind: "group", name: "Room", topic: "", ownerId: "u1", createdAt: 1 },
      [
        { userId: "u1", role: "owner" },
        { userId: "u2", role: "member" },
      ],
    );
    const oldMessages = new SqliteMessageRepository(old);
    const send = (id: string, senderId: string, body: string, clientMsgId: string | null) =>
      oldMessages.append({ id, roomId: "r1", senderId, body, clientMsgId, createdAt: 10 });
    const keyed = await send("m1", "u1", "keyed wombat", "c1");
    await send("m2", "u1", "plain quokka", null);
    await send("m3", "u2", "doomed dingo", null);
    await send("m4", "u2", "first draft", "c1");
    await oldMessages.search("u1", "wombat", { limit: 10 }); // indexes m1..m4
    await oldMessages.softDelete("r1", "m3", "u2", 11);
    await oldMessages.edit("r1", "m4", "second draft", "u2", 12);
    await send("m5", "u1", "queued echidna", null);
    old.run(`INSERT INTO events (room_id, seq, type, at, actor_id, message_id)
             SELECT room_id, seq, 'message', created_at, sender_id, id FROM messages`);
    const streamBefore = old
      .all<EventRow>(`${SELECT_EVENTS} WHERE e.room_id = 'r1' ORDER BY e.seq`)
      .map(toRoomEvent);
    expect(streamBefore.map((e) => `${e.seq} ${e.type} ${e.message?.id}`)).toEqual([
      "1 message m1",
      "2 message m2",
      "3 message m3",
      "4 message m4",
      "5 message.deleted m3",
      "6 message.edited m4",
      "7 message m5",
    ]);
    oldMessages.close();
    old.close();
    const messagesBefore = rowsOf(path, "SELECT * FROM messages ORDER BY pk");
    expect(rowsOf(path, "SELECT pk FROM search_pending")).toEqual([{ pk: 5 }]);

    const store = openSqliteStore({ path });
    await store.migrate();
    expect(rowsOf(path, "SELECT * FROM messages ORDER BY pk")).toEqual(messagesBefore);
    expect(rowsOf(path, "PRAGMA foreign_key_check")).toEqual([]);
    expect(rowsOf(path, "SELECT max(version) AS v FROM schema_migrations")).toEqual([{ v: 5 }]);
    // The stream reads the same, every page size included; message events now come from the messages table.
    expect(await store.messages.listEvents("r1", 0, 100)).toEqual(streamBefore);
    for (const [after, limit] of [
      [0, 3],
      [3, 2],
      [4, 3],
      [6, 5],
      [7, 5],
    ] as const) {
      expect(await store.messages.listEvents("r1", after, limit)).toEqual(
        streamBefore.filter((e) => e.seq > after).slice(0, limit),
      );
    }
    expect(rowsOf(path, "SELECT seq, type FROM events ORDER BY seq")).toEqual([
      { seq: 5, type: "message.deleted" },
      { seq: 6, type: "message.edited" },
    ]);
    // The client-id index is partial; no other index covers (sender_id, client_msg_id).
    const indexes = rowsOf(
      path,
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name",
    ) as { name: string; sql: string | null }[];
    expect(indexes.map((i) => i.name)).toEqual([
      "messages_client_msg_id",
      "sqlite_autoindex_messages_1",
      "sqlite_autoindex_messages_2",
    ]);
    expect(indexes[0]?.sql).toContain("WHERE client_msg_id IS NOT NULL");
    const columnsOf = (index: string) =>
      (rowsOf(path, `PRAGMA index_info(${index})`) as { name: string }[]).map((c) => c.name);
    expect(columnsOf("sqlite_autoindex_messages_1")).toEqual(["id"]);
    expect(columnsOf("sqlite_autoindex_messages_2")).toEqual(["room_id", "seq"]);

    // Search: the indexed and the queued message are found, the deleted one is not, the edit holds, and edits
    // after the rebuild still reach the index (the triggers came back with the table).
    const words = async (word: string) =>
      (await store.messages.search("u1", word, { limit: 10 })).map((h) => h.message.id);
    expect(await words("wombat")).toEqual(["m1"]);
    expect(await words("echidna")).toEqual(["m5"]);
    expect(await words("dingo")).toEqual([]);
    expect(await words("first")).toEqual([]);
    expect(await words("second")).toEqual(["m4"]);
    await store.messages.edit("r1", "m1", "renamed bilby", "u1", 13);
    expect(await words("wombat")).toEqual([]);
    expect(await words("bilby")).toEqual(["m1"]);
    // FTS5's own structural check of the index (throws when it is corrupt).
    expect(() =>
      rowsOf(path, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)"),
    ).not.toThrow();

    // Idempotency on the old rows, and many messages without a client id from one sender.
    const again = await store.messages.append({
      id: "m6",
      roomId: "r1",
      senderId: "u1",
      body: "retry",
      clientMsgId: "c1",
      createdAt: 14,
    });
    expect(again).toMatchObject({
      created: false,
      message: { id: keyed.message.id, seq: keyed.message.seq },
    });
    for (const id of ["m7", "m8"]) {
      const r = await store.messages.append({
        id,
        roomId: "r1",
        senderId: "u1",
        body: id,
        clientMsgId: null,
        createdAt: 15,
      });
      expect(r.created).toBe(true);
    }
    // Foreign keys are enforced again on the store's connection.
    await expect(
      store.messages.append({
        id: "m9",
        roomId: "r1",
        senderId: "nobody",
        body: "x",
        clientMsgId: null,
        createdAt: 16,
      }),
    ).rejects.toMatchObject({ name: "NotFound" });
    await store.close();
  });

  test("a migration that leaves a dangling reference rolls back whole; foreign keys are on again afterwards", () => {
    const path = tempPath();
    const conn = openAt(path, MIGRATIONS.length);
    conn.run(`INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
              VALUES ('u1', 'ann', 'ann@example.com', 'Ann', 'h', 'user', 1)`);
    conn.run(
      "INSERT INTO rooms (id, kind, name, topic, owner_id, created_at) VALUES ('r1', 'group', 'R', '', 'u1', 1)",
    );
    conn.run("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r1', 'u1', 'owner', 1)");
    // With foreign keys off, ON DELETE CASCADE does not run: members are left pointing at no room.
    const broken: Migration = { version: 99, name: "broken", sql: "DELETE FROM rooms;" };
    expect(() => applyMigrations(conn, [...MIGRATIONS, broken])).toThrow(/1 rows referencing missing rows/);
    expect(conn.all("SELECT id FROM rooms")).toEqual([{ id: "r1" }]);
    expect(conn.all("SELECT version FROM schema_migrations WHERE version = 99")).toEqual([]);
    expect(conn.get("PRAGMA foreign_keys")).toEqual({ foreign_keys: 1 });
    expect(() => conn.run("DELETE FROM users")).toThrow(/FOREIGN KEY/);
    conn.close();
  });

  test("a connection that had foreign keys off keeps them off", () => {
    const db = new Database(":memory:", { strict: true });
    const conn = new SqliteConnection(db, 0);
    applyMigrations(conn);
    expect(conn.get("PRAGMA foreign_keys")).toEqual({ foreign_keys: 0 });
    conn.close();
  });
});
