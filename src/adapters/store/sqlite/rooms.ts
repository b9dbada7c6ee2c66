import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { RoomEvent } from "../../../domain/message.ts";
import type { Member, MemberRole, Room } from "../../../domain/room.ts";
import { UNREAD_COUNT_MAX } from "../../../domain/rules.ts";
import type {
  MemberView,
  NewRoom,
  OwnerTransfer,
  ReadMark,
  RoomReadState,
  RoomRepository,
  RoomSummary,
} from "../../../ports/store.ts";
import type { SqliteConnection } from "./connection.ts";
import { allocateSeq, insertEvent } from "./events.ts";
import {
  MEMBER_COLUMNS,
  type MemberRow,
  type MessageRow,
  messageColumns,
  type PublicUserRow,
  type RoomRow,
  roomColumns,
  toMember,
  toMemberRole,
  toMessage,
  toPublicUser,
  toRoom,
} from "./rows.ts";
import { isConstraintError, isUniqueViolationOn } from "./sqlite-errors.ts";

/**
 * The unread rule, for member row `mb`: others' messages that are not deleted and above the read marker, counted
 * up to UNREAD_COUNT_MAX. The LIMIT inside bounds the work. EXPLAIN QUERY PLAN shows the inner select as a
 * co-routine, `SEARCH x USING INDEX sqlite_autoindex_messages_2 (room_id=? AND seq>?)` (the UNIQUE (room_id,
 * seq) index), and in its bytecode the LIMIT counter (DecrJumpZero) leaves that index loop at the cap. A room
 * thus costs the cap's counted rows at most, plus the user's own and deleted messages met among them. Measured:
 * the room list of a user in five rooms with 20,000 unread each took 28 ms unbounded, 1 ms bounded.
 */
const UNREAD_COUNT = `(SELECT count(*) FROM (SELECT 1 FROM messages x
  WHERE x.room_id = mb.room_id AND x.seq > mb.read_seq AND x.deleted_at IS NULL AND x.sender_id <> mb.user_id
  LIMIT ${UNREAD_COUNT_MAX}))`;

const SELECT_ROOM = `SELECT ${roomColumns("r")} FROM rooms r`;
const SELECT_OWNER = "SELECT owner_id FROM rooms WHERE id = $roomId";

/**
 * The room with the user's membership columns (null when not a member). Every send runs it, so the text is built
 * once. Two primary-key subqueries rather than a LEFT JOIN: measured on a bench database, the join took 12 µs per
 * call where this takes 5 µs (and the former two separate reads 7 µs).
 */
const FIND_MEMBERSHIP = `SELECT ${roomColumns("r")},
       (SELECT role FROM members WHERE room_id = $roomId AND user_id = $userId) AS mb_role,
       (SELECT joined_at FROM members WHERE room_id = $roomId AND user_id = $userId) AS mb_joined_at
  FROM rooms r
 WHERE r.id = $roomId`;

/** The member columns of findMembership's LEFT JOIN: null when the user is not in the room. */
interface MembershipRow {
  mb_role: string | null;
  mb_joined_at: number | null;
}

interface SummaryRow extends RoomRow, MessageRow {
  my_role: string;
  read_seq: number;
  unread: number;
}

export class SqliteRoomRepository implements RoomRepository {
  constructor(private readonly conn: SqliteConnection) {}

  async create(
    room: NewRoom,
    members: ReadonlyArray<{ readonly userId: string; readonly role: MemberRole }>,
  ): Promise<Room> {
    if (room.kind === "dm" && room.dmKey === undefined) throw new Error("a dm room needs its dmKey");
    return this.conn.tx(() => {
      const dmKey = room.dmKey ?? null;
      if (dmKey !== null && this.conn.get("SELECT 1 FROM rooms WHERE dm_key = $dmKey", { dmKey }) !== null) {
        throw new Conflict("dm");
      }
      try {
        this.conn.run(
          `INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq, dm_key)
           VALUES ($id, $kind, $name, $topic, $ownerId, $createdAt, 0, $dmKey)`,
          {
            id: room.id,
            kind: room.kind,
            name: room.name,
            topic: room.topic,
            ownerId: room.ownerId,
            createdAt: room.createdAt,
            dmKey,
          },
        );
        for (const m of members) {
          this.conn.run(
            `INSERT INTO members (room_id, user_id, role, joined_at, read_seq)
             VALUES ($roomId, $userId, $role, $joinedAt, 0)`,
            { roomId: room.id, userId: m.userId, role: m.role, joinedAt: room.createdAt },
          );
        }
      } catch (e) {
        if (isUniqueViolationOn(e, "rooms.dm_key")) throw new Conflict("dm");
        if (isConstraintError(e, "SQLITE_CONSTRAINT_FOREIGNKEY")) throw new NotFound("user");
        throw e;
      }
      return this.#room(room.id);
    });
  }

