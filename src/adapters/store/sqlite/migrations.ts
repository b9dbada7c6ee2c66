import type { SqliteConnection } from "./connection.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The SQLite schema as an ordered list of migrations. Applied migrations are never edited: a change is a new
 * entry with the next version. Times are INTEGER milliseconds; tables are STRICT so a wrongly typed value is
 * rejected instead of silently stored.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL,
  email         TEXT NOT NULL,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('user', 'agent', 'admin')),
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
  created_at    INTEGER NOT NULL
) STRICT;
-- Stored as given, unique case-insensitively (NOCASE folds ASCII letters).
CREATE UNIQUE INDEX users_username_key ON users (username COLLATE NOCASE);
CREATE UNIQUE INDEX users_email_key ON users (email COLLATE NOCASE);
CREATE INDEX users_role ON users (role);

CREATE TABLE sessions (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The current refresh token of the session's family, as a hash: raw tokens are never stored.
  refresh_token_hash TEXT NOT NULL UNIQUE,
  created_at         INTEGER NOT NULL,
  last_used_at       INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL,
  revoked_at         INTEGER,
  user_agent         TEXT,
  ip                 TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, last_used_at);

-- Every token a session rotated away from; presenting one again is reuse and revokes the session.
CREATE TABLE spent_refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  spent_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX spent_refresh_tokens_session ON spent_refresh_tokens (session_id);

CREATE TABLE rooms (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('group', 'dm', 'support')),
  name       TEXT NOT NULL,
  topic      TEXT NOT NULL,
  owner_id   TEXT REFERENCES users (id),
  created_at INTEGER NOT NULL,
  -- Highest committed seq of the room's stream; bumped in the same transaction as the event it numbers.
  last_seq   INTEGER NOT NULL DEFAULT 0,
  dm_key     TEXT UNIQUE
) STRICT;

CREATE TABLE members (
  room_id   TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
  joined_at INTEGER NOT NULL,
  read_seq  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
) STRICT;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
  -- Integer key for the full-text index; the public id is the opaque, time-sortable id.
  pk            INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  room_id       TEXT NOT NULL REFERENCES rooms (id),
  seq           INTEGER NOT NULL,
  sender_id     TEXT NOT NULL REFERENCES users (id),
  -- Kept after a soft delete for audit; the store reads it as null once deleted_at is set.
  body          TEXT NOT NULL,
  client_msg_id TEXT,
  created_at    INTEGER NOT NULL,
  edited_at     INTEGER,
  deleted_at    INTEGER,
  UNIQUE (room_id, seq),
  UNIQUE (sender_id, client_msg_id)
) STRICT;

CREATE TABLE events (
  room_id        TEXT NOT NULL REFERENCES rooms (id),
  seq            INTEGER NOT NULL,
  type           TEXT NOT NULL
                 CHECK (type IN ('message', 'message.edited', 'message.deleted', 'member.joined', 'member.left')),
  at             INTEGER NOT NULL,
  actor_id       TEXT NOT NULL REFERENCES users (id),
  message_id     TEXT REFERENCES messages (id),
  member_user_id TEXT REFERENCES users (id),
  member_role    TEXT CHECK (member_role IN ('owner', 'member')),
  PRIMARY KEY (room_id, seq)
) STRICT, WITHOUT ROWID;

-- Full-text index over live message bodies only. External content (no second copy of the text); the triggers
-- keep it in sync: a deleted message leaves the index, an edited one is re-indexed.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  body,
  content = 'messages',
  content_rowid = 'pk',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO messages_fts (rowid, body) VALUES (new.pk, new.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.pk, old.body WHERE old.deleted_at IS NULL;
  INSERT INTO messages_fts (rowid, body) SELECT new.pk, new.body WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.pk, old.body);
END;
`,
  },
  {
    version: 2,
    name: "room details version",
    sql: `
-- The version of a room's details (name, topic, owner): raised by one in the transaction of every change of them,
-- so racing changes get distinct versions in commit order. Existing rooms and new ones start at 1.
ALTER TABLE rooms ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
`,
  },
  {
    version: 3,
    name: "search indexing after commit",
    sql: `
-- New messages wait here to be added to the full-text index in batches (search-index.ts), not inside the group
-- commit that stores them: full-text indexing writes a new index segment per transaction, which cost more than
-- the rest of an append. Invariant: a message is in messages_fts exactly when it is not pending and not deleted,
-- and then with its current body. Messages stored before this migration are all indexed already.
CREATE TABLE search_pending (pk INTEGER PRIMARY KEY) STRICT;
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
CREATE TRIGGER messages_search_pending AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
  INSERT OR IGNORE INTO search_pending (pk) VALUES (new.pk);
END;
-- A pending message is indexed with whatever it holds when its batch runs, so only indexed ones follow edits.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages
  WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE pk = old.pk) BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.pk, old.body WHERE old.deleted_at IS NULL;
  INSERT INTO messages_fts (rowid, body) SELECT new.pk, new.body WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.pk, old.body
   WHERE old.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM search_pending WHERE pk = old.pk);
  DELETE FROM search_pending WHERE pk = old.pk;
