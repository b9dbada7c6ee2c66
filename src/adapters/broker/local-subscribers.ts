import { StringMap } from "../../lib/string-map.ts";
import type { BrokerErrorHook, BrokerHandler } from "../../ports/broker.ts";

/**
 * One local subscriber; `active` turns false exactly once, when it is removed. A class rather than a literal so an
 * adapter may extend it into its own subscription object (one object per subscriber instead of two).
 */
export class LocalEntry {
  active = true;

  constructor(
    readonly channel: string,
    readonly handler: BrokerHandler,
  ) {}
}

/**
 * A channel's local subscribers: the entry itself while it has one, a Set only from the second. Most channels of
 * a busy process (one per connected user) have exactly one local subscriber, and a Set per channel would cost
 * each of them a hash table (about 250 bytes) for nothing.
 */
type Subscribers = LocalEntry | Set<LocalEntry>;

/**
 * The per-process side of a broker, shared by its adapters: which local handlers listen on which channel
 * (the reference count behind "one network subscription per channel"), the resync listeners, and delivery
 * with failures isolated per handler.
 */
export class LocalSubscribers {
  /** A StringMap: one channel per connected user (their `user:{id}`), tens of thousands of entries. */
  readonly #channels = new StringMap<Subscribers>();
  readonly #resyncListeners = new Set<() => void>();

  constructor(private readonly onError: BrokerErrorHook) {}

  /**
   * Registers a handler, as a new entry or as `entry` (an unregistered one the caller made, e.g. a subclass that
   * doubles as its subscription object); `first` says whether the channel had no local subscriber before.
   */
  add(
    channel: string,
    handler: BrokerHandler,
    entry = new LocalEntry(channel, handler),
  ): { entry: LocalEntry; first: boolean } {
    const current = this.#channels.get(channel);
    if (current === undefined) this.#channels.set(channel, entry);
    else if (current instanceof LocalEntry) this.#channels.set(channel, new Set([current, entry]));
    else current.add(entry);
    return { entry, first: current === undefined };
  }

  /** Unregisters a handler (no-op if already removed); `last` says whether the channel has none left. */
  remove(entry: LocalEntry): { last: boolean } {
    if (!entry.active) return { last: false };
    entry.active = false;
    const current = this.#channels.get(entry.channel);
    if (current === undefined) return { last: false };
    if (current instanceof LocalEntry) {
      if (current !== entry) return { last: false };
      this.#channels.delete(entry.channel);
      return { last: true };
    }
    current.delete(entry);
    // Back to one: the entry alone again. A delivery iterating the old Set still skips what was deleted from it.
    if (current.size === 1) for (const only of current) this.#channels.set(entry.channel, only);
    return { last: false };
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  channels(): string[] {
    return this.#channels.keys();
  }

  /**
   * Calls every handler of the channel that is registered at this moment and still registered when its turn
   * comes: a handler removed during the loop (by another handler) is skipped.
   */
  deliver(channel: string, payload: Uint8Array): void {
    const current = this.#channels.get(channel);
    if (current === undefined) return;
    if (current instanceof LocalEntry) {
      this.#call(current, payload, channel);
      return;
    }
    for (const entry of [...current]) if (entry.active) this.#call(entry, payload, channel);
  }

  #call(entry: LocalEntry, payload: Uint8Array, channel: string): void {
    try {
      entry.handler(payload, channel);
    } catch (error) {
      this.onError(error);
    }
  }

  onResync(listener: () => void): () => void {
    // A wrapper makes each registration distinct, so registering one function twice needs two removals.
    const registration = () => listener();
    this.#resyncListeners.add(registration);
    return () => {
      this.#resyncListeners.delete(registration);
    };
  }

  fireResync(): void {
    for (const listener of this.#resyncListeners) {
      try {
        listener();
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /** Drops every handler and listener: nothing is delivered afterwards. */
  clear(): void {
    for (const current of this.#channels.values()) {
      if (current instanceof LocalEntry) current.active = false;
      else for (const entry of current) entry.active = false;
    }
    this.#channels.clear();
    this.#resyncListeners.clear();
  }
}
