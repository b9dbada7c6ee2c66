import type { Connection } from "./connection.ts";
import type { LocalUser, LocalUsers } from "./local-users.ts";
import { addOne, removeOne, sizeOf } from "./one-or-many.ts";

/**
 * The open connections of this process: all of them (for the sweep and shutdown) and by user (for per-user
 * limits, revocation and removal).
 *
 * All of them are a dense array, each connection knowing its slot (`Connection.registrySlot`): adding and removing
 * are O(1) (the last connection moves into the freed slot), and a slot costs one array element where a Map keyed
 * by connection id cost every idle socket its share of a large hash table. Lookup by id is only needed among one
 * user's connections, which are few.
 *
 * By user, the registry owns `LocalUser.connections` (local-users.ts): the connection itself while the user has
 * one here, an array only from the second (at most wsMaxConnectionsPerUser long).
 */
export class ConnectionRegistry {
  readonly #all: Connection[] = [];

  constructor(private readonly users: LocalUsers) {}

  get size(): number {
    return this.#all.length;
  }

  /**
   * Every connection, including those still in the handshake, last added first. The caller may remove connections
   * while it iterates: each connection registered when the iteration starts and not removed before its turn is
   * visited; one may be visited twice if another connection before it is removed meanwhile.
   */
  *all(): IterableIterator<Connection> {
    const all = this.#all;
    for (let i = all.length - 1; i >= 0; i--) {
      if (i >= all.length) i = all.length - 1;
      const conn = all[i];
      if (conn !== undefined) yield conn;
    }
  }

  /** Whether the connection was added and not removed since. */
  has(conn: Connection): boolean {
    return this.#all[conn.registrySlot] === conn;
  }

  add(conn: Connection): void {
    if (this.has(conn)) return;
    conn.registrySlot = this.#all.length;
    this.#all.push(conn);
  }

  /** Counts the connection against its (authenticated) user. */
  bindUser(conn: Connection, userId: string): void {
    const user = this.users.obtain(userId);
    user.connections = addOne(user.connections, conn);
  }

  /** The user's connections, as a snapshot: the caller may close or unbind them while it iterates. */
  ofUser(userId: string): readonly Connection[] {
    const entry = this.users.get(userId)?.connections ?? null;
    if (entry === null) return NONE;
    return Array.isArray(entry) ? [...entry] : [entry];
  }

  /** The user's connection with this id, if it is on this process. */
  find(userId: string, id: string): Connection | undefined {
    const entry = this.users.get(userId)?.connections ?? null;
    if (entry === null) return undefined;
    if (!Array.isArray(entry)) return entry.id === id ? entry : undefined;
    return entry.find((conn) => conn.id === id);
  }

  countOfUser(userId: string): number {
    return sizeOf(this.users.get(userId)?.connections ?? null);
  }

  remove(conn: Connection): void {
    if (!this.has(conn)) return;
    const last = this.#all.pop()!;
    if (last !== conn) {
      this.#all[conn.registrySlot] = last;
      last.registrySlot = conn.registrySlot;
    }
    conn.registrySlot = -1;
    const userId = conn.userId;
    if (userId === null) return;
    const user = this.users.get(userId);
    if (user !== undefined) this.#unbind(user, conn);
  }

  #unbind(user: LocalUser, conn: Connection): void {
    user.connections = removeOne(user.connections, conn);
    if (user.connections === null) this.users.dropIfUnused(user);
  }
}

const NONE: readonly Connection[] = Object.freeze([]);
