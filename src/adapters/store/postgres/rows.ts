import type { Message, RoomEvent, RoomEventType } from "../../../domain/message.ts";
import type { Member, MemberRole, Room, RoomKind } from "../../../domain/room.ts";
import type { Session } from "../../../domain/session.ts";
import type { PublicUser, Role, UserRecord, UserStatus } from "../../../domain/user.ts";

/**
 * Rows as the queries of this adapter select them (snake_case columns; BIGINTs already numbers), and their
 * mapping to domain objects. Column lists below are the single place that says what each query must select.
 */

export interface UserRow {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  readonly display_name: string;
  readonly password_hash: string;
  readonly role: Role;
  readonly status: UserStatus;
  readonly created_at: number;
}

export function toUserRecord(r: UserRow): UserRecord {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    role: r.role,
    status: r.status,
    createdAt: r.created_at,
  };
}

export function toPublicUserFromRow(
  r: Pick<UserRow, "id" | "username" | "display_name" | "role" | "status">,
): PublicUser {
  return { id: r.id, username: r.username, displayName: r.display_name, role: r.role, status: r.status };
}

export interface SessionRow {
  readonly id: string;
  readonly user_id: string;
  readonly created_at: number;
  readonly last_used_at: number;
  readonly expires_at: number;
  readonly revoked_at: number | null;
  readonly user_agent: string | null;
  readonly ip: string | null;
}

export function toSession(r: SessionRow): Session {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    userAgent: r.user_agent,
    ip: r.ip,
  };
}

export interface RoomRow {
  readonly id: string;
  readonly kind: RoomKind;
  readonly name: string;
  readonly topic: string;
  readonly owner_id: string | null;
  readonly created_at: number;
  readonly last_seq: number;
  readonly version: number;
}

export function toRoom(r: RoomRow): Room {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    topic: r.topic,
    ownerId: r.owner_id,
    createdAt: r.created_at,
    lastSeq: r.last_seq,
    version: r.version,
  };
}

export interface MemberRow {
  readonly room_id: string;
  readonly user_id: string;
  readonly role: MemberRole;
  readonly joined_at: number;
}

export function toMember(r: MemberRow): Member {
  return { roomId: r.room_id, userId: r.user_id, role: r.role, joinedAt: r.joined_at };
}

export interface MessageRow {
  readonly id: string;
  readonly room_id: string;
  readonly seq: number;
  readonly sender_id: string;
  readonly body: string;
  readonly client_msg_id: string | null;
  readonly created_at: number;
  readonly edited_at: number | null;
  readonly deleted_at: number | null;
}

/** A deleted message is a tombstone: its stored body (kept for audit) never leaves the store. */
export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    roomId: r.room_id,
    seq: r.seq,
    senderId: r.sender_id,
    body: r.deleted_at === null ? r.body : null,
    clientMsgId: r.client_msg_id,
    createdAt: r.created_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
  };
}

/**
 * A message's columns as a LEFT JOIN selects them into a row of something else: prefixed with m_ (so they cannot
 * clash with that row's own columns), and all null when the join found no message.
 */
export interface PrefixedMessageRow {
  readonly m_id: string | null;
  readonly m_room_id: string | null;
  readonly m_seq: number | null;
  readonly m_sender_id: string | null;
  readonly m_body: string | null;
  readonly m_client_msg_id: string | null;
  readonly m_created_at: number | null;
  readonly m_edited_at: number | null;
  readonly m_deleted_at: number | null;
}

/** An event row joined (LEFT JOIN) with its message's current state. */
export interface EventRow extends PrefixedMessageRow {
  readonly room_id: string;
  readonly seq: number;
  readonly type: RoomEventType;
  readonly at: number;
  readonly actor_id: string;
  readonly member_user_id: string | null;
  readonly member_role: MemberRole | null;
}

/** Reads a message whose columns carry the `m_` prefix of a LEFT JOIN; null when the join found none. */
export function toPrefixedMessage(r: PrefixedMessageRow): Message | null {
  if (r.m_id === null) return null;
  return toMessage({
    id: r.m_id,
    room_id: r.m_room_id ?? "",
    seq: r.m_seq ?? 0,
    sender_id: r.m_sender_id ?? "",
    body: r.m_body ?? "",
    client_msg_id: r.m_client_msg_id,
    created_at: r.m_created_at ?? 0,
    edited_at: r.m_edited_at,
    deleted_at: r.m_deleted_at,
  });
}

export function toRoomEvent(r: EventRow): RoomEvent {
  return {
    roomId: r.room_id,
    seq: r.seq,
    type: r.type,
    at: r.at,
    actorId: r.actor_id,
    message: toPrefixedMessage(r),
    member: r.member_user_id === null ? null : { userId: r.member_user_id, role: r.member_role ?? "member" },
  };
}
