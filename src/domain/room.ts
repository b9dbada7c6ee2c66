/** `group`: named, many members. `dm`: exactly two members, at most one per pair. `support`: a customer's conversation with agents. */
export const ROOM_KINDS = ["group", "dm", "support"] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

export const MEMBER_ROLES = ["owner", "member"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export interface Room {
  readonly id: string;
  readonly kind: RoomKind;
  readonly name: string;
  readonly topic: string;
  /** Null for DMs, which have no owner. */
  readonly ownerId: string | null;
  readonly createdAt: number;
  /** The highest seq committed in this room's event stream; 0 for a room with no events yet. */
  readonly lastSeq: number;
  /**
   * The version of the room's details (name, topic, owner): 1 for a new room, raised by exactly one by every
   * committed change of them, in the change's own transaction under the room's lock. Racing changes therefore
   * get distinct versions in commit order, and of two views of the room the one with the higher version is the
   * newer. Unrelated to `lastSeq`: stream events (messages, joins, leaves) do not move it.
   */
  readonly version: number;
}

export interface Member {
  readonly roomId: string;
  readonly userId: string;
  readonly role: MemberRole;
  readonly joinedAt: number;
}

/** Ordered pair key that makes "exactly one DM per pair of users" a unique constraint. */
export function dmKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}
