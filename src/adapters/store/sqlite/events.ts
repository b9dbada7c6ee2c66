/**
 * The room stream: seq allocation and event rows. Both run inside the caller's immediate transaction, so the
 * bump of rooms.last_seq, the change itself and its event commit together or not at all, which is what keeps
 * a room's committed seqs gap-free.
 *
 * A 'message' event has no row here: the message row is its record (its seq, created_at as the event's time, its
 * sender as the actor), so an append writes one row fewer (migration 5). SELECT_STREAM reads both tables merged
 * by seq; the events table holds every other type.
 */
import { NotFound } from "../../../domain/errors.ts";
import type { RoomEvent, RoomEventType } from "../../../domain/message.ts";
import type { MemberRole } from "../../../domain/room.ts";
import type { SqliteConnection } from "./connection.ts";
import { type EventRow, messageColumns, toRoomEvent } from "./rows.ts";

export const SELECT_EVENTS = `
  SELECT e.room_id, e.seq, e.type, e.at, e.actor_id, e.member_user_id, e.member_role, ${messageColumns("m")}
  FROM events e LEFT JOIN messages m ON m.id = e.message_id`;

/**
 * A room's stream after `$afterSeq`, at most `$limit` events in seq order: the event rows and the messages (as
 * their 'message' events) merged. Each arm walks its table's (room_id, seq) key in order and SQLite merges the two
 * (a compound SELECT's ORDER BY on co-routines, no sort of either), so the LIMIT stops both early.
 */
export const SELECT_STREAM = `${SELECT_EVENTS}
  WHERE e.room_id = $roomId AND e.seq > $afterSeq
  UNION ALL
  SELECT m.room_id, m.seq, 'message', m.created_at, m.sender_id, NULL, NULL, ${messageColumns("m")}
  FROM messages m
  WHERE m.room_id = $roomId AND m.seq > $afterSeq
  ORDER BY 2
  LIMIT $limit`;

/** Takes the room's next seq. Throws NotFound("room"). */
export function allocateSeq(conn: SqliteConnection, roomId: string): number {
  const row = conn.get<{ last_seq: number }>(
    "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $roomId RETURNING last_seq",
    { roomId },
  );
  if (row === null) throw new NotFound("room");
  return row.last_seq;
}

/** An event that has a row of its own: every type but 'message' (a message's row is its event). */
export interface NewEvent {
  readonly roomId: string;
  readonly seq: number;
  readonly type: Exclude<RoomEventType, "message">;
  readonly at: number;
  readonly actorId: string;
  readonly messageId?: string;
  readonly member?: { readonly userId: string; readonly role: MemberRole };
}

/** Inserts the event row only, for a caller that already knows the event it describes. */
export function writeEvent(conn: SqliteConnection, e: NewEvent): void {
  conn.run(
    `INSERT INTO events (room_id, seq, type, at, actor_id, message_id, member_user_id, member_role)
     VALUES ($roomId, $seq, $type, $at, $actorId, $messageId, $memberUserId, $memberRole)`,
    {
      roomId: e.roomId,
      seq: e.seq,
      type: e.type,
      at: e.at,
      actorId: e.actorId,
      messageId: e.messageId ?? null,
      memberUserId: e.member?.userId ?? null,
      memberRole: e.member?.role ?? null,
    },
  );
}

/** Inserts the event and returns it as a subscriber will see it (with the message in its current state). */
export function insertEvent(conn: SqliteConnection, e: NewEvent): RoomEvent {
  writeEvent(conn, e);
  const row = conn.get<EventRow>(`${SELECT_EVENTS} WHERE e.room_id = $roomId AND e.seq = $seq`, {
    roomId: e.roomId,
    seq: e.seq,
  });
  if (row === null) throw new Error("event vanished inside its own transaction");
  return toRoomEvent(row);
}
