import { AppError, Conflict, NotFound } from "../domain/errors.ts";
import type { RoomEvent } from "../domain/message.ts";
import { nextAfter } from "../domain/paging.ts";
import { dmKey, type Member, type Room } from "../domain/room.ts";
import { roleAtLeast } from "../domain/user.ts";
import type { MemberView, RoomSummary } from "../ports/store.ts";
import type { ServiceDeps } from "./deps.ts";
import type { Principal } from "./principal.ts";

export interface RoomDetails {
  readonly room: Room;
  /** The first ROOM_DETAILS_MEMBERS members by user id: all of them in a room that has no more. */
  readonly members: MemberView[];
  /** Where `members(…)` continues when `members` is a full page; null when it is not. */
  readonly membersNextAfter: string | null;
  readonly myRole: Member["role"];
}

/** One page of a room's members and the cursor of the next: null unless the page is full. */
export interface MemberPage {
  readonly members: MemberView[];
  readonly nextAfter: string | null;
}

/**
 * Members a room's details carry (a page of GET /api/v1/rooms/{roomId}/members at its largest size): a group
 * room of up to this many comes whole; a room of 70,000 does not cost a read of 70,000 rows and a response of
 * megabytes each time a member opens it.
 */
export const ROOM_DETAILS_MEMBERS = 100;

const NOT_A_MEMBER = "That user is not a member of this room.";
const ONLY_THE_OWNER = "Only the room's owner can do this.";

/** The most members a room may be created with in one request; more are added one by one. */
export const INITIAL_MEMBERS_MAX = 100;

/**
 * Rooms and membership. Visibility rule: a room exists, for a caller, only if the caller is a member — any other
 * caller gets ROOM_NOT_FOUND, never a hint that it exists. Room owners and site administrators manage members.
 */
export class RoomService {
  constructor(private readonly deps: ServiceDeps) {}

  async create(
    p: Principal,
    input: { name: string; topic?: string; memberIds?: readonly string[] },
  ): Promise<Room> {
    const { store, ids, clock } = this.deps;
    const others = [...new Set(input.memberIds ?? [])].filter((id) => id !== p.userId);
    if (others.length > INITIAL_MEMBERS_MAX) {
      throw new AppError("VALIDATION_FAILED", `At most ${INITIAL_MEMBERS_MAX} initial members.`);
    }
    await this.#requireActiveUsers(others);
    const room = await store.rooms.create(
      {
        id: ids.next(),
        kind: "group",
        name: input.name.trim(),
        topic: input.topic?.trim() ?? "",
        ownerId: p.userId,
        createdAt: clock.now(),
      },
      [{ userId: p.userId, role: "owner" }, ...others.map((userId) => ({ userId, role: "member" as const }))],
    );
    this.deps.events.emit({ kind: "room.created", roomId: room.id, memberIds: [p.userId, ...others] });
    return room;
  }

  /** The one DM between the caller and `userId`, created on first use. Concurrent first uses yield one room. */
  async getOrCreateDm(p: Principal, userId: string): Promise<{ room: Room; created: boolean }> {
    if (userId === p.userId)
      throw new AppError("INVALID_OPERATION", "A direct conversation needs another user.");
    await this.#requireActiveUsers([userId]);
    const { store, ids, clock } = this.deps;
    const key = dmKey(p.userId, userId);
    const existing = await store.rooms.findDm(key);
    if (existing) return { room: existing, created: false };
    try {
      const room = await store.rooms.create(
        {
          id: ids.next(),
          kind: "dm",
          name: "",
          topic: "",
          ownerId: null,
          createdAt: clock.now(),
          dmKey: key,
        },
        [
          { userId: p.userId, role: "member" },
          { userId, role: "member" },
        ],
      );
      this.deps.events.emit({ kind: "room.created", roomId: room.id, memberIds: [p.userId, userId] });
      return { room, created: true };
    } catch (e) {
      if (!(e instanceof Conflict)) throw e;
      const raced = await store.rooms.findDm(key);
      if (!raced) throw e;
      return { room: raced, created: false };
    }
  }

