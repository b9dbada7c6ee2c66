import type { Member } from "./room.ts";

/**
 * A chat message as stored. `seq` is the seq of the event that created it, so messages of a room sort by seq.
 * A soft-deleted message keeps its row as a tombstone for history and audit; its `body` reads as null.
 */
export interface Message {
  readonly id: string;
  readonly roomId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly body: string | null;
  readonly clientMsgId: string | null;
  readonly createdAt: number;
  readonly editedAt: number | null;
  readonly deletedAt: number | null;
}

export const ROOM_EVENT_TYPES = ["message", "message.edited", "message.deleted", "member.joined", "member.left"] as const;
export type RoomEventType = (typeof ROOM_EVENT_TYPES)[number];

/**
 * One entry in a room's stream. Every change a client must see on resume is an event with its own seq,
 * assigned in the same transaction as the change: seqs of a room are 1, 2, 3, ... with no gap.
 */
export interface RoomEvent {
  readonly roomId: string;
  readonly seq: number;
  readonly type: RoomEventType;
  readonly at: number;
  /** Who caused it: the sender, editor, deleter, or the member who added/removed someone. */
  readonly actorId: string;
  /** For message events: the message in its current state (a deleted one as a tombstone). */
  readonly message: Message | null;
  /** For member events: the member concerned. */
  readonly member: Pick<Member, "userId" | "role"> | null;
}

/** A search hit: the message and where it matched. */
export interface SearchHit {
  readonly message: Message;
  readonly roomName: string;
}
