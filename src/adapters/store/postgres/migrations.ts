import type { Db } from "./client.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, as ordered migrations. Applied ones are recorded in schema_migrations and never edited; a change
 * is a new entry at the end. Times, seqs and counters are BIGINT milliseconds / numbers.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
-- Ids are ULIDs compared byte-wise (COLLATE "C"), so ordering and paging by id never depend on the locale.
CREATE TABLE users (
  id            TEXT COLLATE "C" PRIMARY KEY,
  username      TEXT NOT NULL,
  email         TEXT NOT NULL,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('user', 'agent', 'admin')),
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
  created_at    BIGINT NOT NULL
);
-- Case-insensitive uniqueness; the values are stored as given.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE sessions (
  id           TEXT COLLATE "C" PRIMARY KEY,
  user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  revoked_at   BIGINT,
  user_agent   TEXT,
  ip           TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id, last_used_at DESC);

-- Every refresh token a session has had, by hash. Exactly one per session is unspent (the current one).
CREATE TABLE refresh_tokens (
  token_hash TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at  BIGINT NOT NULL,
  spent_at   BIGINT
);
CREATE UNIQUE INDEX refresh_tokens_current_key ON refresh_tokens (session_id) WHERE spent_at IS NULL;

CREATE TABLE rooms (
  id         TEXT COLLATE "C" PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('group', 'dm', 'support')),
  name       TEXT NOT NULL,
  topic      TEXT NOT NULL,
  owner_id   TEXT COLLATE "C" REFERENCES users (id),
  created_at BIGINT NOT NULL,
  -- The highest committed seq; its row lock serialises every append to the room's stream.
  last_seq   BIGINT NOT NULL DEFAULT 0,
  dm_key     TEXT,
  CONSTRAINT rooms_dm_key_key UNIQUE (dm_key)
);

CREATE TABLE members (
  room_id   TEXT COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
  joined_at BIGINT NOT NULL,
  read_seq  BIGINT NOT NULL DEFAULT 0,
  -- Insertion order, the tie-break for members who joined at the same millisecond.
  join_no   BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

CREATE TABLE messages (
  id            TEXT COLLATE "C" PRIMARY KEY,
  room_id       TEXT COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  seq           BIGINT NOT NULL,
  sender_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  -- Kept after a soft delete for audit; readers see null once deleted_at is set.
  body          TEXT NOT NULL,
  client_msg_id TEXT,
  created_at    BIGINT NOT NULL,
  edited_at     BIGINT,
  deleted_at    BIGINT,
  -- Punctuation becomes a separator first, so words split as plain text does (and as SQLite FTS5 splits
  -- them): "bob@example.com" is three words here, not one e-mail token.
  search        TSVECTOR GENERATED ALWAYS AS
                  (to_tsvector('simple', regexp_replace(body, '[[:punct:]]+', ' ', 'g'))) STORED,
  CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq),
  -- Backstop of idempotent send across rooms; within a room the room lock already serialises the check.
  CONSTRAINT messages_client_msg_id_key UNIQUE (sender_id, client_msg_id)
);
CREATE INDEX messages_search_idx ON messages USING GIN (search);

CREATE TABLE events (
  room_id        TEXT COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  seq            BIGINT NOT NULL,
  type           TEXT NOT NULL
                   CHECK (type IN ('message', 'message.edited', 'message.deleted', 'member.joined', 'member.left')),
  at             BIGINT NOT NULL,
  actor_id       TEXT COLLATE "C" NOT NULL,
  message_id     TEXT COLLATE "C" REFERENCES messages (id) ON DELETE CASCADE,
  member_user_id TEXT COLLATE "C",
  member_role    TEXT,
  PRIMARY KEY (room_id, seq)
);
`,
  },
  {
    version: 2,
    name: "room details version",
    sql: `
-- The version of a room's details (name, topic, owner): raised by one in the transaction of every change of them,
-- under the room row's lock, so racing changes get distinct versions in commit order. Existing rooms and new ones
-- start at 1 (a constant default: no table rewrite).
ALTER TABLE rooms ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);
`,
  },
  {
    version: 3,
    name: "idempotency keys indexed only where given",
    sql: `
