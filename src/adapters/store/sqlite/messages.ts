import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Message, RoomEvent, SearchHit } from "../../../domain/message.ts";
import type { MessageRepository, NewMessage } from "../../../ports/store.ts";
import type { SqliteConnection } from "./connection.ts";
import { allocateSeq, insertEvent, SELECT_STREAM } from "./events.ts";
import { type EventRow, type MessageRow, messageColumns, toPresentMessage, toRoomEvent } from "./rows.ts";
import { SearchIndex } from "./search-index.ts";
import { toFtsQuery } from "./search-query.ts";
import { isConstraintError } from "./sqlite-errors.ts";

const SELECT_MESSAGE = `SELECT ${messageColumns("m")} FROM messages m`;
const MEMBER_OF = "SELECT 1 FROM members WHERE room_id = $roomId AND user_id = $userId";

/**
 * Messages and their events. Every change bumps the room's seq and writes its event in the same transaction (a
 * new message's event is its message row; edits and deletions write an event row).
 * Changes are group-committed (SqliteConnection.txGrouped): concurrent sends share one commit and one fsync, and
 * each still resolves only after that commit, with its own savepoint making it all-or-nothing.
 */
export class SqliteMessageRepository implements MessageRepository {
  readonly #searchIndex: SearchIndex;

  constructor(private readonly conn: SqliteConnection) {
    this.#searchIndex = new SearchIndex(conn);
  }

  /** Stops the search index's timer (messages still queued for it stay queued in the file). */
  close(): void {
    this.#searchIndex.close();
  }

  /**
   * The idempotency lookup and the insert run under one write lock, so racing retries (on this or any other
   * connection to the file) serialise: the first inserts, the others find its row — also inside one group,
   * where a later call sees an earlier one's row. The unique index messages_client_msg_id (sender and client
   * id, messages that carry one) backs this up.
   */
  async append(
    msg: NewMessage,
  ): Promise<{ readonly message: Message; readonly event: RoomEvent | null; readonly created: boolean }> {
    const result = await this.conn.txGrouped(() => {
      // Membership first, under the write lock: a removal commits wholly before or after this append, so a
      // removed member's message is never stored after their member.left. Its one primary-key probe also proves
      // the room exists (members reference rooms); only a refusal asks which of the two is missing.
      if (this.conn.get(MEMBER_OF, { roomId: msg.roomId, userId: msg.senderId }) === null) {
        const room = this.conn.get("SELECT 1 FROM rooms WHERE id = $roomId", { roomId: msg.roomId });
        throw new NotFound(room === null ? "room" : "member");
      }
      if (msg.clientMsgId !== null) {
        const existing = this.conn.get<MessageRow>(
          `${SELECT_MESSAGE} WHERE m.sender_id = $senderId AND m.client_msg_id = $clientMsgId`,
          { senderId: msg.senderId, clientMsgId: msg.clientMsgId },
        );
        if (existing !== null) {
          if (existing.m_room_id !== msg.roomId) throw new Conflict("clientMsgId");
          return { message: toPresentMessage(existing), event: null, created: false };
        }
      }
      const seq = allocateSeq(this.conn, msg.roomId);
      try {
        this.conn.run(
          `INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, created_at)
           VALUES ($id, $roomId, $seq, $senderId, $body, $clientMsgId, $createdAt)`,
          {
            id: msg.id,
            roomId: msg.roomId,
            seq,
            senderId: msg.senderId,
            body: msg.body,
            clientMsgId: msg.clientMsgId,
            createdAt: msg.createdAt,
          },
        );
      } catch (e) {
        if (isConstraintError(e, "SQLITE_CONSTRAINT_FOREIGNKEY")) throw new NotFound("user");
        throw e;
      }
      // No event row: the message row is the record of its 'message' event (SELECT_STREAM in events.ts).
      // Exactly the row just written (a new message is neither edited nor deleted), so no read-back is needed.
      const message: Message = {
        id: msg.id,
        roomId: msg.roomId,
        seq,
        senderId: msg.senderId,
        body: msg.body,
        clientMsgId: msg.clientMsgId,
        createdAt: msg.createdAt,
        editedAt: null,
        deletedAt: null,
      };
      const event: RoomEvent = {
        roomId: msg.roomId,
        seq,
        type: "message",
        at: msg.createdAt,
        actorId: msg.senderId,
        message,
        member: null,
      };
      return { message, event, created: true };
    });
    // Indexed for search in a later batch (search-index.ts); a search catches up first.
    if (result.created) this.#searchIndex.schedule();
    return result;
  }