  async findById(id: string): Promise<Room | null> {
    const row = this.conn.get<RoomRow>(`${SELECT_ROOM} WHERE r.id = $id`, { id });
    return row === null ? null : toRoom(row);
  }

  async findDm(dmKey: string): Promise<Room | null> {
    const row = this.conn.get<RoomRow>(`${SELECT_ROOM} WHERE r.dm_key = $dmKey`, { dmKey });
    return row === null ? null : toRoom(row);
  }

  /**
   * The `BEGIN IMMEDIATE` transaction holds the write lock from its start, so updates and transfers of the room
   * (from this process or another on the same file) are serialised and each raises the version it finds. The
   * room is read back inside the transaction: what is returned is exactly what this update committed.
   */
  async update(id: string, patch: { readonly name?: string; readonly topic?: string }): Promise<Room> {
    return this.conn.tx(() => {
      const row = this.conn.get<{ id: string }>(
        `UPDATE rooms SET name = coalesce($name, name), topic = coalesce($topic, topic), version = version + 1
          WHERE id = $id RETURNING id`,
        { id, name: patch.name ?? null, topic: patch.topic ?? null },
      );
      if (row === null) throw new NotFound("room");
      return this.#room(id);
    });
  }

  async listForUser(userId: string): Promise<RoomSummary[]> {
    const rows = this.conn.all<SummaryRow>(
      `SELECT ${roomColumns("r")}, mb.role AS my_role, mb.read_seq, ${UNREAD_COUNT} AS unread, ${messageColumns("lm")}
       FROM members mb
       JOIN rooms r ON r.id = mb.room_id
       LEFT JOIN messages lm ON lm.room_id = r.id AND lm.seq = (SELECT max(seq) FROM messages WHERE room_id = r.id)
       WHERE mb.user_id = $userId
       ORDER BY coalesce(lm.created_at, r.created_at) DESC, r.id DESC`,
      { userId },
    );
    return rows.map((r) => ({
      room: toRoom(r),
      myRole: toMemberRole(r.my_role),
      lastMessage: toMessage(r),
      unreadCount: r.unread,
      readSeq: r.read_seq,
    }));
  }

  async roomIdsOf(userId: string): Promise<string[]> {
    return this.conn
      .all<{ room_id: string }>("SELECT room_id FROM members WHERE user_id = $userId", { userId })
      .map((r) => r.room_id);
  }

  async readStatesOf(userId: string): Promise<RoomReadState[]> {
    // One statement: one read transaction, so each count and last_seq come from the same snapshot.
    return this.conn
      .all<{ room_id: string; read_seq: number; unread: number; last_seq: number }>(
        `SELECT mb.room_id, mb.read_seq, ${UNREAD_COUNT} AS unread, r.last_seq
           FROM members mb JOIN rooms r ON r.id = mb.room_id
          WHERE mb.user_id = $userId`,
        { userId },
      )
      .map((r) => ({ roomId: r.room_id, readSeq: r.read_seq, unreadCount: r.unread, lastSeq: r.last_seq }));
  }

  async getMember(roomId: string, userId: string): Promise<Member | null> {
    const row = this.#member(roomId, userId);
    return row === null ? null : toMember(row);
  }

  async findMembership(
    roomId: string,
    userId: string,
  ): Promise<{ room: Room; member: Member | null } | null> {
    const row = this.conn.get<RoomRow & MembershipRow>(FIND_MEMBERSHIP, { roomId, userId });
    if (row === null) return null;
    const member =
      row.mb_role === null || row.mb_joined_at === null
        ? null
        : toMember({ room_id: row.r_id, user_id: userId, role: row.mb_role, joined_at: row.mb_joined_at });
    return { room: toRoom(row), member };
  }

  async listMembers(roomId: string, after: string | null, limit: number): Promise<MemberView[]> {
    const rows = this.conn.all<MemberRow & PublicUserRow>(
      `SELECT mb.room_id, mb.user_id, mb.role, mb.joined_at,
              u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, u.role AS u_role,
              u.status AS u_status
       FROM members mb JOIN users u ON u.id = mb.user_id
       WHERE mb.room_id = $roomId AND mb.user_id > $after
       ORDER BY mb.user_id
       LIMIT $limit`,
      { roomId, after: after ?? "", limit },
    );
    return rows.map((r) => ({ member: toMember(r), user: toPublicUser(r) }));
  }