  list(p: Principal): Promise<RoomSummary[]> {
    return this.deps.store.rooms.listForUser(p.userId);
  }

  async get(p: Principal, roomId: string): Promise<RoomDetails> {
    const { room, member } = await this.requireMember(p, roomId);
    const page = await this.#memberPage(roomId, null, ROOM_DETAILS_MEMBERS);
    return { room, members: page.members, membersNextAfter: page.nextAfter, myRole: member.role };
  }

  /** A page of the room's members by user id (members only; ROOM_NOT_FOUND otherwise, as for every room read). */
  async members(p: Principal, roomId: string, after: string | null, limit: number): Promise<MemberPage> {
    await this.requireMember(p, roomId);
    return this.#memberPage(roomId, after, limit);
  }

  async #memberPage(roomId: string, after: string | null, limit: number): Promise<MemberPage> {
    const members = await this.deps.store.rooms.listMembers(roomId, after, limit);
    return { members, nextAfter: nextAfter(members, limit, (m) => m.member.userId) };
  }

  async update(p: Principal, roomId: string, patch: { name?: string; topic?: string }): Promise<Room> {
    await this.#requireManager(p, roomId, (room) =>
      room.kind === "group" ? null : "Only group rooms have a name and topic.",
    );
    const updated = await this.deps.store.rooms.update(roomId, {
      name: patch.name?.trim(),
      topic: patch.topic?.trim(),
    });
    // Announced even when nothing differs: the announcement carries the committed details, so repeating them is
    // harmless, while comparing with the room as read before the update could miss a racing change. The store
    // raised the version for it all the same, so every announcement has a version of its own.
    this.deps.events.emit({ kind: "room.updated", room: updated, actorId: p.userId, previousOwnerId: null });
    return updated;
  }

  async addMember(p: Principal, roomId: string, userId: string): Promise<RoomEvent> {
    await this.#requireManager(p, roomId, (room) =>
      room.kind === "dm" ? "A direct conversation has exactly two members." : null,
    );
    await this.#requireActiveUsers([userId]);
    const event = await this.deps.store.rooms.addMember(
      roomId,
      userId,
      "member",
      p.userId,
      this.deps.clock.now(),
    );
    if (!event) throw new AppError("ALREADY_MEMBER");
    this.deps.events.emit({ kind: "room.event", event });
    return event;
  }

  /**
   * Makes `userId`, an active member, the room's owner; the previous owner stays on as a plain member and may
   * then leave. The owner or a site administrator may do it, in any room but a DM, which has no owner. Naming the
   * current owner changes nothing (not even the room's version) and announces nothing. An owner's transfer
   * applies only if they still own the room when it commits, so of two racing transfers by one owner exactly one
   * succeeds; the other is FORBIDDEN. An administrator's transfer applies to whoever owns the room then.
   */
  async transferOwnership(p: Principal, roomId: string, userId: string): Promise<Room> {
    await this.#requireManager(p, roomId, (room) =>
      room.kind === "dm" ? "A direct conversation has no owner." : null,
    );
    await this.#requireActiveUsers([userId]);
    const expectedOwnerId = roleAtLeast(p.role, "admin") ? undefined : p.userId;
    try {
      const { room, previousOwnerId } = await this.deps.store.rooms.transferOwnership(roomId, userId, {
        expectedOwnerId,
      });
      if (previousOwnerId !== userId)
        this.deps.events.emit({ kind: "room.updated", room, actorId: p.userId, previousOwnerId });
      return room;
    } catch (e) {
      if (e instanceof NotFound && e.entity === "member") throw new AppError("USER_NOT_FOUND", NOT_A_MEMBER);
      if (e instanceof NotFound) throw new AppError("ROOM_NOT_FOUND");
      if (e instanceof Conflict && e.key === "owner") throw new AppError("FORBIDDEN", ONLY_THE_OWNER);
      throw e;
    }
  }

  /**
   * Removes `userId` (the caller themselves = leaving). Managers may remove anyone but the owner; an owner cannot
   * leave a room that still has other members, because a room without an owner could no longer be managed: they
   * transfer ownership first.
   */
  async removeMember(p: Principal, roomId: string, userId: string): Promise<void> {
    const leaving = userId === p.userId;
    const notInDm = (r: Room) =>
      r.kind === "dm" ? "Members of a direct conversation cannot be removed." : null;
    const { room } = leaving
      ? await this.requireMember(p, roomId)
      : await this.#requireManager(p, roomId, notInDm);
    const refused = notInDm(room);
    if (refused !== null) throw new AppError("INVALID_OPERATION", refused);
    const { store, clock, events } = this.deps;
    let event: RoomEvent | null;
    try {
      event = await store.rooms.removeMember(roomId, userId, p.userId, clock.now());
    } catch (e) {
      if (!(e instanceof Conflict && e.key === "owner")) throw e;
      throw new AppError(
        "INVALID_OPERATION",
        "The owner cannot leave or be removed while the room has other members; transfer ownership to another member first.",
      );
    }
    if (!event) throw new AppError("USER_NOT_FOUND", NOT_A_MEMBER);
    events.emit({ kind: "room.event", event });
  }

  /**
   * Moves the caller's read marker forward (never back); a seq past the end is clamped to the last event.
   * Announced so the caller's other connections update their badges; `origin` is the connection that read.
   */
  async markRead(
    p: Principal,
    roomId: string,
    seq: number,
    origin = "http",
  ): Promise<{ readSeq: number; unreadCount: number }> {
    const { room } = await this.requireMember(p, roomId);
    const { store } = this.deps;
    try {
      const { readSeq, unreadCount, countedSeq } = await store.rooms.markRead(
        roomId,
        p.userId,
        Math.min(seq, room.lastSeq),
      );
      this.deps.events.emit({
        kind: "read",
        userId: p.userId,
        roomId,
        readSeq,
        unreadCount,
        countedSeq,
        origin,
      });
      return { readSeq, unreadCount };
    } catch (e) {
      if (e instanceof NotFound) throw new AppError("ROOM_NOT_FOUND");
      throw e;
    }
  }

  /** The room and the caller's membership, or ROOM_NOT_FOUND whether the room is missing or merely not theirs. */
  async requireMember(p: Principal, roomId: string): Promise<{ room: Room; member: Member }> {
    const found = await this.deps.store.rooms.findMembership(roomId, p.userId);
    if (!found?.member) throw new AppError("ROOM_NOT_FOUND");
    return { room: found.room, member: found.member };
  }

  /**
   * Owners manage their room. Site administrators may manage any room; to anyone else a room they are not in
   * does not exist. For someone who can see the room, an operation its kind does not allow (`refuse` gives the
   * reason) is INVALID_OPERATION, whoever asks — it is not a matter of rights; otherwise a plain member is told
   * FORBIDDEN.
   */
  async #requireManager(
    p: Principal,
    roomId: string,
    refuse: (room: Room) => string | null = () => null,
  ): Promise<{ room: Room }> {
    const found = await this.deps.store.rooms.findMembership(roomId, p.userId);
    if (!found) throw new AppError("ROOM_NOT_FOUND");
    const { room, member } = found;
    const admin = roleAtLeast(p.role, "admin");
    if (!admin && !member) throw new AppError("ROOM_NOT_FOUND");
    const reason = refuse(room);
    if (reason !== null) throw new AppError("INVALID_OPERATION", reason);
    if (admin) return { room };
    if (member?.role !== "owner") throw new AppError("FORBIDDEN", ONLY_THE_OWNER);
    return { room };
  }

  async #requireActiveUsers(ids: readonly string[]): Promise<void> {
    const users = await Promise.all(ids.map((id) => this.deps.store.users.findById(id)));
    const missing = ids.filter((_, i) => users[i]?.status !== "active");
    if (missing.length > 0)
      throw new AppError("USER_NOT_FOUND", "No such active user.", { details: { userIds: missing } });
  }
}