-- The unique constraint on (sender_id, client_msg_id) indexed every message, those sent without a client id too:
-- one more B-tree insert per row, at a place set by the sender. A partial unique index of the same name keeps the
-- guarantee (and the name a violation reports) for the messages that carry a client id and costs the others
-- nothing. Both statements run in the migration's transaction, whose lock on messages holds appends back until it
-- commits: no append sees the table without the guarantee.
ALTER TABLE messages DROP CONSTRAINT messages_client_msg_id_key;
CREATE UNIQUE INDEX messages_client_msg_id_key ON messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
`,
  },
  {
    version: 4,
    name: "message events read from messages",
    sql: `
-- A message's event row repeated its message row (room, seq, created_at as the event's time, sender as its actor,
-- the message id), with its own index entry and foreign-key checks. The room stream's 'message' events are now
-- read from messages, merged by seq with the rows here (selectEvents in room-stream.ts); events keeps edits,
-- deletions and membership changes. A seq stays unique per room across both tables: claimNextSeq hands each out
-- once, under the room row's lock.
DELETE FROM events WHERE type = 'message';
`,
  },
  {
    version: 5,
    name: "one statement per lone append",
    sql: `
-- A lone append (appendAlone in messages.ts) as one call: the same steps as the transaction the client used to run
-- statement by statement (BEGIN, the room lock with the membership and duplicate checks, the INSERT, COMMIT: four
-- round trips and six statements), here inside the implicit transaction of the calling statement. A VOLATILE
-- function takes a fresh snapshot for each statement under READ COMMITTED, so the checks after the lock see every
-- append and membership change of the room committed before it was granted, exactly as before.
-- - No room: raises P0002 naming table rooms; not a member: P0002 naming table members. Either rolls back, so no
--   seq is taken.
-- - A stored (sender, client_msg_id): gives the seq back (the room row is still locked, so nobody took the next
--   one) and returns that row with created = false; the caller tells a replay from another room's Conflict.
-- - Constraint violations (the id, the racing duplicate in another room, a sender gone) surface as they would
--   from the INSERT itself, constraint names included.
CREATE FUNCTION parley_append_message(
  p_id TEXT, p_room_id TEXT, p_sender_id TEXT, p_body TEXT, p_client_msg_id TEXT, p_created_at BIGINT
) RETURNS TABLE (created BOOLEAN, message messages)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_seq BIGINT;
BEGIN
  UPDATE rooms SET last_seq = last_seq + 1 WHERE rooms.id = p_room_id RETURNING rooms.last_seq INTO v_seq;
  IF v_seq IS NULL THEN
    RAISE EXCEPTION 'room % not found', p_room_id USING ERRCODE = 'P0002', TABLE = 'rooms';
  END IF;
  PERFORM 1 FROM members WHERE members.room_id = p_room_id AND members.user_id = p_sender_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % is not a member of room %', p_sender_id, p_room_id
      USING ERRCODE = 'P0002', TABLE = 'members';
  END IF;
  IF p_client_msg_id IS NOT NULL THEN
    SELECT * INTO message FROM messages
     WHERE messages.sender_id = p_sender_id AND messages.client_msg_id = p_client_msg_id;
    IF FOUND THEN
      UPDATE rooms SET last_seq = last_seq - 1 WHERE rooms.id = p_room_id;
      created := false;
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, created_at)
  VALUES (p_id, p_room_id, v_seq, p_sender_id, p_body, p_client_msg_id, p_created_at)
  RETURNING * INTO message;
  created := true;
  RETURN NEXT;
END
$fn$;
`,
  },
  {
    version: 6,
    name: "one statement per batch append",
    sql: `
