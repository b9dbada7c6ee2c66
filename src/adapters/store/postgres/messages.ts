import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Message, RoomEvent, SearchHit } from "../../../domain/message.ts";
import type { MessageRepository, NewMessage } from "../../../ports/store.ts";
import { type AppendResult, BatchAppender, createdResult, replayResult } from "./append-batch.ts";
import type { Db, Queryable } from "./client.ts";
import { GroupCommit, type GroupCommitOptions, type GroupCommitStats } from "./group-commit.ts";
import { FUNCTION_MESSAGE_COLUMNS, MESSAGE_COLUMNS } from "./message-columns.ts";
import { foreignKeyViolation, notFoundIn, Rollback, rollbackWith, uniqueViolation } from "./pg-errors.ts";
import { claimNextSeq, eventOf, insertEvent, type NewEvent, selectEvents } from "./room-stream.ts";
import { type MessageRow, toMessage } from "./rows.ts";
import { toPrefixTsQuery } from "./search-query.ts";

/**
 * Appends per batch and batches in flight. A batch's cost is mostly per row (foreign-key checks, index
 * inserts), so beyond a few hundred rows a bigger batch saves little and only holds its room locks longer;
 * 256 amortises the call and the COMMIT's WAL flush while keeping a batch's transaction in the tens of
 * milliseconds even on a loaded two-core machine. Two in flight let a batch over some rooms run while another,
 * over other rooms, waits for its COMMIT or its client, on two of the pool's connections, leaving the rest of the
 * pool to readers (batches sharing a room run one after another: append-batch.ts); three or four measured no
 * clearly better (docs/benchmarks/optimizations.md, "Group commit in the PostgreSQL adapter").
 */
export const APPEND_GROUP_COMMIT: GroupCommitOptions = { maxBatch: 256, maxInFlight: 2 };

/** The stored message for (sender, clientMsgId), if any. */
async function storedPair(
  q: Queryable,
  msg: NewMessage,
  clientMsgId: string,
): Promise<MessageRow | undefined> {
  const rows = await q<MessageRow[]>`
    SELECT ${q.unsafe(MESSAGE_COLUMNS)} FROM messages
     WHERE sender_id = ${msg.senderId} AND client_msg_id = ${clientMsgId}`;
  return rows[0];
}

/** `stored` as an idempotent replay of `msg`, or Conflict if it is in another room. */
function replayOf(msg: NewMessage, stored: MessageRow): AppendResult {
  if (stored.room_id !== msg.roomId) throw new Conflict("clientMsgId");
  return replayResult(stored);
}

/**
 * One append in a transaction of its own — the path of a batch of one, and the one a batch falls back to when
 * PostgreSQL rejects it. It is one statement, `parley_append_message` (migration 5), which takes the room lock
 * (the seq) first and then checks membership and the duplicate: each of its statements takes its snapshot once
 * the lock is granted, so they see every append and membership change of this room committed before it — a
 * removed member cannot append after their member.left, and identical calls racing on any number of
 * connections store one row. Racing appends into different rooms are caught by the unique index on
 * (sender_id, client_msg_id) and resolved by re-reading the winner. One round trip and one statement instead of
 * the four round trips and six statements of a client-side transaction: about a fifth of the client's CPU per
 * append (docs/benchmarks/optimizations.md, "A lone append in one statement").
 */
async function appendAlone(sql: Db, msg: NewMessage): Promise<AppendResult> {
  const { clientMsgId } = msg;
  try {
    const rows = await sql<(MessageRow & { created: boolean })[]>`
      SELECT a.created, ${sql.unsafe(FUNCTION_MESSAGE_COLUMNS)}
        FROM parley_append_message(${msg.id}, ${msg.roomId}, ${msg.senderId}, ${msg.body}, ${clientMsgId},
                                   ${msg.createdAt}) AS a`;
    const row = rows[0];
    if (row === undefined) throw new Error("parley_append_message returned no row");
    if (!row.created) return replayOf(msg, row);
    return createdResult(msg, row);
  } catch (error) {
    const missing = notFoundIn(error);
    if (missing === "rooms") throw new NotFound("room");
    if (missing === "members") throw new NotFound("member");
    if (uniqueViolation(error) === "messages_client_msg_id_key" && clientMsgId !== null) {
      const stored = await storedPair(sql, msg, clientMsgId);
      if (stored) return replayOf(msg, stored);
    }
    if (uniqueViolation(error) === "messages_pkey") throw new Conflict("id");
    if (foreignKeyViolation(error) !== null) throw new NotFound("user");
    throw error;
  }
}

/** How appends were grouped: batches committed, the calls they carried, batches run one by one instead. */
export interface AppendBatchStats extends GroupCommitStats {
  readonly fallbacks: number;
  /** Batches of one, run through the single-message transaction. */
  readonly singles: number;
}