END;
`,
  },
  {
    version: 4,
    name: "idempotency keys indexed only where given",
    sql: `
-- UNIQUE (sender_id, client_msg_id) put every message in its index, those sent without a client id too (as
-- (sender, NULL)): one more B-tree page per message, at a place set by the sender, so a group commit of n senders'
-- messages wrote n more pages (about a quarter of the bytes a message costs the store). A partial unique index
-- keeps the same guarantee for messages that carry a client id and costs nothing for the others. SQLite cannot
-- drop a table constraint, so the table is rebuilt: SQLite's documented procedure, with foreign keys off for the
-- migration (applyMigrations; checked again before it commits). Columns, keys, row ids (the search index's keys)
-- and the other indexes are unchanged, as are the triggers of migration 3, recreated below.
CREATE TABLE messages_rebuilt (
  pk            INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  room_id       TEXT NOT NULL REFERENCES rooms (id),
  seq           INTEGER NOT NULL,
  sender_id     TEXT NOT NULL REFERENCES users (id),
  body          TEXT NOT NULL,
  client_msg_id TEXT,
  created_at    INTEGER NOT NULL,
  edited_at     INTEGER,
  deleted_at    INTEGER,
  UNIQUE (room_id, seq)
) STRICT;
INSERT INTO messages_rebuilt (pk, id, room_id, seq, sender_id, body, client_msg_id, created_at, edited_at, deleted_at)
  SELECT pk, id, room_id, seq, sender_id, body, client_msg_id, created_at, edited_at, deleted_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;
CREATE UNIQUE INDEX messages_client_msg_id ON messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE TRIGGER messages_search_pending AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
  INSERT OR IGNORE INTO search_pending (pk) VALUES (new.pk);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages
  WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE pk = old.pk) BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.pk, old.body WHERE old.deleted_at IS NULL;
  INSERT INTO messages_fts (rowid, body) SELECT new.pk, new.body WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.pk, old.body
   WHERE old.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM search_pending WHERE pk = old.pk);
  DELETE FROM search_pending WHERE pk = old.pk;
END;
`,
  },
  {
    version: 5,
    name: "message events read from messages",
    sql: `
-- A message's event row repeated its message row (room, seq, created_at as the event's time, sender as its actor,
-- the message id) in a table keyed by room, with three foreign keys to check: a third of what an append cost the
-- store, and a page per room in every group commit. The room stream's 'message' events are now read from
-- messages, merged by seq with the rows here (SELECT_STREAM in events.ts); events keeps edits, deletions and
-- membership changes. A seq stays unique per room across both tables: allocateSeq hands each out once, under the
-- write lock, to exactly one change.
DELETE FROM events WHERE type = 'message';
`,
  },
];

/**
 * Applies the pending migrations in version order, all in one immediate transaction: two processes migrating
 * the same file serialise on the write lock, and the second finds nothing left to do. Refuses to run against
 * a database migrated by a newer build, whose schema this code does not know.
 *
 * Foreign keys are off while it runs (the pragma has no effect inside a transaction, so it is set around it):
 * a migration that rebuilds a table drops the old one while other tables still reference it, which with foreign
 * keys on would delete or refuse their rows. When a migration was applied, PRAGMA foreign_key_check runs before
 * the commit instead, so one that leaves a dangling reference rolls back whole (with none applied it is skipped:
 * it reads every referencing row). The connection's setting is restored after.
 */
export function applyMigrations(conn: SqliteConnection, migrations: readonly Migration[] = MIGRATIONS): void {
  const foreignKeys = conn.get<{ foreign_keys: number }>("PRAGMA foreign_keys")?.foreign_keys === 1;
  if (foreignKeys) conn.db.run("PRAGMA foreign_keys = OFF");
  try {
    migrateInOneTransaction(conn, migrations, foreignKeys);
  } finally {
    if (foreignKeys) conn.db.run("PRAGMA foreign_keys = ON");
  }
}

function migrateInOneTransaction(
  conn: SqliteConnection,
  migrations: readonly Migration[],
  checkForeignKeys: boolean,
): void {
  conn.tx(() => {
    conn.db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ) STRICT`);
    const applied = new Set(
      conn.all<{ version: number }>("SELECT version FROM schema_migrations").map((r) => r.version),
    );
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new Error(`database has schema versions ${unknown.join(", ")} that this build does not know`);
    }
    let appliedNow = 0;
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      appliedNow++;
      conn.db.run(m.sql);
      conn.run("INSERT INTO schema_migrations (version, name) VALUES ($version, $name)", {
        version: m.version,
        name: m.name,
      });
    }
    if (checkForeignKeys && appliedNow > 0) {
      const dangling = conn.all<{ table: string; parent: string }>("PRAGMA foreign_key_check");
      if (dangling.length > 0) {
        const first = dangling[0];
        throw new Error(
          `migration left ${dangling.length} rows referencing missing rows (first: ${first?.table} → ${first?.parent})`,
        );
      }
    }
  });
}