-- A batch of appends (BatchAppender in append-batch.ts) as one call, so its room locks are held only while
-- PostgreSQL runs it and commits. The client-side transaction it replaces held them from its lock statement to its
-- COMMIT, across two round trips to a client whose event loop is shared with everything else the process does:
-- under load every other process appending to those rooms waited that long.
-- Steps, in one implicit transaction, each statement with a fresh snapshot (VOLATILE, READ COMMITTED):
-- 1. the batch's rooms locked in id order (the sort sits below the lock in the plan), FOR NO KEY UPDATE as the
--    single-message path's UPDATE takes it, so batches of any number of processes and single-room writers never
--    wait on each other in a cycle;
-- 2. one statement, whose snapshot is taken after the locks were granted, so it sees every append and
--    membership change of these rooms committed before: each entry's outcome, checked in the order of the
--    single-message path (no room, not a member, a stored client-msg-id in another room, a replay, a taken id);
--    the created entries inserted with seqs per room in call order; each room's last_seq raised once.
-- Entries are decided independently: the caller never passes an id or a (sender, client-msg-id) twice in one
-- call (it cuts the batch into calls instead). One row per entry, in call order (n from 1): its outcome, and the
-- stored row of a created or replayed entry. A constraint violation (a racing duplicate in a room not locked
-- here, a sender gone) rolls the whole call back, as from the INSERT itself.
-- Both statements are planned for each call (EXECUTE), for the arrays at hand: a plan cached while a table was
-- small would go on scanning it whole once it is large. The inserts' foreign-key checks keep their cached plans.
CREATE FUNCTION parley_append_batch(
  p_ids TEXT[], p_room_ids TEXT[], p_sender_ids TEXT[], p_bodies TEXT[], p_client_msg_ids TEXT[],
  p_created_ats BIGINT[]
) RETURNS TABLE (n INT, outcome TEXT, message messages)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  EXECUTE 'SELECT 1 FROM rooms WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE' USING p_room_ids;
  RETURN QUERY EXECUTE $q$
    WITH v AS (
      SELECT e.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                      WITH ORDINALITY AS e(id, room_id, sender_id, body, client_msg_id, created_at, n)
    ),
    p AS (
      SELECT v.*, r.last_seq,
             CASE
               WHEN r.id IS NULL THEN 'no_room'
               WHEN mb.user_id IS NULL THEN 'no_member'
               WHEN s.id IS NOT NULL AND s.room_id <> v.room_id THEN 'conflict_client_msg_id'
               WHEN s.id IS NOT NULL THEN 'replay'
               WHEN t.id IS NOT NULL THEN 'conflict_id'
               ELSE 'created'
             END AS outcome,
             s AS stored
        FROM v
        LEFT JOIN rooms r ON r.id = v.room_id
        LEFT JOIN members mb ON mb.room_id = v.room_id AND mb.user_id = v.sender_id
        LEFT JOIN messages s ON s.sender_id = v.sender_id AND s.client_msg_id = v.client_msg_id
        LEFT JOIN messages t ON t.id = v.id
    ),
    ins AS (
      INSERT INTO messages AS m (id, room_id, seq, sender_id, body, client_msg_id, created_at)
      SELECT p.id, p.room_id, p.last_seq + row_number() OVER (PARTITION BY p.room_id ORDER BY p.n),
             p.sender_id, p.body, p.client_msg_id, p.created_at
        FROM p WHERE p.outcome = 'created'
      RETURNING m.id, m AS row
    ),
    bump AS (
      UPDATE rooms AS r SET last_seq = r.last_seq + c.k
        FROM (SELECT p.room_id, count(*) AS k FROM p WHERE p.outcome = 'created' GROUP BY p.room_id) AS c
       WHERE r.id = c.room_id
    )
    SELECT p.n::int, p.outcome,
           CASE p.outcome WHEN 'created' THEN i.row WHEN 'replay' THEN p.stored END
      FROM p LEFT JOIN ins AS i ON i.id = p.id AND p.outcome = 'created'
     ORDER BY p.n
  $q$ USING p_ids, p_room_ids, p_sender_ids, p_bodies, p_client_msg_ids, p_created_ats;
END
$fn$;
`,
  },
  {
    version: 7,
    name: "batch append with cached plans",
    sql: `
