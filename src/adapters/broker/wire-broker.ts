import type { Broker, BrokerHandler, BrokerSubscription } from "../../ports/broker.ts";
import type { BrokerWires } from "./broker-wires.ts";
import type { LocalSubscribers } from "./local-subscribers.ts";

/** What a Redis adapter supplies for `wireBroker` to expose the Broker port over its wires. */
export interface WireTransport {
  /** True from the first close() on (and after a failed start): from then on the port refuses every call. */
  isClosed(): boolean;
  /**
   * Makes the server's subscription of `wire` match `BrokerWires.wanted`, after any earlier command for it.
   * Idempotent; resolves only once the server has confirmed, rejects if it could not.
   */
  sync(wire: string): Promise<void>;
  /**
   * Publishes on the server, issuing the command synchronously (before any await) so that publish order is
   * call order. On failure, owes a resync notice before rejecting.
   */
  send(wire: string, data: string | Buffer): Promise<void>;
  /**
   * Called by the first close() only: marks the adapter closed, drops the local subscribers and releases the
   * connections.
   */
  shutdown(): Promise<void>;
}

export const brokerClosedError = (): Error => new Error("broker is closed");

/**
 * The Broker port as both Redis adapters expose it, on top of their wires: the port's channels and payloads
 * are mapped to wires and sent, subscriptions are reference-counted by `local` with one server subscription
 * per channel, and publish and subscribe are refused once the broker is closed.
 */
export function wireBroker(local: LocalSubscribers, wires: BrokerWires, transport: WireTransport): Broker {
  return {
    async publish(channel: string, payload: string | Uint8Array): Promise<void> {
      if (transport.isClosed()) throw brokerClosedError();
      await transport.send(wires.of(channel), toWireData(payload));
    },

    subscribe(channel: string, handler: BrokerHandler): Promise<BrokerSubscription> {
      return subscribeThrough(
        local,
        channel,
        handler,
        () => transport.sync(wires.of(channel)),
        () => transport.isClosed(),
      );
    },

    onResync(listener: () => void): () => void {
      return local.onResync(listener);
    },

    async close(): Promise<void> {
      if (transport.isClosed()) return;
      await transport.shutdown();
    },
  };
}

/** A string goes as is (ioredis sends its UTF-8 bytes); bytes go without a copy, hence the port's "do not mutate". */
function toWireData(payload: string | Uint8Array): string | Buffer {
  return typeof payload === "string"
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/**
 * Registers the handler locally, then makes the server subscription match the local set (`sync`, idempotent),
 * undoing the registration if that fails. Resolves only once the server confirmed, so a caller may read the
 * store after it without missing a later publish. Unsubscribing drops the server subscription with the
 * channel's last local handler.
 */
async function subscribeThrough(
  local: LocalSubscribers,
  channel: string,
  handler: BrokerHandler,
  sync: () => Promise<void>,
  isClosed: () => boolean,
): Promise<BrokerSubscription> {
  if (isClosed()) throw brokerClosedError();
  const { entry } = local.add(channel, handler);
  try {
    await sync();
  } catch (error) {
    if (local.remove(entry).last) void sync().catch(() => {});
    throw error;
  }
  if (isClosed()) throw brokerClosedError();
  return {
    channel,
    async unsubscribe(): Promise<void> {
      if (!local.remove(entry).last) return;
      await sync();
    },
  };
}
