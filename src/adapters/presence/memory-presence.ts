import type { Clock } from "../../ports/clock.ts";
import type { Presence } from "../../ports/presence.ts";

/** How often (in clock time) every room is swept of expired entries, so memory tracks live connections. */
const SWEEP_INTERVAL_MS = 60_000;

/** One connection's entry: present while `expiresAt` (ms since the epoch) > now. */
interface Single {
  readonly connId: string;
  expiresAt: number;
}

/**
 * A user's connections in one room: the single entry while they have one, a Map (connection → expiry) only from
 * the second. A user is nearly always present in a room through one process, and a Map per (room, user) would
 * cost each of them a hash table (about 250 bytes) where this costs a two-field object.
 */
type Conns = Single | Map<string, number>;

/** room → user → connections. */
type Rooms = Map<string, Map<string, Conns>>;

export interface MemoryPresence extends Presence {
  /** Connection entries currently held, expired ones not yet swept included (for tests of the bound). */
  readonly size: number;
}

/** Presence for a single process. Expired entries are dropped when their room is read and by a periodic sweep. */
export function memoryPresence(clock: Clock): MemoryPresence {
  const rooms: Rooms = new Map();
  let nextSweepAt = clock.now() + SWEEP_INTERVAL_MS;

  function sweepIfDue(now: number): void {
    if (now < nextSweepAt) return;
    nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const room of [...rooms.keys()]) purgeRoom(room, now);
  }

  function purgeRoom(room: string, now: number): Map<string, Conns> | undefined {
    const users = rooms.get(room);
    if (users === undefined) return undefined;
    for (const [userId, conns] of users) {
      if (!(conns instanceof Map)) {
        if (conns.expiresAt <= now) users.delete(userId);
        continue;
      }
      for (const [connId, expiresAt] of conns) if (expiresAt <= now) conns.delete(connId);
      settle(users, userId, conns);
    }
    if (users.size > 0) return users;
    rooms.delete(room);
    return undefined;
  }

  function put(room: string, userId: string, connId: string, expiresAt: number): void {
    let users = rooms.get(room);
    if (users === undefined) {
      users = new Map();
      rooms.set(room, users);
    }
    const conns = users.get(userId);
    if (conns === undefined) users.set(userId, { connId, expiresAt });
    else if (conns instanceof Map) conns.set(connId, expiresAt);
    else if (conns.connId === connId) conns.expiresAt = expiresAt;
    else
      users.set(
        userId,
        new Map([
          [conns.connId, conns.expiresAt],
          [connId, expiresAt],
        ]),
      );
  }

  /** After deletions from a user's Map: no entry left drops the user, one left goes back to a single entry. */
  function settle(users: Map<string, Conns>, userId: string, conns: Map<string, number>): void {
    if (conns.size === 0) users.delete(userId);
    else if (conns.size === 1)
      for (const [connId, expiresAt] of conns) users.set(userId, { connId, expiresAt });
  }

  function liveUsers(room: string): Map<string, Conns> | undefined {
    const now = clock.now();
    sweepIfDue(now);
    return purgeRoom(room, now);
  }

  return {
    get size() {
      let n = 0;
      for (const users of rooms.values())
        for (const conns of users.values()) n += conns instanceof Map ? conns.size : 1;
      return n;
    },

    async join(room, userId, connId, ttlMs) {
      assertTtl(ttlMs);
      const now = clock.now();
      sweepIfDue(now);
      put(room, userId, connId, now + ttlMs);
    },

    async refresh(roomList, userId, connId, ttlMs) {
      assertTtl(ttlMs);
      const now = clock.now();
      sweepIfDue(now);
      for (const room of roomList) put(room, userId, connId, now + ttlMs);
    },

    async leave(room, userId, connId) {
      const users = rooms.get(room);
      const conns = users?.get(userId);
      if (users === undefined || conns === undefined) return false;
      if (!(conns instanceof Map)) {
        if (conns.connId === connId) users.delete(userId);
      } else {
        conns.delete(connId);
        settle(users, userId, conns);
      }
      if (users.size === 0) rooms.delete(room);
      return stillPresent(users.get(userId), clock.now());
    },

    async list(room, after, limit) {
      assertPageSize(limit);
      const users = liveUsers(room);
      return users === undefined ? [] : smallestAbove(users.keys(), after, limit);
    },

    async count(room) {
      return liveUsers(room)?.size ?? 0;
    },
  };
}

/** Whether any of a user's remaining connections is unexpired at `now`. */
function stillPresent(conns: Conns | undefined, now: number): boolean {
  if (conns === undefined) return false;
  if (!(conns instanceof Map)) return conns.expiresAt > now;
  for (const expiresAt of conns.values()) if (expiresAt > now) return true;
  return false;
}

/**
 * The `limit` smallest ids above `after`, ascending, in one pass that keeps only those: O(n log limit) for ids in
 * no particular order, where sorting them all took ~2 ms a page at 20,000 users. One process holds only its own
 * connections, so a pass per page costs less than an index kept in order through every join and leave.
 */
function smallestAbove(ids: Iterable<string>, after: string | null, limit: number): string[] {
  const best: string[] = [];
  for (const id of ids) {
    if (after !== null && id <= after) continue;
    const last = best[best.length - 1];
    if (best.length === limit && last !== undefined && id >= last) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((best[mid] as string) < id) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, id);
    if (best.length > limit) best.pop();
  }
  return best;
}

function assertPageSize(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`presence page size must be at least 1, got ${limit}`);
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`presence TTL must be positive, got ${ttlMs}`);
}