-- parley_append_batch again, with the same locks, checks, outcomes and result as migration 6, planned once per
-- connection instead of on every call: migration 6 runs its statements by EXECUTE, and a batch of two entries
-- cost PostgreSQL 2 to 4 ms of CPU per call, nearly all of it planning, against 0.5 ms with the plans kept; most
-- batches are that small when several processes share the appends. The plans are kept generic
-- (plan_cache_mode), and made without sequential or bitmap scans and with every lookup a LATERAL probe, so a plan
-- made while the tables were empty or never analyzed still probes each entry's rows by index when they are large:
-- a cached plan that scanned a table whole would go on doing so as it grows. The one hash join left joins the
-- batch's own rows. Each room's last_seq is raised by a probe per room that got entries.
CREATE OR REPLACE FUNCTION parley_append_batch(
  p_ids TEXT[], p_room_ids TEXT[], p_sender_ids TEXT[], p_bodies TEXT[], p_client_msg_ids TEXT[],
  p_created_ats BIGINT[]
) RETURNS TABLE (n INT, outcome TEXT, message messages)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $fn$
#variable_conflict use_column
BEGIN
  PERFORM 1 FROM rooms WHERE id = ANY($2) ORDER BY id FOR NO KEY UPDATE;
  RETURN QUERY
    WITH v AS (
      SELECT e.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                      WITH ORDINALITY AS e(id, room_id, sender_id, body, client_msg_id, created_at, n)
    ),
    p AS (
      SELECT v.*, r.last_seq,
             CASE
               WHEN r.id IS NULL THEN 'no_room'
               WHEN mb.found IS NULL THEN 'no_member'
               WHEN s.id IS NOT NULL AND s.room_id <> v.room_id THEN 'conflict_client_msg_id'
               WHEN s.id IS NOT NULL THEN 'replay'
               WHEN t.found IS NOT NULL THEN 'conflict_id'
               ELSE 'created'
             END AS outcome,
             s.row AS stored
        FROM v
        LEFT JOIN LATERAL (SELECT r.id, r.last_seq FROM rooms r WHERE r.id = v.room_id LIMIT 1) r ON true
        LEFT JOIN LATERAL (SELECT true AS found FROM members mb
                            WHERE mb.room_id = v.room_id AND mb.user_id = v.sender_id LIMIT 1) mb ON true
        LEFT JOIN LATERAL (SELECT s.id, s.room_id, s AS row FROM messages s
                            WHERE s.sender_id = v.sender_id AND s.client_msg_id = v.client_msg_id LIMIT 1) s ON true
        LEFT JOIN LATERAL (SELECT true AS found FROM messages t WHERE t.id = v.id LIMIT 1) t ON true
    ),
    ins AS (
      INSERT INTO messages AS m (id, room_id, seq, sender_id, body, client_msg_id, created_at)
      SELECT p.id, p.room_id, p.last_seq + row_number() OVER (PARTITION BY p.room_id ORDER BY p.n),
             p.sender_id, p.body, p.client_msg_id, p.created_at
        FROM p WHERE p.outcome = 'created'
      RETURNING m.id, m AS row
    ),
    c AS (
      SELECT p.room_id, count(*) AS k FROM p WHERE p.outcome = 'created' GROUP BY p.room_id
    ),
    bump AS (
      UPDATE rooms AS r SET last_seq = r.last_seq + c.k FROM c WHERE r.id = c.room_id
    )
    SELECT p.n::int, p.outcome,
           CASE p.outcome WHEN 'created' THEN i.row WHEN 'replay' THEN p.stored END
      FROM p LEFT JOIN ins AS i ON i.id = p.id AND p.outcome = 'created'
     ORDER BY p.n;
END
$fn$;
`,
  },
];

/** Distinguishes this store's advisory lock from any other user of pg_advisory_xact_lock. */
const LOCK_NAMESPACE = "parley.migrate";

/**
 * Applies pending migrations in one transaction under a transaction-level advisory lock keyed by the schema,
 * so processes starting at once queue up: the first applies, the others then find nothing to do. A failing
 * migration rolls everything back, including the schema_migrations rows.
 */
export async function migrate(sql: Db, schema: string | undefined): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${LOCK_NAMESPACE}), hashtext(${schema ?? ""}))`;
    if (schema !== undefined) {
      // Looked up first: CREATE SCHEMA checks the CREATE privilege on the database even when the schema exists,
      // and a production role may own its schema without holding that privilege.
      const found = await tx`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
      if (found.length === 0) await tx`CREATE SCHEMA ${tx(schema)}`;
    }
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`;
    const rows = await tx<{ version: number }[]>`SELECT version FROM schema_migrations`;
    const applied = new Set(rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
    }
  });
}