/** The repository, plus how its appends were grouped (for profiling and tests). */
export interface PostgresMessageRepository extends MessageRepository {
  readonly appendStats: AppendBatchStats;
  /** Resolves once every append made so far has settled; the store waits for it before closing its pool. */
  drain(): Promise<void>;
}

export function postgresMessages(
  sql: Db,
  groupCommit: GroupCommitOptions = APPEND_GROUP_COMMIT,
): PostgresMessageRepository {
  const batches = new BatchAppender(sql, (msg) => appendAlone(sql, msg));
  const appends = new GroupCommit(batches.commit, groupCommit);
  return {
    get appendStats(): AppendBatchStats {
      return { ...appends.stats, fallbacks: batches.fallbacks, singles: batches.singles };
    },

    drain: () => appends.idle(),

    /**
     * Group commit: appends made concurrently share one statement, `parley_append_batch`, and its transaction
     * (append-batch.ts, group-commit.ts). Each resolves only after that transaction committed, with the outcome it
     * would have had alone.
     */
    append(msg: NewMessage): Promise<AppendResult> {
      return appends.submit(msg);
    },

    async findById(roomId: string, messageId: string): Promise<Message | null> {
      const rows = await sql<MessageRow[]>`
        SELECT ${sql.unsafe(MESSAGE_COLUMNS)} FROM messages WHERE room_id = ${roomId} AND id = ${messageId}`;
      return rows[0] ? toMessage(rows[0]) : null;
    },

    async edit(roomId, messageId, body, actorId, at): Promise<RoomEvent> {
      // Room lock first, as in append: every writer of a room's stream takes its locks in the same order.
      return sql.begin(async (tx) => {
        const seq = await claimNextSeq(tx, roomId);
        if (seq === null) throw new NotFound("message");
        const rows = await tx<MessageRow[]>`
          UPDATE messages SET body = ${body}, edited_at = ${at}
           WHERE room_id = ${roomId} AND id = ${messageId} AND deleted_at IS NULL
          RETURNING ${tx.unsafe(MESSAGE_COLUMNS)}`;
        if (!rows[0]) throw new NotFound("message");
        const event: NewEvent = { roomId, seq, type: "message.edited", at, actorId, messageId };
        await insertEvent(tx, event);
        return eventOf(event, rows[0]);
      });
    },

    async softDelete(roomId, messageId, actorId, at): Promise<RoomEvent | null> {
      return rollbackWith(() =>
        sql.begin(async (tx) => {
          const seq = await claimNextSeq(tx, roomId);
          if (seq === null) throw new NotFound("message");
          const rows = await tx<MessageRow[]>`
            UPDATE messages SET deleted_at = ${at}
             WHERE room_id = ${roomId} AND id = ${messageId} AND deleted_at IS NULL
            RETURNING ${tx.unsafe(MESSAGE_COLUMNS)}`;
          const row = rows[0];
          if (!row) {
            const existing = await tx`SELECT 1 FROM messages WHERE room_id = ${roomId} AND id = ${messageId}`;
            if (existing.length === 0) throw new NotFound("message");
            throw new Rollback(null);
          }
          const event: NewEvent = { roomId, seq, type: "message.deleted", at, actorId, messageId };
          await insertEvent(tx, event);
          return eventOf(event, row);
        }),
      );
    },

    async page(roomId, opts): Promise<Message[]> {
      const before = opts.before ?? null;
      const rows = await sql<MessageRow[]>`
        SELECT ${sql.unsafe(MESSAGE_COLUMNS)} FROM messages
         WHERE room_id = ${roomId} AND (${before}::bigint IS NULL OR seq < ${before}::bigint)
         ORDER BY seq DESC
         LIMIT ${opts.limit}`;
      return rows.map(toMessage);
    },

    listEvents(roomId, afterSeq, limit): Promise<RoomEvent[]> {
      return selectEvents(sql, roomId, afterSeq, limit);
    },

    async search(userId, query, opts): Promise<SearchHit[]> {
      const tsquery = toPrefixTsQuery(query);
      if (tsquery === null) return [];
      const roomId = opts.roomId ?? null;
      const before = opts.before ?? null;
      const rows = await sql<(MessageRow & { room_name: string })[]>`
        SELECT m.id, m.room_id, m.seq, m.sender_id, m.body, m.client_msg_id, m.created_at, m.edited_at,
               m.deleted_at, r.name AS room_name
          FROM messages m
          JOIN members mb ON mb.room_id = m.room_id AND mb.user_id = ${userId}
          JOIN rooms r ON r.id = m.room_id
         WHERE m.search @@ to_tsquery('simple', ${tsquery})
           AND m.deleted_at IS NULL
           AND (${roomId}::text IS NULL OR m.room_id = ${roomId}::text)
           AND (${before}::text IS NULL OR m.id < ${before}::text)
         ORDER BY m.id DESC
         LIMIT ${opts.limit}`;
      return rows.map((r) => ({ message: toMessage(r), roomName: r.room_name }));
    },
  };
}
