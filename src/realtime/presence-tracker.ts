import type { Logger } from "pino";
import type { Presence } from "../ports/presence.ts";
import type { LocalUsers } from "./local-users.ts";
import type { WirePresenceEvent } from "./wire.ts";

export interface PresenceTrackerDeps {
  readonly presence: Presence;
  /**
   * The process's user records; the tracker owns `presentIn` there: the rooms a user is present in from this
   * process (what one refresh call covers) with their live subscriptions here, the room id alone while that is
   * one room with one subscription, a Map only otherwise, because a Map per user would cost every idle user a
   * hash table. It is the tracker's only record of who is here: no table by room, whose entry per user cost
   * about as much again.
   */
  readonly users: LocalUsers;
  /** This process's entry id in the Presence port: one entry per (room, user, process). */
  readonly processId: string;
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly publishEphemeral: (roomId: string, json: string) => Promise<void>;
  /** Window over which a room's presence changes are coalesced into one event (default 500 ms). */
  readonly batchMs?: number;
  /** Live subscriptions to the room on this process (the room's hub). */
  readonly localSubscriptions?: (roomId: string) => number;
  /**
   * Above this many local subscriptions a room gets no presence events from this process (0 or absent: no limit).
   * Coalescing bounds a mass connect to one event per room per window, but each of them still goes to every member:
   * with 17,500 subscribers on each of four processes, eight events a second to all 70,000 took more socket writes
   * than a core makes, and over half the connections were not subscribed a minute after opening (twice as many
   * were with this limit: docs/benchmarks/optimizations.md, "Presence events off in large rooms"). Large chat rooms
   * show a count, not who comes and goes; their clients read the REST count or list when they want it.
   */
  readonly eventsMaxSubscribers?: number;
}

/**
 * The refresh period (ttl/3) is split into this many ticks, and each tick refreshes the users whose id hashes to
 * it: every entry is still refreshed once per period, but a process with thousands of users sends a tenth of
 * their Redis calls ten times as often instead of all of them at once (which stalled the event loop for
 * hundreds of milliseconds every period in afreeca-rooms; docs/benchmarks/optimizations.md).
 */
const REFRESH_SLICES = 10;

/** Which tick of the period refreshes this user: a string hash, stable for the life of the process. */
export function refreshSlice(userId: string): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (Math.imul(h, 31) + userId.charCodeAt(i)) | 0;
  return (h >>> 0) % REFRESH_SLICES;
}

/** Live subscriptions to the room in a user's `presentIn` (see PresenceTrackerDeps.users). */
function subscriptionsIn(rooms: string | ReadonlyMap<string, number> | null, roomId: string): number {
  if (rooms === null) return 0;
  if (typeof rooms === "string") return rooms === roomId ? 1 : 0;
  return rooms.get(roomId) ?? 0;
}

/** The most user ids one presence event lists per status; beyond it the event says `truncated`. */
export const PRESENCE_LIST_MAX = 100;

/**
 * Who is online where, as seen from this process: a user is online in a room while they have a live
 * subscription to it here (counted locally), and the Presence port merges the processes. Each entry is
 * refreshed once every ttl/3 (one timer, the users spread over REFRESH_SLICES ticks), so a killed process's
 * users expire on their own after the TTL.
 *
 * `presence` room events are best effort: a user turns "online" when their first local subscription to a room
 * appears, "offline" when the last one goes and no other process still reports them. Changes are coalesced per
 * room over `batchMs` (last state of each user wins), because a mass connect announcing every user to every
 * member would cost members² deliveries; and a room with more than `eventsMaxSubscribers` local subscriptions
 * gets none from this process, whose changes there are dropped rather than held.
 */
export class PresenceTracker {
  /** Per (room, user): join and leave calls are issued in order. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #timer: ReturnType<typeof setInterval>;
  /** room → user → the status to announce at the next flush. */
  readonly #pending = new Map<string, Map<string, "online" | "offline">>();
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** The slice the next tick refreshes. */
  #slice = 0;

  constructor(private readonly deps: PresenceTrackerDeps) {
    const period = Math.max(250, Math.floor(deps.ttlMs / 3));
    this.#timer = setInterval(() => this.#refresh(), period / REFRESH_SLICES);
    this.#timer.unref?.();
  }

