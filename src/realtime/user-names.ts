import type { UserRepository } from "../ports/store.ts";

export interface UserNamesOptions {
  readonly users: Pick<UserRepository, "findById">;
  /** Most names kept; the least recently used is dropped first. */
  readonly capacity?: number;
  /**
   * A cached name is reloaded after this long (default 10 minutes). Renames reach the cache at once through
   * `set` (followRenames), so this only bounds how long a name can stay wrong when such an announcement was
   * lost without a resync (which clears the cache).
   */
  readonly ttlMs?: number;
  readonly now: () => number;
}

/** How a user is shown as a sender: the display name, else the username, else the id (a user who is gone). */
export function senderName(
  userId: string,
  user: { readonly displayName: string; readonly username: string } | null,
): string {
  return user?.displayName || user?.username || userId;
}

interface Entry {
  readonly name: string;
  readonly loadedAt: number;
}

/**
 * Display names by user id for the `sender` field of message events: a bounded LRU in front of the store, so a
 * room costs one lookup per sender per TTL rather than one per message — also for senders who write once a
 * minute, as in a large audience, which a short TTL would turn back into one store read per message. A rename
 * is applied by `set` as soon as it is announced; a load that started before it cannot put the old name back.
 * A user that no longer exists is shown by id.
 */
export class UserNames {
  readonly #users: Pick<UserRepository, "findById">;
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<string>>();
  /** Moved by `set` and `clear`: a load that started under an earlier value does not write its result. */
  #generation = 0;

  constructor(opts: UserNamesOptions) {
    this.#users = opts.users;
    this.#capacity = opts.capacity ?? 100_000;
    this.#ttlMs = opts.ttlMs ?? 600_000;
    this.#now = opts.now;
  }

  /** The cached name when it is fresh, else undefined (no I/O). */
  peek(userId: string): string | undefined {
    const e = this.#cache.get(userId);
    if (e === undefined || this.#now() - e.loadedAt > this.#ttlMs) return undefined;
    // Map order is insertion order: re-inserting marks it most recently used.
    this.#cache.delete(userId);
    this.#cache.set(userId, e);
    return e.name;
  }

  get(userId: string): Promise<string> {
    const hit = this.peek(userId);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.#loading.get(userId);
    if (p === undefined) {
      p = this.#load(userId).finally(() => this.#loading.delete(userId));
      this.#loading.set(userId, p);
    }
    return p;
  }

  /** A name known to be current (an announced rename): cached as if just loaded, replacing any other. */
  set(userId: string, name: string): void {
    this.#generation++;
    this.#remember(userId, name);
  }

  /** Forgets every name (announcements may have been lost); the next lookups read the store. */
  clear(): void {
    this.#generation++;
    this.#cache.clear();
  }

  async #load(userId: string): Promise<string> {
    const generation = this.#generation;
    const user = await this.#users.findById(userId);
    const name = senderName(userId, user);
    // A rename announced meanwhile may be newer than what was read: keep the cache as `set` left it.
    if (generation === this.#generation) this.#remember(userId, name);
    return name;
  }

  #remember(userId: string, name: string): void {
    this.#cache.delete(userId);
    this.#cache.set(userId, { name, loadedAt: this.#now() });
    if (this.#cache.size > this.#capacity) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }
}
