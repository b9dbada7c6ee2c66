import type { Logger } from "pino";
import type { Presence } from "../ports/presence.ts";
import type { WirePresenceEvent } from "./wire.ts";

export interface PresenceTrackerDeps {
  readonly presence: Presence;
  /** This process's entry id in the Presence port: one entry per (room, user, process). */
  readonly processId: string;
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly publishEphemeral: (roomId: string, json: string) => Promise<void>;
}

/**
 * Who is online where, as seen from this process: a user is online in a room while they have a live
 * subscription to it here (counted locally), and the Presence port merges the processes. Entries are
 * refreshed every ttl/3 by one timer, so a killed process's users expire on their own after the TTL.
 *
 * `presence` room events are best effort: "online" when a user's first local subscription to a room appears,
 * "offline" when the last one goes and no other process still reports them.
 */
export class PresenceTracker {
  /** room → user → live subscriptions on this process. */
  readonly #byRoom = new Map<string, Map<string, number>>();
  /** user → rooms they are present in from this process (what one refresh call covers). */
  readonly #byUser = new Map<string, Set<string>>();
  /** Per (room, user): join and leave calls are issued in order. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(private readonly deps: PresenceTrackerDeps) {
    this.#timer = setInterval(() => this.#refresh(), Math.max(250, Math.floor(deps.ttlMs / 3)));
    this.#timer.unref?.();
  }

  add(roomId: string, userId: string): void {
    let users = this.#byRoom.get(roomId);
    if (users === undefined) {
      users = new Map();
      this.#byRoom.set(roomId, users);
    }
    const n = (users.get(userId) ?? 0) + 1;
    users.set(userId, n);
    if (n > 1) return;
    let rooms = this.#byUser.get(userId);
    if (rooms === undefined) {
      rooms = new Set();
      this.#byUser.set(userId, rooms);
    }
    rooms.add(roomId);
    this.#inOrder(roomId, userId, async () => {
      await this.deps.presence.join(roomId, userId, this.deps.processId, this.deps.ttlMs);
      await this.#announce(roomId, userId, "online");
    });
  }

  remove(roomId: string, userId: string): void {
    const users = this.#byRoom.get(roomId);
    const n = users?.get(userId);
    if (users === undefined || n === undefined) return;
    if (n > 1) {
      users.set(userId, n - 1);
      return;
    }
    users.delete(userId);
    if (users.size === 0) this.#byRoom.delete(roomId);
    const rooms = this.#byUser.get(userId);
    rooms?.delete(roomId);
    if (rooms?.size === 0) this.#byUser.delete(userId);
    this.#inOrder(roomId, userId, async () => {
      await this.deps.presence.leave(roomId, userId, this.deps.processId);
      if (this.#byRoom.get(roomId)?.has(userId)) return;
      const online = await this.deps.presence.list(roomId);
      if (!online.includes(userId)) await this.#announce(roomId, userId, "offline");
    });
  }

  /** Users online in the room on any process, ascending. */
  online(roomId: string): Promise<string[]> {
    return this.deps.presence.list(roomId);
  }

  /** Stops refreshing and removes this process's entries, so its users go offline now rather than at expiry. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const leaves: Promise<void>[] = [];
    for (const [roomId, users] of this.#byRoom) {
      for (const userId of users.keys())
        leaves.push(this.deps.presence.leave(roomId, userId, this.deps.processId));
    }
    this.#byRoom.clear();
    this.#byUser.clear();
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

  #announce(roomId: string, userId: string, status: WirePresenceEvent["status"]): Promise<void> {
    const event: WirePresenceEvent = { type: "presence", roomId, userId, status };
    return this.deps.publishEphemeral(roomId, JSON.stringify(event));
  }

  #refresh(): void {
    for (const [userId, rooms] of this.#byUser) {
      this.deps.presence
        .refresh([...rooms], userId, this.deps.processId, this.deps.ttlMs)
        .catch((err: unknown) => this.deps.logger.warn({ err }, "presence refresh failed"));
    }
  }
}