  add(roomId: string, userId: string): void {
    const user = this.deps.users.obtain(userId);
    const rooms = user.presentIn;
    const n = subscriptionsIn(rooms, roomId) + 1;
    if (rooms === null) user.presentIn = roomId;
    else if (typeof rooms === "string") user.presentIn = new Map([[rooms, 1]]).set(roomId, n);
    else rooms.set(roomId, n);
    if (n > 1) return;
    this.#inOrder(roomId, userId, async () => {
      await this.deps.presence.join(roomId, userId, this.deps.processId, this.deps.ttlMs);
      await this.#announce(roomId, userId, "online");
    });
  }

  remove(roomId: string, userId: string): void {
    const user = this.deps.users.get(userId);
    if (user === undefined) return;
    const rooms = user.presentIn;
    const n = subscriptionsIn(rooms, roomId);
    if (n === 0) return;
    if (typeof rooms === "string") {
      user.presentIn = null;
      this.deps.users.dropIfUnused(user);
    } else if (rooms !== null) {
      if (n > 1) rooms.set(roomId, n - 1);
      else rooms.delete(roomId);
      // Back to one room with one subscription: the room id alone again.
      if (rooms.size === 1) for (const [only, count] of rooms) if (count === 1) user.presentIn = only;
      if (rooms.size === 0) {
        user.presentIn = null;
        this.deps.users.dropIfUnused(user);
      }
    }
    if (n > 1) return;
    this.#inOrder(roomId, userId, async () => {
      const elsewhere = await this.deps.presence.leave(roomId, userId, this.deps.processId);
      if (subscriptionsIn(this.deps.users.get(userId)?.presentIn ?? null, roomId) > 0) return;
      if (!elsewhere) await this.#announce(roomId, userId, "offline");
    });
  }

  /** A page of the users online in the room on any process, ascending (Presence.list). */
  online(roomId: string, after: string | null, limit: number): Promise<string[]> {
    return this.deps.presence.list(roomId, after, limit);
  }

  /** How many `online` would list. */
  onlineCount(roomId: string): Promise<number> {
    return this.deps.presence.count(roomId);
  }

  /** Stops refreshing and removes this process's entries, so its users go offline now rather than at expiry. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#pending.clear();
    const leaves: Promise<unknown>[] = [];
    for (const user of this.deps.users.values()) {
      const rooms = user.presentIn;
      if (rooms === null) continue;
      for (const roomId of typeof rooms === "string" ? [rooms] : rooms.keys())
        leaves.push(this.deps.presence.leave(roomId, user.id, this.deps.processId));
      user.presentIn = null;
      this.deps.users.dropIfUnused(user);
    }
    await Promise.allSettled([...leaves, ...this.#chains.values()]);
  }

  #inOrder(roomId: string, userId: string, task: () => Promise<void>): void {
    const key = `${roomId}\u0000${userId}`;
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(task).catch((err: unknown) => {
      this.deps.logger.warn({ err, roomId }, "presence update failed");
    });
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** A room too large on this process for presence events (PresenceTrackerDeps.eventsMaxSubscribers). */
  #quiet(roomId: string): boolean {
    const max = this.deps.eventsMaxSubscribers ?? 0;
    return max > 0 && (this.deps.localSubscriptions?.(roomId) ?? 0) > max;
  }

  #announce(roomId: string, userId: string, status: "online" | "offline"): Promise<void> {
    if (this.#quiet(roomId)) return Promise.resolve();
    let users = this.#pending.get(roomId);
    if (users === undefined) {
      users = new Map();
      this.#pending.set(roomId, users);
    }
    users.set(userId, status);
    if (this.#flushTimer === null) {
      this.#flushTimer = setTimeout(() => this.#flush(), this.deps.batchMs ?? 500);
      this.#flushTimer.unref?.();
    }
    return Promise.resolve();
  }

  /** One event per room with pending changes; publishes run concurrently and failures are only logged. */
  #flush(): void {
    this.#flushTimer = null;
    for (const [roomId, users] of this.#pending) {
      // It may have grown past the limit since these changes were held.
      if (this.#quiet(roomId)) continue;
      const online: string[] = [];
      const offline: string[] = [];
      for (const [userId, status] of users) (status === "online" ? online : offline).push(userId);
      const event: WirePresenceEvent = {
        type: "presence",
        roomId,
        online: online.slice(0, PRESENCE_LIST_MAX),
        offline: offline.slice(0, PRESENCE_LIST_MAX),
        truncated: online.length > PRESENCE_LIST_MAX || offline.length > PRESENCE_LIST_MAX,
      };
      void this.deps.publishEphemeral(roomId, JSON.stringify(event));
    }
    this.#pending.clear();
  }

  #refresh(): void {
    const slice = this.#slice;
    this.#slice = (slice + 1) % REFRESH_SLICES;
    for (const { id: userId, presentIn: rooms } of this.deps.users.values()) {
      if (rooms === null || refreshSlice(userId) !== slice) continue;
      this.deps.presence
        .refresh(
          typeof rooms === "string" ? [rooms] : [...rooms.keys()],
          userId,
          this.deps.processId,
          this.deps.ttlMs,
        )
        .catch((err: unknown) => this.deps.logger.warn({ err }, "presence refresh failed"));
    }
  }
}
