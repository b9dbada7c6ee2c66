import type { RoomEvent, RoomEventType } from "../../../domain/message.ts";
import type { MemberRole } from "../../../domain/room.ts";
import type { Queryable, Tx } from "./client.ts";
import { prefixedMessageColumns } from "./message-columns.ts";
import { type EventRow, type MessageRow, toRoomEvent } from "./rows.ts";

/**
 * Claims the room's next seq inside the caller's transaction, or returns null if the room does not exist.
 * The UPDATE takes the room row's lock and holds it to commit, so appends to one room are serialised across
 * every connection and process; a rollback undoes the increment, so committed seqs have no gaps.
 */
export async function claimNextSeq(tx: Tx, roomId: string): Promise<number | null> {
  const rows = await tx<{ last_seq: number }[]>`
    UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ${roomId} RETURNING last_seq`;
  return rows[0]?.last_seq ?? null;
}

export interface NewEvent {
  readonly roomId: string;
  readonly seq: number;
  readonly type: RoomEventType;
  readonly at: number;
  readonly actorId: string;
  readonly messageId?: string;
  readonly member?: { readonly userId: string; readonly role: MemberRole };
}

/** The event that announces a newly appended message at `seq`. */
export function newMessageEvent(
  msg: {
    readonly id: string;
    readonly roomId: string;
    readonly senderId: string;
    readonly createdAt: number;
  },
  seq: number,
): NewEvent {
  return {
    roomId: msg.roomId,
    seq,
    type: "message",
    at: msg.createdAt,
    actorId: msg.senderId,
    messageId: msg.id,
  };
}

/** Inserts the event row for a seq claimed by claimNextSeq in the same transaction. Never a 'message' (see selectEvents). */
export async function insertEvent(tx: Tx, e: NewEvent): Promise<void> {
  await tx`
    INSERT INTO events (room_id, seq, type, at, actor_id, message_id, member_user_id, member_role)
    VALUES (${e.roomId}, ${e.seq}, ${e.type}, ${e.at}, ${e.actorId}, ${e.messageId ?? null},
            ${e.member?.userId ?? null}, ${e.member?.role ?? null})`;
}

/** The event as a reader sees it, built without a round trip when the caller holds the message row. */
export function eventOf(e: NewEvent, message: MessageRow | null): RoomEvent {
  return toRoomEvent({
    room_id: e.roomId,
    seq: e.seq,
    type: e.type,
    at: e.at,
    actor_id: e.actorId,
    member_user_id: e.member?.userId ?? null,
    member_role: e.member?.role ?? null,
    m_id: message?.id ?? null,
    m_room_id: message?.room_id ?? null,
    m_seq: message?.seq ?? null,
    m_sender_id: message?.sender_id ?? null,
    m_body: message?.body ?? null,
    m_client_msg_id: message?.client_msg_id ?? null,
    m_created_at: message?.created_at ?? null,
    m_edited_at: message?.edited_at ?? null,
    m_deleted_at: message?.deleted_at ?? null,
  });
}

const STREAM_MESSAGE_COLUMNS = prefixedMessageColumns("m");

/**
 * Events with seq > afterSeq, ascending, each joined with its message's current state.
 *
 * A 'message' event has no events row (migration 4): the message row is its record — its seq, created_at as the
 * event's time, its sender as the actor — so an append writes one row fewer. The stream is the events rows
 * (edits, deletions, membership changes) and the messages merged by seq; each arm reads its table's (room_id,
 * seq) key in order, so PostgreSQL merges them (Merge Append) and the LIMIT stops both early. A seq is unique
 * per room across both tables: claimNextSeq hands each out once, to exactly one change.
 */
export async function selectEvents(
  q: Queryable,
  roomId: string,
  afterSeq: number,
  limit: number,
): Promise<RoomEvent[]> {
  const rows = await q<EventRow[]>`
    (SELECT e.room_id, e.seq, e.type, e.at, e.actor_id, e.member_user_id, e.member_role,
            ${q.unsafe(STREAM_MESSAGE_COLUMNS)}
       FROM events e
       LEFT JOIN messages m ON m.id = e.message_id
      WHERE e.room_id = ${roomId} AND e.seq > ${afterSeq}
      ORDER BY e.seq
      LIMIT ${limit})
    UNION ALL
    (SELECT m.room_id, m.seq, 'message', m.created_at, m.sender_id, NULL, NULL, ${q.unsafe(STREAM_MESSAGE_COLUMNS)}
       FROM messages m
      WHERE m.room_id = ${roomId} AND m.seq > ${afterSeq}
      ORDER BY m.seq
      LIMIT ${limit})
    ORDER BY seq
    LIMIT ${limit}`;
  return rows.map(toRoomEvent);
}
