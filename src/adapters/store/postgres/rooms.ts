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
import type { Db } from "./client.ts";
import { prefixedMessageColumns } from "./message-columns.ts";
import { foreignKeyViolation, Rollback, rollbackWith, uniqueViolation } from "./pg-errors.ts";
import { claimNextSeq, eventOf, insertEvent, type NewEvent } from "./room-stream.ts";
import {
  type MemberRow,
  type PrefixedMessageRow,
  type RoomRow,
  type UserRow,
  toMember,
  toPrefixedMessage,
  toPublicUserFromRow,
  toRoom,
} from "./rows.ts";

const ROOM_COLUMNS = "id, kind, name, topic, owner_id, created_at, last_seq, version";

/** The room list's last message (alias lm), as PrefixedMessageRow. */
const LAST_MESSAGE_COLUMNS = prefixedMessageColumns("lm");

/**
 * The unread rule, for member row `mb`: others' messages that are not deleted and above the read marker, counted
 * up to UNREAD_COUNT_MAX. The LIMIT inside bounds the work. EXPLAIN (ANALYZE) of listForUser and markRead on a
 * million messages over 1,000 rooms (five of 100,000, written interleaved as live traffic is) shows `Limit ->
 * Index Scan using messages_room_seq_key` (Index Cond: room_id = mb.room_id AND seq > mb.read_seq) ending at the
 * cap: a room of 100,000 unread costs 1,000 rows; a user in 25 of those rooms, 197 ms and 52,813 buffers
 * unbounded, 8 ms and 12,838 bounded. The rows the filter drops (own, deleted) are read on the way, uncounted. On
 * a small table with few rooms the planner may pick a Bitmap Index Scan of the same index instead: it reads every
 * index entry above the marker (not the rows), and the Limit still stops the heap part at the cap (20,000 unread:
 * 5 ms a room unbounded, 1.4 ms bounded). No ORDER BY: in that plan it would sort every unread row.
 */
const UNREAD_COUNT = `(SELECT count(*) FROM (SELECT FROM messages u
  WHERE u.room_id = mb.room_id AND u.seq > mb.read_seq AND u.deleted_at IS NULL AND u.sender_id <> mb.user_id
  LIMIT ${UNREAD_COUNT_MAX}) capped)`;

/** A room in a user's list: their membership, the unread count and the last message (m_ columns). */
interface SummaryRow extends RoomRow, PrefixedMessageRow {
  readonly my_role: MemberRole;
  readonly read_seq: number;
  readonly unread: number;
}

/** The member columns of findMembership's LEFT JOIN: null when the user is not in the room. */
interface MembershipRow {
  readonly mb_role: MemberRole | null;
  readonly mb_joined_at: number | null;
}

type MemberViewRow = MemberRow &
  Pick<UserRow, "username" | "display_name" | "status"> & { readonly user_role: UserRow["role"] };

