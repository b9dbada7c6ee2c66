/**
 * Who is online where, across processes. Presence is tracked per connection (a user with two tabs has two
 * entries) and reported per user. Every entry carries an expiry: a connection that is not refreshed within its
 * TTL disappears on its own, which is how the entries of a crashed process are cleared. Processes therefore
 * refresh their connections' entries periodically (well within the TTL) and leave explicitly when they can.
 *
 * `room` is an opaque scope: a room id, or any other name the caller picks (e.g. one scope for "online at
 * all"). Expiry is computed from the adapter's clock, so processes sharing a Redis are assumed to have clocks
 * within a small fraction of the TTL of each other.
 *
 * Adapters: in-process and Redis. Both pass test/contract/presence.contract.ts.
 */
export interface Presence {
  /**
   * Records that connection `connId` of `userId` is present in `room` until now + ttlMs. Idempotent: joining
   * again replaces the connection's expiry (so it also serves as a heartbeat for one room).
   */
  join(room: string, userId: string, connId: string, ttlMs: number): Promise<void>;

  /**
   * The heartbeat of one connection: does what `join` does in every listed room, in one round trip. An entry
   * that had already expired is recreated, because the connection is evidently alive.
   */
  refresh(rooms: readonly string[], userId: string, connId: string, ttlMs: number): Promise<void>;

  /**
   * Removes the connection's entry. The user stays present while another of their connections is. Idempotent.
   * Resolves to whether the user is still present in the room right after this leave (another unexpired
   * connection, here or on another process): read in the same atomic step, so a caller deciding whether the
   * user just went offline needs no `list` afterwards.
   */
  leave(room: string, userId: string, connId: string): Promise<boolean>;

  /**
   * One page of the distinct user ids with at least one unexpired connection in the room, ascending: at most
   * `limit` of them, all above `after` (exclusive; null starts at the first). A room can hold tens of thousands
   * of users, so there is no way to read them all at once: an answer is bounded by `limit`, not by the room (and
   * on Redis, shared by every process, so is the work: see redis-presence.ts). Pages read one after another see
   * each user present throughout exactly once; a user who arrives or leaves meanwhile may or may not be seen.
   */
  list(room: string, after: string | null, limit: number): Promise<string[]>;

  /** The number of users present in the room (what `list` returns page after page), without reading them. */
  count(room: string): Promise<number>;
}
