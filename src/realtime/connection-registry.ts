import type { Connection } from "./connection.ts";

/** The open connections of this process, by id and by user (for per-user limits, revocation and removal). */
export class ConnectionRegistry {
  readonly #byId = new Map<string, Connection>();
  readonly #byUser = new Map<string, Set<Connection>>();

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
    let set = this.#byUser.get(userId);
    if (set === undefined) {
      set = new Set();
      this.#byUser.set(userId, set);
    }
    set.add(conn);
  }

  ofUser(userId: string): ReadonlySet<Connection> {
    return this.#byUser.get(userId) ?? EMPTY;
  }

  countOfUser(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0;
  }

  remove(conn: Connection): void {
    this.#byId.delete(conn.id);
    const userId = conn.userId;
    if (userId === null) return;
    const set = this.#byUser.get(userId);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size === 0) this.#byUser.delete(userId);
  }
}

const EMPTY: ReadonlySet<Connection> = new Set();
