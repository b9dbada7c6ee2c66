import type { UserRepository } from "../ports/store.ts";

export interface UserNamesOptions {
  readonly users: Pick<UserRepository, "findById">;
  /** Most names kept; the least recently used is dropped first. */
  readonly capacity?: number;
  /** A cached name is reloaded after this long, so a renamed user shows the new name soon. */
  readonly ttlMs?: number;
  readonly now: () => number;
}

interface Entry {
  readonly name: string;
  readonly loadedAt: number;
}

/**
 * Display names by user id for the `sender` field of message events: a bounded LRU in front of the store, so a
 * busy room costs one lookup per sender per TTL rather than one per message. A user that no longer exists is
 * shown by id.
 */
export class UserNames {
  readonly #users: Pick<UserRepository, "findById">;
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<string>>();

  constructor(opts: UserNamesOptions) {
    this.#users = opts.users;
    this.#capacity = opts.capacity ?? 100_000;
    this.#ttlMs = opts.ttlMs ?? 60_000;
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

  async #load(userId: string): Promise<string> {
    const user = await this.#users.findById(userId);
    const name = user?.displayName || user?.username || userId;
    this.#cache.delete(userId);
    this.#cache.set(userId, { name, loadedAt: this.#now() });
    if (this.#cache.size > this.#capacity) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    return name;
  }
}
