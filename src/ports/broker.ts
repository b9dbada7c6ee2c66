/**
 * Transport between server processes: a message published on a channel reaches every process that has a local
 * subscriber on that channel. Channels are opaque strings chosen by the caller (the broker gives them no meaning).
 *
 * The broker is not the record. Everything it carries (room events, per-user notifications) is already committed
 * to the store with a per-room seq, so delivery is at-most-once: a message may be lost when a connection fails,
 * and a receiver detects the hole by seq and fills it from the store. What the broker does promise is to say when
 * such a hole may have opened that the receiver could not see by seq: see `onResync`.
 *
 * Adapters: in-process (one process, or several brokers sharing one in-process hub) and Redis pub/sub
 * (plain or sharded). Both pass test/contract/broker.contract.ts.
 */
export interface Broker {
  /**
   * Sends `payload` to the channel's subscribers in every process attached to the same transport, including
   * this one. One network publish per call, however many subscribers there are.
   *
   * Ordering: messages published on one channel by one broker instance are delivered to every subscriber in
   * the order of the publish calls (not of their completion), as long as no resync intervenes. Nothing is
   * promised about the relative order of different channels, or of different publishing processes.
   *
   * Resolves when the transport has accepted the message (for Redis: the server answered), not when it has
   * been delivered. Rejects if the transport could not take it; the message may then be lost, and every
   * subscriber is later told so through `onResync`. A string is sent as its UTF-8 bytes. The caller must not
   * mutate a Uint8Array payload until the returned promise settles. Rejects after close().
   */
  publish(channel: string, payload: string | Uint8Array): Promise<void>;

  /**
   * Adds a local subscriber. Subscriptions are reference-counted per broker instance: the first local
   * subscriber of a channel creates the one network subscription, later ones share it, and the network
   * subscription is dropped with the last one.
   *
   * Resolves once the subscription is active on the transport: every message published on the channel after
   * that (by any process) is delivered to `handler`, unless a resync is announced. Messages published earlier
   * may or may not be. A caller that needs a gap-free stream therefore subscribes first, then reads the store
   * from its last seq, and drops duplicates by seq. Rejects if the subscription could not be established (the
   * handler is then not registered) and after close().
   */
  subscribe(channel: string, handler: BrokerHandler): Promise<BrokerSubscription>;

  /**
   * Registers a listener called after the broker may have lost messages on any or all channels: the
   * subscriber connection dropped and is back, or a publish of some process failed. By the time it is called,
   * every current subscription is active again, so a listener that re-reads the store from each subscriber's
   * last seq misses nothing (messages on restored subscriptions may already have arrived just before the call:
   * dedupe by seq as usual). Called asynchronously, never inside a handler. Returns a function that removes
   * the listener.
   */
  onResync(listener: () => void): () => void;

  /**
   * Stops delivery at once (no handler or listener is called after close() is called), drops all
   * subscriptions and releases connections. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Receives one message. Called asynchronously (never inside publish()), one message at a time, in order per
 * channel. The bytes are shared with the channel's other local subscribers and must be treated as read-only.
 * A handler that throws is reported to the adapter's error hook and does not affect other handlers or later
 * messages. Long work belongs elsewhere: the next message waits for this call to return.
 */
export type BrokerHandler = (payload: Uint8Array, channel: string) => void;

export interface BrokerSubscription {
  readonly channel: string;
  /**
   * Removes this subscriber. No delivery reaches its handler after this call, even for messages already
   * received. Resolves when the network unsubscribe (if this was the last local subscriber) has completed.
   * Idempotent.
   */
  unsubscribe(): Promise<void>;
}

/** Where an adapter reports failures that have no caller to reject: a throwing handler, a connection error. */
export type BrokerErrorHook = (error: unknown) => void;