  async findById(roomId: string, messageId: string): Promise<Message | null> {
    const row = this.#find(roomId, messageId);
    return row === null ? null : toPresentMessage(row);
  }

  async edit(
    roomId: string,
    messageId: string,
    body: string,
    actorId: string,
    at: number,
  ): Promise<RoomEvent> {
    return this.conn.txGrouped(() => {
      const row = this.#find(roomId, messageId);
      if (row === null || row.m_deleted_at !== null) throw new NotFound("message");
      this.conn.run("UPDATE messages SET body = $body, edited_at = $at WHERE id = $messageId", {
        body,
        at,
        messageId,
      });
      const seq = allocateSeq(this.conn, roomId);
      return insertEvent(this.conn, { roomId, seq, type: "message.edited", at, actorId, messageId });
    });
  }

  async softDelete(
    roomId: string,
    messageId: string,
    actorId: string,
    at: number,
  ): Promise<RoomEvent | null> {
    return this.conn.txGrouped(() => {
      const row = this.#find(roomId, messageId);
      if (row === null) throw new NotFound("message");
      if (row.m_deleted_at !== null) return null;
      this.conn.run("UPDATE messages SET deleted_at = $at WHERE id = $messageId", { at, messageId });
      const seq = allocateSeq(this.conn, roomId);
      return insertEvent(this.conn, { roomId, seq, type: "message.deleted", at, actorId, messageId });
    });
  }

  async page(roomId: string, opts: { readonly before?: number; readonly limit: number }): Promise<Message[]> {
    const rows = this.conn.all<MessageRow>(
      `${SELECT_MESSAGE} WHERE m.room_id = $roomId AND ($before IS NULL OR m.seq < $before)
       ORDER BY m.seq DESC LIMIT $limit`,
      { roomId, before: opts.before ?? null, limit: Math.max(0, opts.limit) },
    );
    return rows.map(toPresentMessage);
  }

  async listEvents(roomId: string, afterSeq: number, limit: number): Promise<RoomEvent[]> {
    const rows = this.conn.all<EventRow>(SELECT_STREAM, { roomId, afterSeq, limit: Math.max(0, limit) });
    return rows.map(toRoomEvent);
  }

  /** Newest first by message id, which is time-sortable, so the `before` cursor works across rooms. */
  async search(
    userId: string,
    query: string,
    opts: { readonly roomId?: string; readonly before?: string; readonly limit: number },
  ): Promise<SearchHit[]> {
    const match = toFtsQuery(query);
    if (match === null || opts.limit <= 0) return [];
    await this.#searchIndex.catchUp();
    const rows = this.conn.all<MessageRow & { room_name: string }>(
      `SELECT ${messageColumns("m")}, r.name AS room_name
       FROM messages_fts
       JOIN messages m ON m.pk = messages_fts.rowid
       JOIN members mb ON mb.room_id = m.room_id AND mb.user_id = $userId
       JOIN rooms r ON r.id = m.room_id
       WHERE messages_fts MATCH $match AND m.deleted_at IS NULL
         AND ($roomId IS NULL OR m.room_id = $roomId)
         AND ($before IS NULL OR m.id < $before)
       ORDER BY m.id DESC
       LIMIT $limit`,
      { userId, match, roomId: opts.roomId ?? null, before: opts.before ?? null, limit: opts.limit },
    );
    return rows.map((r) => ({ message: toPresentMessage(r), roomName: r.room_name }));
  }

  #find(roomId: string, messageId: string): MessageRow | null {
    return this.conn.get<MessageRow>(`${SELECT_MESSAGE} WHERE m.room_id = $roomId AND m.id = $messageId`, {
      roomId,
      messageId,
    });
  }
}
