import type { BrokerErrorHook, BrokerHandler, BrokerSubscription } from "../../ports/broker.ts";

/** One local subscriber; `active` turns false exactly once, when it is removed. */
export interface LocalEntry {
  readonly channel: string;
  readonly handler: BrokerHandler;
  active: boolean;
}

/**
 * The per-process side of a broker, shared by its adapters: which local handlers listen on which channel
 * (the reference count behind "one network subscription per channel"), the resync listeners, and delivery
 * with failures isolated per handler.
 */
export class LocalSubscribers {
  readonly #channels = new Map<string, Set<LocalEntry>>();
  readonly #resyncListeners = new Set<() => void>();

  constructor(private readonly onError: BrokerErrorHook) {}

  /** Registers a handler; `first` says whether the channel had no local subscriber before. */
  add(channel: string, handler: BrokerHandler): { entry: LocalEntry; first: boolean } {
    let set = this.#channels.get(channel);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.#channels.set(channel, set);
    }
    const entry: LocalEntry = { channel, handler, active: true };
    set.add(entry);
    return { entry, first };
  }

  /** Unregisters a handler (no-op if already removed); `last` says whether the channel has none left. */
  remove(entry: LocalEntry): { last: boolean } {
    if (!entry.active) return { last: false };
    entry.active = false;
    const set = this.#channels.get(entry.channel);
    if (set === undefined) return { last: false };
    set.delete(entry);
    if (set.size > 0) return { last: false };
    this.#channels.delete(entry.channel);
    return { last: true };
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  channels(): string[] {
    return [...this.#channels.keys()];
  }

  /**
   * Calls every handler of the channel that is registered at this moment. A handler removed during the loop
   * (by another handler) is skipped, because a Set iterator does not visit deleted entries.
   */
  deliver(channel: string, payload: Uint8Array): void {
    const set = this.#channels.get(channel);
    if (set === undefined) return;
    for (const entry of set) {
      try {
        entry.handler(payload, channel);
      } catch (error) {
        this.onError(error);
      }
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
    for (const set of this.#channels.values()) {
      for (const entry of set) entry.active = false;
    }
    this.#channels.clear();
    this.#resyncListeners.clear();
  }
}

/**
 * The subscribe both Redis brokers share: register the handler locally, then make the server subscription match
 * the local set (`sync`, idempotent), undoing the registration if that fails. Resolves only once the server
 * confirmed, so a caller may read the store after it without missing a later publish. Unsubscribing drops the
 * server subscription with the channel's last local handler.
 */
export async function subscribeThrough(
  local: LocalSubscribers,
  channel: string,
  handler: BrokerHandler,
  sync: () => Promise<void>,
  isClosed: () => boolean,
): Promise<BrokerSubscription> {
  if (isClosed()) throw new Error("broker is closed");
  const { entry } = local.add(channel, handler);
  try {
    await sync();
  } catch (error) {
    if (local.remove(entry).last) void sync().catch(() => {});
    throw error;
  }
  if (isClosed()) throw new Error("broker is closed");
  return {
    channel,
    async unsubscribe(): Promise<void> {
      if (!local.remove(entry).last) return;
      await sync();
    },
  };
}
