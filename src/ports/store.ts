import type { Message, RoomEvent, SearchHit } from "../domain/message.ts";
import type { Member, MemberRole, Room, RoomKind } from "../domain/room.ts";
import type { Session } from "../domain/session.ts";
import type { PublicUser, Role, UserRecord, UserStatus } from "../domain/user.ts";

/**
 * The record of everything Parley knows. Two adapters (SQLite, PostgreSQL) pass one contract suite
 * (test/contract/store.contract.ts). Every method is atomic: it either commits entirely or changes nothing,
 * and it resolves only after its commit is durable. Adapters throw the storage-neutral `NotFound` and
 * `Conflict` from domain/errors.ts and nothing backend-specific for expected outcomes.
 *
 * Case rules: usernames and emails are unique case-insensitively and stored as given.
 * Times are milliseconds since the Unix epoch, supplied by the caller (the store never reads a clock).
 */
export interface Store {
  readonly dialect: "sqlite" | "postgres";
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly rooms: RoomRepository;
  readonly messages: MessageRepository;
  /** Applies pending migrations; idempotent and safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface NewUser {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  readonly displayName: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly createdAt: number;
}

export interface UserPatch {
  readonly role?: Role;
  readonly status?: UserStatus;
  readonly passwordHash?: string;
  readonly displayName?: string;
}

export interface UserRepository {
  /** Throws Conflict("username") or Conflict("email") when either is taken (case-insensitively). */
  create(user: NewUser): Promise<UserRecord>;
  findById(id: string): Promise<UserRecord | null>;
  /** `login` matches a username or an email, case-insensitively. */
  findByLogin(login: string): Promise<UserRecord | null>;
  /**
   * Users ordered by id ascending, starting after the `after` id. `query` filters by case-insensitive prefix of
   * username or display name. `limit` is applied by the store.
   */
  list(opts: {
    readonly after?: string;
    readonly limit: number;
    readonly query?: string;
  }): Promise<UserRecord[]>;
  /** Throws NotFound("user"). */
  update(id: string, patch: UserPatch): Promise<UserRecord>;
  /** Number of users with the given role (used to protect the last administrator). */
  countByRole(role: Role): Promise<number>;
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly refreshTokenHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export type RotateResult =
  /** The token was current: it is now spent, `nextHash` is current, the session's expiry slid forward. */
  | { readonly kind: "rotated"; readonly session: Session }
  /** The token was already spent: the session has been revoked by this call (or was before). */
  | { readonly kind: "reused"; readonly session: Session }
  /** Unknown token, or its session is revoked or expired. Nothing changed. */
  | { readonly kind: "invalid" };

/** A session with what authenticating by it needs of its user. */
export interface SessionAccount {
  readonly session: Session;
  readonly role: Role;
  readonly status: UserStatus;
}

export interface SessionRepository {
  create(session: NewSession): Promise<Session>;
  findById(id: string): Promise<Session | null>;
  /**
   * The session and its user's role and status as of one read, whatever the session's state; null when no such
   * session exists. Every authenticated request and every CONNECT makes this check, so it is one round trip.
   */
  findWithAccount(id: string): Promise<SessionAccount | null>;
  /**
   * Atomically exchanges the refresh token with hash `tokenHash` for one with `nextHash`. Of any number of
   * concurrent calls with the same token at most one returns "rotated"; the others see "reused" and the session
   * ends revoked.
   */
  rotate(
    tokenHash: string,
    next: { readonly nextHash: string; readonly now: number; readonly expiresAt: number },
  ): Promise<RotateResult>;
  /** The user's sessions that are neither revoked nor expired at `now`, most recently used first. */
  listLive(userId: string, now: number): Promise<Session[]>;
  /** Revokes one session if it belongs to `userId` and is not yet revoked; returns whether it did. */
  revoke(userId: string, sessionId: string, now: number): Promise<boolean>;
  /** Revokes every live session of the user except `exceptId`; returns the ids it revoked. */
  revokeAll(userId: string, now: number, exceptId?: string): Promise<string[]>;
}

export interface NewRoom {
  readonly id: string;
  readonly kind: RoomKind;
  readonly name: string;
  readonly topic: string;
  readonly ownerId: string | null;
  readonly createdAt: number;
  /** Required for kind "dm": the dmKey() of the two members, unique across rooms. */
  readonly dmKey?: string;
}

export interface RoomSummary {
  readonly room: Room;
  readonly myRole: MemberRole;
  readonly lastMessage: Message | null;
  /**
   * Messages (not deleted, not sent by me) with seq above my read marker, counted up to UNREAD_COUNT_MAX
   * (src/domain/rules.ts): that value means "that many or more". Reading it costs at most that many counted rows
   * per room, however much is unread.
   */
  readonly unreadCount: number;
  readonly readSeq: number;
}

export interface MemberView {
  readonly member: Member;
  readonly user: PublicUser;
}

export interface OwnerTransfer {
  /** The room as committed, with its new ownerId and version (unchanged, as the room, when nothing changed). */
  readonly room: Room;
  /** The owner found under the lock; equal to the new owner when nothing changed. */
  readonly previousOwnerId: string | null;
}

export interface RoomRepository {
  /**
   * Creates the room with its initial members (no events: a new room's stream starts empty, lastSeq 0; its
   * details start at version 1). Throws Conflict("dm") if a DM with the same dmKey exists.
   */
  create(
    room: NewRoom,
    members: ReadonlyArray<{ readonly userId: string; readonly role: MemberRole }>,
  ): Promise<Room>;
  findById(id: string): Promise<Room | null>;
  findDm(dmKey: string): Promise<Room | null>;
  /**
   * Sets the given fields and raises the room's version by one, in one transaction holding the room's lock, and
   * returns the room as that transaction committed it. Concurrent updates (and transfers) of one room are
   * serialised: each gets its own version, in commit order, and the room ends with the details of the one with
   * the highest. The version is raised also when the patch is empty or repeats the current values: every
   * committed update is announced, and each announcement gets a version of its own. Throws NotFound("room").
   */
  update(id: string, patch: { readonly name?: string; readonly topic?: string }): Promise<Room>;
  /** Rooms the user is a member of, most recent activity (last message, else creation) first. */
  listForUser(userId: string): Promise<RoomSummary[]>;
  /** Ids of the rooms the user is a member of, in no particular order: a room list without a summary's reads. */
  roomIdsOf(userId: string): Promise<string[]>;
  /**
   * The user's read state in each of their rooms, in no particular order: what `listForUser` reports of it
   * (read marker, unread count by the same rule and cap) and the room's last seq, read in one statement, so the
   * count reflects every event of the room up to `lastSeq` and none after it. Without the room's details and last
   * message, which a follower of the counts does not need.
   */
  readStatesOf(userId: string): Promise<RoomReadState[]>;
  getMember(roomId: string, userId: string): Promise<Member | null>;
  /**
   * The room and the user's membership of it, read together in one statement (one consistent snapshot, one
   * round trip: every send checks it). Null when the room does not exist; `member` null when the user is not in it.
   */
  findMembership(
    roomId: string,
    userId: string,
  ): Promise<{ readonly room: Room; readonly member: Member | null } | null>;
  /**
   * One page of the room's members with their public profiles, by user id: at most `limit`, all with a user id
   * above `after` (exclusive; null starts at the first). A room can have tens of thousands of members, so there is
   * no call that reads them all: a page is a range of the (room, user) primary key, O(log n + limit).
   */
  listMembers(roomId: string, after: string | null, limit: number): Promise<MemberView[]>;
  /**
   * Adds a member and appends a "member.joined" event with the room's next seq, in one transaction.
   * Returns null (and appends nothing) if already a member. Throws NotFound("room") / NotFound("user").
   */
  addMember(
    roomId: string,
    userId: string,
    role: MemberRole,
    actorId: string,
    at: number,
  ): Promise<RoomEvent | null>;
  /**
   * Removes a member and appends a "member.left" event, in one transaction. Returns null if not a member.
   * Their read marker is dropped with the membership. Throws Conflict("owner") and changes nothing when the user
   * is the room's owner and other members remain: checked under the room's write lock, so a room with members
   * always keeps its owner, even against a concurrent ownership transfer.
   */
  removeMember(roomId: string, userId: string, actorId: string, at: number): Promise<RoomEvent | null>;
  /**
   * Makes `toUserId` the room's owner in one transaction holding the room row's lock: the room's ownerId, the
   * role "owner" for `toUserId` and the role "member" for whoever held "owner" before. Transfers of one room are
   * serialised, so however many race, the room ends with exactly one owner. With `expectedOwnerId`, the owner
   * found under the lock must be that user, else Conflict("owner") and nothing changes (a transfer decided by
   * an owner who meanwhile lost the room does not apply). A transfer that applies raises the room's version by
   * one in the same transaction (see `update`); naming the current owner changes nothing, the version included.
   * Appends no stream event. Throws NotFound("room"), NotFound("member") when `toUserId` is not a member.
   */
  transferOwnership(
    roomId: string,
    toUserId: string,
    opts?: { readonly expectedOwnerId?: string },
  ): Promise<OwnerTransfer>;
  /**
   * Moves the member's read marker to max(current, seq) — never backwards — and returns the resulting marker
   * with the unread count it leaves. The count and `countedSeq` are read in one snapshot, in the same
   * transaction as the move: the count reflects every event of the room up to `countedSeq` and none after it,
   * whatever commits concurrently. Throws NotFound("member") if the user is not a member.
   */
  markRead(roomId: string, userId: string, seq: number): Promise<ReadMark>;
}

export interface RoomReadState {
  readonly roomId: string;
  readonly readSeq: number;
  /** By the rule and cap of RoomSummary.unreadCount. */
  readonly unreadCount: number;
  /** The room's last seq in the snapshot the count was read in. */
  readonly lastSeq: number;
}

export interface ReadMark {
  readonly readSeq: number;
  /** Unread count by the rule of RoomSummary.unreadCount (capped alike), against `readSeq`. */
  readonly unreadCount: number;
  /**
   * The room's last seq as of the count. Whoever keeps the count up to date from the
   * room's stream applies only the events after it: those up to it are already in the count.
   */
  readonly countedSeq: number;
}

export interface NewMessage {
  readonly id: string;
  readonly roomId: string;
  readonly senderId: string;
  readonly body: string;
  readonly clientMsgId: string | null;
  readonly createdAt: number;
}

export interface MessageRepository {
  /**
   * Commits the message and its "message" event with the room's next seq in one transaction.
   * Idempotent on (senderId, clientMsgId): if that pair is already stored in this room, returns the stored
   * message with created=false and changes nothing — also when many identical calls race, on any number of
   * processes. Only a member of the room may append: membership is checked in the same transaction, under the
   * room's write lock, so a member removed concurrently either appends before their "member.left" or not at all
   * (also for a replay). Checks in this order: NotFound("room"), NotFound("member") when the sender is not in the
   * room, then Conflict("clientMsgId") if the pair is stored in another room.
   * Appends to one room called in that order on one store instance get seqs in that order, also when a call is
   * made before the one before it has settled: a caller may hand its next message over while the last one
   * commits (the gateway does, for a connection's SENDs).
   */
  append(
    msg: NewMessage,
  ): Promise<{ readonly message: Message; readonly event: RoomEvent | null; readonly created: boolean }>;
  findById(roomId: string, messageId: string): Promise<Message | null>;
  /**
   * Replaces the body, sets editedAt, and appends a "message.edited" event, in one transaction.
   * Throws NotFound("message") (also for a deleted message).
   */
  edit(roomId: string, messageId: string, body: string, actorId: string, at: number): Promise<RoomEvent>;
  /**
   * Soft-deletes (body hidden, row kept) and appends a "message.deleted" event, in one transaction.
   * Returns null if it was already deleted (nothing appended). Throws NotFound("message").
   */
  softDelete(roomId: string, messageId: string, actorId: string, at: number): Promise<RoomEvent | null>;
  /**
   * Up to `limit` messages with seq < `before` (all when before is undefined), newest first.
   * Deleted messages are included as tombstones.
   */
  page(roomId: string, opts: { readonly before?: number; readonly limit: number }): Promise<Message[]>;
  /** Up to `limit` events with seq > afterSeq, ascending — the replay for a resuming subscriber. */
  listEvents(roomId: string, afterSeq: number, limit: number): Promise<RoomEvent[]>;
  /**
   * Full-text search over non-deleted messages of rooms `userId` is a member of (optionally one room),
   * newest first, starting after the message id `before` (exclusive). Words are matched as whole terms
   * (prefix match on the last word); the query is plain text, never query syntax.
   */
  search(
    userId: string,
    query: string,
    opts: { readonly roomId?: string; readonly before?: string; readonly limit: number },
  ): Promise<SearchHit[]>;
}
