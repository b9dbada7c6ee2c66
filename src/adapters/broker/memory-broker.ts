import type { Broker, BrokerErrorHook, BrokerHandler, BrokerSubscription } from "../../ports/broker.ts";
import { LocalEntry, LocalSubscribers } from "./local-subscribers.ts";

interface HubNode {
  deliver(channel: string, payload: Uint8Array): void;
  resync(): void;
}

type HubItem = { readonly channel: string; readonly payload: Uint8Array } | "resync";

/**
 * The in-process transport that memory brokers attach to. One hub with one broker is the single-process
 * default; several brokers on one hub behave like several processes on one Redis, which lets tests run a
 * multi-node setup inside one process.
 *
 * Delivery is a single FIFO drained in a microtask, so it is asynchronous to publish() and ordered per channel
 * (in fact globally), and nothing is ever lost.
 */
export class MemoryHub {
  readonly #nodes = new Set<HubNode>();
  #queue: HubItem[] = [];
  #scheduled = false;

  attach(node: HubNode): void {
    this.#nodes.add(node);
  }

  detach(node: HubNode): void {
    this.#nodes.delete(node);
  }

  publish(channel: string, payload: Uint8Array): void {
    this.#enqueue({ channel, payload });
  }

  /**
   * Announces a resync to every attached broker, in order with the messages published before it — what a
   * Redis reconnect does. For tests of the re-sync paths; nothing is actually lost.
   */
  resync(): void {
    this.#enqueue("resync");
  }

  #enqueue(item: HubItem): void {
    this.#queue.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    // Handlers may publish while we drain: their messages land in a fresh queue and are drained after.
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        for (const item of batch) {
          for (const node of this.#nodes) {
            if (item === "resync") node.resync();
            else node.deliver(item.channel, item.payload);
          }
        }
      }
    } finally {
      this.#scheduled = false;
    }
  }
}

export function memoryHub(): MemoryHub {
  return new MemoryHub();
}

export interface MemoryBrokerOptions {
  /** Share a hub to make brokers behave as processes on one transport; by default each broker has its own. */
  readonly hub?: MemoryHub;
  readonly onError?: BrokerErrorHook;
}

const encoder = new TextEncoder();

/**
 * A subscription of the in-process broker is its own local entry: one object per subscriber, with `unsubscribe`
 * on the prototype rather than a closure per subscription.
 */
class MemorySubscription extends LocalEntry implements BrokerSubscription {
  constructor(
    private readonly local: LocalSubscribers,
    channel: string,
    handler: BrokerHandler,
  ) {
    super(channel, handler);
  }

  async unsubscribe(): Promise<void> {
    this.local.remove(this);
  }
}

/** The in-process Broker: no network, no loss, resync only when the hub announces one. */
export function memoryBroker(opts: MemoryBrokerOptions = {}): Broker {
  const hub = opts.hub ?? new MemoryHub();
  const local = new LocalSubscribers(opts.onError ?? reportToConsole);
  const node: HubNode = {
    deliver: (channel, payload) => local.deliver(channel, payload),
    resync: () => local.fireResync(),
  };
  hub.attach(node);
  let closed = false;

  const closedError = () => new Error("broker is closed");

  return {
    async publish(channel: string, payload: string | Uint8Array): Promise<void> {
      if (closed) throw closedError();
      // A copy, like bytes on a wire: later changes to the caller's buffer do not reach subscribers.
      hub.publish(channel, typeof payload === "string" ? encoder.encode(payload) : payload.slice());
    },

    async subscribe(channel: string, handler: BrokerHandler): Promise<BrokerSubscription> {
      if (closed) throw closedError();
      const subscription = new MemorySubscription(local, channel, handler);
      local.add(channel, handler, subscription);
      return subscription;
    },

    onResync(listener: () => void): () => void {
      return local.onResync(listener);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      hub.detach(node);
      local.clear();
    },
  };
}

function reportToConsole(error: unknown): void {
  console.error("broker handler failed", error);
}