export function postgresRooms(sql: Db): RoomRepository {
  return {
    async create(room: NewRoom, members): Promise<Room> {
      try {
        return await sql.begin(async (tx) => {
          const rows = await tx<RoomRow[]>`
            INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, dm_key)
            VALUES (${room.id}, ${room.kind}, ${room.name}, ${room.topic}, ${room.ownerId}, ${room.createdAt},
                    ${room.dmKey ?? null})
            RETURNING ${tx.unsafe(ROOM_COLUMNS)}`;
          // One statement per member keeps the insertion order, which is the join-order tie-break.
          for (const m of members) {
            await tx`
              INSERT INTO members (room_id, user_id, role, joined_at)
              VALUES (${room.id}, ${m.userId}, ${m.role}, ${room.createdAt})
              ON CONFLICT (room_id, user_id) DO NOTHING`;
          }
          return toRoom(rows[0]!);
        });
      } catch (error) {
        if (uniqueViolation(error) === "rooms_dm_key_key") throw new Conflict("dm");
        if (uniqueViolation(error) === "rooms_pkey") throw new Conflict("room");
        if (foreignKeyViolation(error) !== null) throw new NotFound("user");
        throw error;
      }
    },

    async findById(id: string): Promise<Room | null> {
      const rows = await sql<RoomRow[]>`SELECT ${sql.unsafe(ROOM_COLUMNS)} FROM rooms WHERE id = ${id}`;
      return rows[0] ? toRoom(rows[0]) : null;
    },

    async findDm(dmKey: string): Promise<Room | null> {
      const rows = await sql<
        RoomRow[]
      >`SELECT ${sql.unsafe(ROOM_COLUMNS)} FROM rooms WHERE dm_key = ${dmKey}`;
      return rows[0] ? toRoom(rows[0]) : null;
    },

    /**
     * One statement, holding the room row's lock (the one transfers and stream appends take) until it commits. A
     * concurrent update or transfer waits for that lock and then (READ COMMITTED) evaluates `version + 1` and the
     * COALESCEs against the row as this one committed it, so racing changes get consecutive versions in commit
     * order. RETURNING gives the row as this statement committed it.
     */
    async update(id: string, patch): Promise<Room> {
      const rows = await sql<RoomRow[]>`
        UPDATE rooms SET
          name    = COALESCE(${patch.name ?? null}::text, name),
          topic   = COALESCE(${patch.topic ?? null}::text, topic),
          version = version + 1
         WHERE id = ${id}
        RETURNING ${sql.unsafe(ROOM_COLUMNS)}`;
      if (!rows[0]) throw new NotFound("room");
      return toRoom(rows[0]);
    },

    async listForUser(userId: string): Promise<RoomSummary[]> {
      const rows = await sql<SummaryRow[]>`
        SELECT r.id, r.kind, r.name, r.topic, r.owner_id, r.created_at, r.last_seq, r.version,
               mb.role AS my_role, mb.read_seq,
               ${sql.unsafe(LAST_MESSAGE_COLUMNS)},
               ${sql.unsafe(UNREAD_COUNT)} AS unread
          FROM members mb
          JOIN rooms r ON r.id = mb.room_id
          LEFT JOIN LATERAL (
                SELECT * FROM messages m
                 WHERE m.room_id = r.id AND m.deleted_at IS NULL
                 ORDER BY m.seq DESC
                 LIMIT 1) lm ON true
         WHERE mb.user_id = ${userId}
         ORDER BY COALESCE(lm.created_at, r.created_at) DESC, r.id DESC`;
      return rows.map((r) => ({
        room: toRoom(r),
        myRole: r.my_role,
        lastMessage: toPrefixedMessage(r),
        unreadCount: r.unread,
        readSeq: r.read_seq,
      }));
    },

    async roomIdsOf(userId: string): Promise<string[]> {
      const rows = await sql<{ room_id: string }[]>`SELECT room_id FROM members WHERE user_id = ${userId}`;
      return rows.map((r) => r.room_id);
    },

    async readStatesOf(userId: string): Promise<RoomReadState[]> {
      // One statement: its subqueries share its snapshot, so each count and last_seq agree.
      const rows = await sql<{ room_id: string; read_seq: number; unread: number; last_seq: number }[]>`
        SELECT mb.room_id, mb.read_seq, ${sql.unsafe(UNREAD_COUNT)} AS unread, r.last_seq
          FROM members mb JOIN rooms r ON r.id = mb.room_id
         WHERE mb.user_id = ${userId}`;
      return rows.map((r) => ({
        roomId: r.room_id,
        readSeq: r.read_seq,
        unreadCount: r.unread,
        lastSeq: r.last_seq,
      }));
    },

    async getMember(roomId: string, userId: string): Promise<Member | null> {
      const rows = await sql<MemberRow[]>`
        SELECT room_id, user_id, role, joined_at FROM members WHERE room_id = ${roomId} AND user_id = ${userId}`;
      return rows[0] ? toMember(rows[0]) : null;
    },

    async findMembership(
      roomId: string,
      userId: string,
    ): Promise<{ room: Room; member: Member | null } | null> {
      const rows = await sql<(RoomRow & MembershipRow)[]>`
        SELECT r.id, r.kind, r.name, r.topic, r.owner_id, r.created_at, r.last_seq, r.version,
               mb.role AS mb_role, mb.joined_at AS mb_joined_at
          FROM rooms r LEFT JOIN members mb ON mb.room_id = r.id AND mb.user_id = ${userId}
         WHERE r.id = ${roomId}`;
      const row = rows[0];
      if (!row) return null;
      const member =
        row.mb_role === null || row.mb_joined_at === null
          ? null
          : toMember({ room_id: row.id, user_id: userId, role: row.mb_role, joined_at: row.mb_joined_at });
      return { room: toRoom(row), member };
    },

    async listMembers(roomId: string, after: string | null, limit: number): Promise<MemberView[]> {
      // user_id has the C collation: byte order, as the cursor compares.
      const rows = await sql<MemberViewRow[]>`
        SELECT mb.room_id, mb.user_id, mb.role, mb.joined_at,
               u.username, u.display_name, u.role AS user_role, u.status
          FROM members mb
          JOIN users u ON u.id = mb.user_id
         WHERE mb.room_id = ${roomId} AND mb.user_id > ${after ?? ""}
         ORDER BY mb.user_id
         LIMIT ${limit}`;
      return rows.map((r) => ({
        member: toMember(r),
        user: toPublicUserFromRow({ ...r, id: r.user_id, role: r.user_role }),
      }));
    },

    async addMember(roomId, userId, role, actorId, at): Promise<RoomEvent | null> {
      try {
        return await rollbackWith(() =>
          sql.begin(async (tx) => {
            const seq = await claimNextSeq(tx, roomId);
            if (seq === null) throw new NotFound("room");
            const added = await tx`
              INSERT INTO members (room_id, user_id, role, joined_at)
              VALUES (${roomId}, ${userId}, ${role}, ${at})
              ON CONFLICT (room_id, user_id) DO NOTHING
              RETURNING user_id`;
            if (added.length === 0) throw new Rollback(null);
            const event: NewEvent = {
              roomId,
              seq,
              type: "member.joined",
              at,
              actorId,
              member: { userId, role },
            };
            await insertEvent(tx, event);
            return eventOf(event, null);
          }),
        );
      } catch (error) {
        if (foreignKeyViolation(error) !== null) throw new NotFound("user");
        throw error;
      }
    },

    async removeMember(roomId, userId, actorId, at): Promise<RoomEvent | null> {
      return rollbackWith(() =>
        sql.begin(async (tx) => {
          const seq = await claimNextSeq(tx, roomId);
          if (seq === null) return null;
          const removed = await tx<{ role: MemberRole }[]>`
            DELETE FROM members WHERE room_id = ${roomId} AND user_id = ${userId} RETURNING role`;
          const gone = removed[0];
          if (!gone) throw new Rollback(null);
          // The seq claim above holds the room row's lock, so no transfer or join can slip in before commit.
          const keep = await tx`
            SELECT 1 FROM rooms r
             WHERE r.id = ${roomId} AND r.owner_id = ${userId}
               AND EXISTS (SELECT 1 FROM members WHERE room_id = ${roomId})`;
          if (keep.length > 0) throw new Conflict("owner");
          const event: NewEvent = {
            roomId,
            seq,
            type: "member.left",
            at,
            actorId,
            member: { userId, role: gone.role },
          };
          await insertEvent(tx, event);
          return eventOf(event, null);
        }),
      );
    },

    async transferOwnership(roomId, toUserId, opts = {}): Promise<OwnerTransfer> {
      return sql.begin(async (tx) => {
        const locked = await tx<{ owner_id: string | null }[]>`
          SELECT owner_id FROM rooms WHERE id = ${roomId} FOR UPDATE`;
        const row = locked[0];
        if (!row) throw new NotFound("room");
        const previousOwnerId = row.owner_id;
        if (opts.expectedOwnerId !== undefined && previousOwnerId !== opts.expectedOwnerId)
          throw new Conflict("owner");
        const target = await tx`SELECT 1 FROM members WHERE room_id = ${roomId} AND user_id = ${toUserId}`;
        if (target.length === 0) throw new NotFound("member");
        if (previousOwnerId !== toUserId) {
          await tx`
            UPDATE members SET role = CASE WHEN user_id = ${toUserId} THEN 'owner' ELSE 'member' END
             WHERE room_id = ${roomId} AND (user_id = ${toUserId} OR role = 'owner')`;
          const rooms = await tx<RoomRow[]>`
            UPDATE rooms SET owner_id = ${toUserId}, version = version + 1
             WHERE id = ${roomId}
            RETURNING ${tx.unsafe(ROOM_COLUMNS)}`;
          return { room: toRoom(rooms[0]!), previousOwnerId };
        }
        const rooms = await tx<RoomRow[]>`SELECT ${tx.unsafe(ROOM_COLUMNS)} FROM rooms WHERE id = ${roomId}`;
        return { room: toRoom(rooms[0]!), previousOwnerId };
      });
    },

    /**
     * One statement: under READ COMMITTED every subquery of a statement reads the statement's one snapshot, so
     * the count and last_seq agree. In that snapshot the room's events form a prefix of its stream ending at
     * last_seq, because each event commits together with its last_seq increment and the room row's lock
     * serialises them. The marker itself is the row as updated, which may be newer (a concurrent read of the
     * same member); the count is taken against it. Its cap (UNREAD_COUNT) is applied within that snapshot too.
     */
    async markRead(roomId: string, userId: string, seq: number): Promise<ReadMark> {
      const rows = await sql<{ read_seq: number; unread: number; last_seq: number }[]>`
        UPDATE members mb SET read_seq = GREATEST(mb.read_seq, ${seq})
         WHERE mb.room_id = ${roomId} AND mb.user_id = ${userId}
        RETURNING mb.read_seq,
                  ${sql.unsafe(UNREAD_COUNT)} AS unread,
                  (SELECT r.last_seq FROM rooms r WHERE r.id = mb.room_id) AS last_seq`;
      const row = rows[0];
      if (!row) throw new NotFound("member");
      return { readSeq: row.read_seq, unreadCount: row.unread, countedSeq: row.last_seq };
    },
  };
}