  /** A new member's read marker starts at their join: history from before it does not count as unread. */
  async addMember(
    roomId: string,
    userId: string,
    role: MemberRole,
    actorId: string,
    at: number,
  ): Promise<RoomEvent | null> {
    return this.conn.tx(() => {
      if (this.conn.get("SELECT 1 FROM rooms WHERE id = $roomId", { roomId }) === null)
        throw new NotFound("room");
      if (this.conn.get("SELECT 1 FROM users WHERE id = $userId", { userId }) === null)
        throw new NotFound("user");
      if (this.#member(roomId, userId) !== null) return null;
      const seq = allocateSeq(this.conn, roomId);
      this.conn.run(
        `INSERT INTO members (room_id, user_id, role, joined_at, read_seq)
         VALUES ($roomId, $userId, $role, $at, $seq)`,
        { roomId, userId, role, at, seq },
      );
      return insertEvent(this.conn, {
        roomId,
        seq,
        type: "member.joined",
        at,
        actorId,
        member: { userId, role },
      });
    });
  }

  async removeMember(roomId: string, userId: string, actorId: string, at: number): Promise<RoomEvent | null> {
    return this.conn.tx(() => {
      const member = this.#member(roomId, userId);
      if (member === null) return null;
      if (this.#ownerWithOthers(roomId, userId)) throw new Conflict("owner");
      this.conn.run("DELETE FROM members WHERE room_id = $roomId AND user_id = $userId", { roomId, userId });
      const seq = allocateSeq(this.conn, roomId);
      const role = toMemberRole(member.role);
      return insertEvent(this.conn, {
        roomId,
        seq,
        type: "member.left",
        at,
        actorId,
        member: { userId, role },
      });
    });
  }

  async transferOwnership(
    roomId: string,
    toUserId: string,
    opts: { readonly expectedOwnerId?: string } = {},
  ): Promise<OwnerTransfer> {
    return this.conn.tx(() => {
      const row = this.conn.get<{ owner_id: string | null }>(SELECT_OWNER, { roomId });
      if (row === null) throw new NotFound("room");
      const previousOwnerId = row.owner_id;
      if (opts.expectedOwnerId !== undefined && previousOwnerId !== opts.expectedOwnerId)
        throw new Conflict("owner");
      if (this.#member(roomId, toUserId) === null) throw new NotFound("member");
      if (previousOwnerId !== toUserId) {
        const params = { roomId, toUserId };
        this.conn.run(
          `UPDATE members SET role = CASE WHEN user_id = $toUserId THEN 'owner' ELSE 'member' END
            WHERE room_id = $roomId AND (user_id = $toUserId OR role = 'owner')`,
          params,
        );
        this.conn.run(
          "UPDATE rooms SET owner_id = $toUserId, version = version + 1 WHERE id = $roomId",
          params,
        );
      }
      return { room: this.#room(roomId), previousOwnerId };
    });
  }

  /**
   * The count and the room's last seq are read inside the same `BEGIN IMMEDIATE` transaction as the move: it
   * holds the write lock, so no event can commit between the move, the count and the seq. The count is capped
   * (UNREAD_COUNT): capped at the same snapshot, so it is still the rule's value as of `countedSeq`.
   */
  async markRead(roomId: string, userId: string, seq: number): Promise<ReadMark> {
    const row = this.conn.tx(() => {
      const moved = this.conn.get<{ read_seq: number }>(
        `UPDATE members SET read_seq = max(read_seq, $seq) WHERE room_id = $roomId AND user_id = $userId
         RETURNING read_seq`,
        { roomId, userId, seq },
      );
      if (moved === null) return null;
      return this.conn.get<{ read_seq: number; unread: number; last_seq: number }>(
        `SELECT mb.read_seq, ${UNREAD_COUNT} AS unread, r.last_seq
           FROM members mb JOIN rooms r ON r.id = mb.room_id
          WHERE mb.room_id = $roomId AND mb.user_id = $userId`,
        { roomId, userId },
      );
    });
    if (row === null) throw new NotFound("member");
    return { readSeq: row.read_seq, unreadCount: row.unread, countedSeq: row.last_seq };
  }

  #member(roomId: string, userId: string): MemberRow | null {
    return this.conn.get<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM members WHERE room_id = $roomId AND user_id = $userId`,
      { roomId, userId },
    );
  }

  /** Whether `userId` owns the room while someone else is still in it. */
  #ownerWithOthers(roomId: string, userId: string): boolean {
    return (
      this.conn.get(
        `SELECT 1 FROM rooms r
          WHERE r.id = $roomId AND r.owner_id = $userId
            AND EXISTS (SELECT 1 FROM members WHERE room_id = $roomId AND user_id <> $userId)`,
        { roomId, userId },
      ) !== null
    );
  }

  #room(id: string): Room {
    const row = this.conn.get<RoomRow>(`${SELECT_ROOM} WHERE r.id = $id`, { id });
    if (row === null) throw new NotFound("room");
    return toRoom(row);
  }
}
