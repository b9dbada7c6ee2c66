/**
 * Row shapes as SQLite returns them and their mapping to domain objects. Enumerated columns are checked
 * against the domain's lists, so a corrupt value fails loudly here instead of travelling on as a wrong type.
 */
import { type Message, ROOM_EVENT_TYPES, type RoomEvent } from "../../../domain/message.ts";
import { MEMBER_ROLES, type Member, type MemberRole, ROOM_KINDS, type Room } from "../../../domain/room.ts";
import type { Session } from "../../../domain/session.ts";
import { type PublicUser, ROLES, USER_STATUSES, type UserRecord } from "../../../domain/user.ts";
import type { SessionAccount } from "../../../ports/store.ts";

/**
 * The allowed value equal to `value`, as the one constant string of `allowed` rather than the row's own copy: a
 * role or status is kept per connected user (in its principal), and 19,000 copies of "user" cost ~30 B each.
 */
function oneOf<T extends string>(allowed: readonly T[], value: string, column: string): T {
  const i = (allowed as readonly string[]).indexOf(value);
  if (i >= 0) return allowed[i] as T;
  throw new Error(`unexpected value in ${column}: ${JSON.stringify(value)}`);
}

export const USER_COLUMNS = "id, username, email, display_name, password_hash, role, status, created_at";

export interface UserRow {
  id: string;
  username: string;
  email: string;
  display_name: string;
  password_hash: string;
  role: string;
  status: string;
  created_at: number;
}

export function toUserRecord(r: UserRow): UserRecord {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    displayName: r.display_name,
    role: oneOf(ROLES, r.role, "users.role"),
    status: oneOf(USER_STATUSES, r.status, "users.status"),
    createdAt: r.created_at,
    passwordHash: r.password_hash,
  };
}

/** The public part of a user joined into another query, with columns prefixed `u_`. */
export interface PublicUserRow {
  u_id: string;
  u_username: string;
  u_display_name: string;
  u_role: string;
  u_status: string;
}

export function toPublicUser(r: PublicUserRow): PublicUser {
  return {
    id: r.u_id,
    username: r.u_username,
    displayName: r.u_display_name,
    role: oneOf(ROLES, r.u_role, "users.role"),
    status: oneOf(USER_STATUSES, r.u_status, "users.status"),
  };
}

export const SESSION_COLUMNS =
  "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip";

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
  user_agent: string | null;
  ip: string | null;
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

/** A session row with its user's role and status beside it (`u_role`, `u_status`). */
export interface SessionAccountRow extends SessionRow {
  u_role: string;
  u_status: string;
}

export function toSessionAccount(r: SessionAccountRow): SessionAccount {
  return {
    session: toSession(r),
    role: oneOf(ROLES, r.u_role, "users.role"),
    status: oneOf(USER_STATUSES, r.u_status, "users.status"),
  };
}

/** Room columns, prefixed `r_` so they can sit beside member and message columns in one row. */
export function roomColumns(alias: string): string {
  return ["id", "kind", "name", "topic", "owner_id", "created_at", "last_seq", "version"]
    .map((c) => `${alias}.${c} AS r_${c}`)
    .join(", ");
}

export interface RoomRow {
  r_id: string;
  r_kind: string;
  r_name: string;
  r_topic: string;
  r_owner_id: string | null;
  r_created_at: number;
  r_last_seq: number;
  r_version: number;
}

export function toRoom(r: RoomRow): Room {
  return {
    id: r.r_id,
    kind: oneOf(ROOM_KINDS, r.r_kind, "rooms.kind"),
    name: r.r_name,
    topic: r.r_topic,
    ownerId: r.r_owner_id,
    createdAt: r.r_created_at,
    lastSeq: r.r_last_seq,
    version: r.r_version,
  };
}

export const MEMBER_COLUMNS = "room_id, user_id, role, joined_at";

export interface MemberRow {
  room_id: string;
  user_id: string;
  role: string;
  joined_at: number;
}

export function toMember(r: MemberRow): Member {
  return { roomId: r.room_id, userId: r.user_id, role: toMemberRole(r.role), joinedAt: r.joined_at };
}

export function toMemberRole(role: string): MemberRole {
  return oneOf(MEMBER_ROLES, role, "members.role");
}

/** Message columns, prefixed `m_`; all nullable because messages are often left-joined. */
export function messageColumns(alias: string): string {
  return [
    "id",
    "room_id",
    "seq",
    "sender_id",
    "body",
    "client_msg_id",
    "created_at",
    "edited_at",
    "deleted_at",
  ]
    .map((c) => `${alias}.${c} AS m_${c}`)
    .join(", ");
}

export interface MessageRow {
  m_id: string | null;
  m_room_id: string | null;
  m_seq: number | null;
  m_sender_id: string | null;
  m_body: string | null;
  m_client_msg_id: string | null;
  m_created_at: number | null;
  m_edited_at: number | null;
  m_deleted_at: number | null;
}

/** Null when the join found no message. A deleted message reads as a tombstone: its body is hidden. */
export function toMessage(r: MessageRow): Message | null {
  if (
    r.m_id === null ||
    r.m_room_id === null ||
    r.m_seq === null ||
    r.m_sender_id === null ||
    r.m_created_at === null
  ) {
    return null;
  }
  return {
    id: r.m_id,
    roomId: r.m_room_id,
    seq: r.m_seq,
    senderId: r.m_sender_id,
    body: r.m_deleted_at === null ? r.m_body : null,
    clientMsgId: r.m_client_msg_id,
    createdAt: r.m_created_at,
    editedAt: r.m_edited_at,
    deletedAt: r.m_deleted_at,
  };
}

/** Like toMessage, for a row that is known to hold a message. */
export function toPresentMessage(r: MessageRow): Message {
  const m = toMessage(r);
  if (m === null) throw new Error("expected a message row");
  return m;
}

export interface EventRow extends MessageRow {
  room_id: string;
  seq: number;
  type: string;
  at: number;
  actor_id: string;
  member_user_id: string | null;
  member_role: string | null;
}

export function toRoomEvent(r: EventRow): RoomEvent {
  return {
    roomId: r.room_id,
    seq: r.seq,
    type: oneOf(ROOM_EVENT_TYPES, r.type, "events.type"),
    at: r.at,
    actorId: r.actor_id,
    message: toMessage(r),
    member:
      r.member_user_id === null
        ? null
        : { userId: r.member_user_id, role: toMemberRole(r.member_role ?? "") },
  };
}
