import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Message, RoomEvent, SearchHit } from "../../../domain/message.ts";
import type { MessageRepository, NewMessage } from "../../../ports/store.ts";
import type { Db, Queryable } from "./client.ts";
import { foreignKeyViolation, Rollback, rollbackWith, uniqueViolation } from "./pg-errors.ts";
import { claimNextSeq, eventOf, insertEvent, type NewEvent, selectEvents } from "./room-stream.ts";
import { type MessageRow, toMessage } from "./rows.ts";
import { toPrefixTsQuery } from "./search-query.ts";

const MESSAGE_COLUMNS = "id, room_id, seq, sender_id, body, client_msg_id, created_at, edited_at, deleted_at";

type AppendResult = {
  readonly message: Message;
  readonly event: RoomEvent | null;
  readonly created: boolean;
};

/** The stored message for (sender, clientMsgId) as an idempotent replay of `msg`, or Conflict if in another room. */
async function replayOf(q: Queryable, msg: NewMessage, clientMsgId: string): Promise<AppendResult | null> {
  const rows = await q<MessageRow[]>`
    SELECT ${q.unsafe(MESSAGE_COLUMNS)} FROM messages
     WHERE sender_id = ${msg.senderId} AND client_msg_id = ${clientMsgId}`;
  const stored = rows[0];
  if (!stored) return null;
  if (stored.room_id !== msg.roomId) throw new Conflict("clientMsgId");
  return { message: toMessage(stored), event: null, created: false };
}

export function postgresMessages(sql: Db): MessageRepository {
  return {
    /**
     * The room lock (claimNextSeq) comes first: under READ COMMITTED the duplicate check that follows sees
     * every append to this room committed before the lock was granted, so identical calls racing on any
     * number of connections store one row. Racing appends into different rooms are caught by the unique
     * constraint on (sender_id, client_msg_id) and resolved by re-reading the winner.
     */
    async append(msg: NewMessage): Promise<AppendResult> {
      try {
        return await rollbackWith(() =>
          sql.begin(async (tx): Promise<AppendResult> => {
            const seq = await claimNextSeq(tx, msg.roomId);
            if (seq === null) throw new NotFound("room");
            if (msg.clientMsgId !== null) {
              const replay = await replayOf(tx, msg, msg.clientMsgId);
              if (replay) throw new Rollback(replay);
            }
            const rows = await tx<MessageRow[]>`
              INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, created_at)
              VALUES (${msg.id}, ${msg.roomId}, ${seq}, ${msg.senderId}, ${msg.body}, ${msg.clientMsgId},
                      ${msg.createdAt})
              RETURNING ${tx.unsafe(MESSAGE_COLUMNS)}`;
            const event: NewEvent = {
              roomId: msg.roomId,
              seq,
              type: "message",
              at: msg.createdAt,
              actorId: msg.senderId,
              messageId: msg.id,
            };
            await insertEvent(tx, event);
            return { message: toMessage(rows[0]!), event: eventOf(event, rows[0]!), created: true };
          }),
        );
      } catch (error) {
        if (uniqueViolation(error) === "messages_client_msg_id_key" && msg.clientMsgId !== null) {
          const replay = await replayOf(sql, msg, msg.clientMsgId);
          if (replay) return replay;
        }
        if (uniqueViolation(error) === "messages_pkey") throw new Conflict("id");
        if (foreignKeyViolation(error) !== null) throw new NotFound("user");
        throw error;
      }
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
