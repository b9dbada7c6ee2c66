import type { Connection } from "./connection.ts";

/**
 * The open connections of this process, by id and by user (for per-user limits, revocation and removal).
 *
 * A user's entry is the connection itself while they have one here, an array only from the second: most users
 * hold one connection, and a Set per user would cost every idle socket a hash table. An array stays short
 * (at most wsMaxConnectionsPerUser).
 */
export class ConnectionRegistry {
  readonly #byId = new Map<string, Connection>();
  readonly #byUser = new Map<string, Connection | Connection[]>();

  get size(): number {
    return this.#byId.size;
  }

  /** Every connection, including those still in the handshake. */
  all(): IterableIterator<Connection> {
    return this.#byId.values();
  }

  get(id: string): Connection | undefined {
    return this.#byId.get(id);
  }

  add(conn: Connection): void {
    this.#byId.set(conn.id, conn);
  }

  /** Counts the connection against its (authenticated) user. */
  bindUser(conn: Connection, userId: string): void {
    const entry = this.#byUser.get(userId);
    if (entry === undefined) this.#byUser.set(userId, conn);
    else if (Array.isArray(entry)) {
      if (!entry.includes(conn)) entry.push(conn);
    } else if (entry !== conn) this.#byUser.set(userId, [entry, conn]);
  }

  /** The user's connections, as a snapshot: the caller may close or unbind them while it iterates. */
  ofUser(userId: string): readonly Connection[] {
    const entry = this.#byUser.get(userId);
    if (entry === undefined) return NONE;
    return Array.isArray(entry) ? [...entry] : [entry];
  }

  countOfUser(userId: string): number {
    const entry = this.#byUser.get(userId);
    if (entry === undefined) return 0;
    return Array.isArray(entry) ? entry.length : 1;
  }

  remove(conn: Connection): void {
    this.#byId.delete(conn.id);
    const userId = conn.userId;
    if (userId === null) return;
    const entry = this.#byUser.get(userId);
    if (entry === undefined) return;
    if (!Array.isArray(entry)) {
      if (entry === conn) this.#byUser.delete(userId);
      return;
    }
    const at = entry.indexOf(conn);
    if (at < 0) return;
    entry.splice(at, 1);
    const only = entry.length === 1 ? entry[0] : undefined;
    if (only !== undefined) this.#byUser.set(userId, only);
  }
}

const NONE: readonly Connection[] = Object.freeze([]);
