import { Redis, type RedisOptions } from "ioredis";
import type { Broker, BrokerErrorHook } from "../../ports/broker.ts";
import { quitRedis } from "../redis/quit-redis.ts";
import { BrokerWires } from "./broker-wires.ts";
import { LocalSubscribers } from "./local-subscribers.ts";
import { ResyncNoticeDebt } from "./resync-notice-debt.ts";
import { SubscriptionLinks } from "./subscription-links.ts";
import { wireBroker } from "./wire-broker.ts";

export interface RedisBrokerOptions {
  readonly url: string;
  /** Namespaces every channel on the server, so deployments (and test runs) sharing one Redis stay apart. */
  readonly prefix: string;
  /**
   * SPUBLISH/SSUBSCRIBE (Redis 7 sharded pub/sub) instead of PUBLISH/SUBSCRIBE. Both connections still go to
   * the one endpoint in `url`; spreading channels over the shards of a Redis Cluster needs a cluster-aware
   * client and is not done here.
   */
  readonly sharded?: boolean;
  /** Shown by CLIENT LIST as `<name>:pub` and `<name>:sub`, so an operator can tell the connections apart. */
  readonly connectionName?: string;
  /**
   * How often the connections are checked for silent death (a peer that vanished without closing TCP): the
   * subscriber is PINGed and reconnected if the previous PING is still unanswered; the publisher is
   * reconnected if publishes are waiting and none has been answered for a whole interval. Default 3000 ms.
   */
  readonly healthCheckIntervalMs?: number;
  /** Connection errors (reported on every failed reconnect attempt) and throwing handlers. */
  readonly onError?: BrokerErrorHook;
}

interface Link {
  /** Whether the server has this channel subscribed on the current connection, as far as we know. */
  subscribed: boolean;
}

/**
 * Broker over Redis pub/sub with one publisher and one subscriber connection per process.
 *
 * Failure handling, which is what the port's resync promise rests on:
 * - The publisher fails fast: no offline queue, no retry, no resend. A publish either is accepted by the
 *   server or rejects; after any rejection this process owes a resync notice, which it publishes on a control
 *   channel as soon as its publisher connection works again, and every process (this one included) turns the
 *   notice into `onResync`.
 * - The subscriber reconnects on its own. After a reconnect it restores every channel that still has local
 *   subscribers, and only once the server has confirmed them all does it call the resync listeners, so a
 *   listener that then reads the store cannot miss a message published in between.
 * - A connection that stops answering without closing is treated as lost (see `healthCheckIntervalMs`):
 *   silence never passes for "no messages".
 *
 * Resolves once both connections are ready; rejects (and releases them) if either cannot connect.
 */
export async function redisBroker(opts: RedisBrokerOptions): Promise<Broker> {
  const onError = opts.onError ?? reportToConsole;
  const name = opts.connectionName ?? "parley-broker";
  const base: RedisOptions = { lazyConnect: true };
  const pub = new Redis(opts.url, {
    ...base,
    connectionName: `${name}:pub`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  });
  const sub = new Redis(opts.url, { ...base, connectionName: `${name}:sub`, autoResubscribe: false });
  pub.on("error", onError);
  sub.on("error", onError);

  const sharded = opts.sharded === true;
  const local = new LocalSubscribers(onError);
  let closed = false;
  const wires = new BrokerWires(opts.prefix, local, () => closed);
  // SUBSCRIBE/UNSUBSCRIBE of one channel never overlap.
  const links = new SubscriptionLinks<Link>(
    () => ({ subscribed: false }),
    (wire, link) => !link.subscribed && !wires.wanted(wire),
  );

  const subscribeCommand = (wire: string) => (sharded ? sub.ssubscribe(wire) : sub.subscribe(wire));
  const unsubscribeCommand = (wire: string) => (sharded ? sub.sunsubscribe(wire) : sub.unsubscribe(wire));

  /**
   * Brings the server's subscription for `wire` in line with whether anyone wants it, after every earlier
   * command for that channel has finished. Called after each change of "wanted", so the last command sent
   * always reflects the latest state.
   */
  function sync(wire: string): Promise<void> {
    return links.run(wire, async (link) => {
      const want = wires.wanted(wire);
      if (want && !link.subscribed) {
        await subscribeCommand(wire);
        link.subscribed = true;
      } else if (!want && link.subscribed && sub.status === "ready") {
        await unsubscribeCommand(wire);
        link.subscribed = false;
      }
    });
  }

  sub.on(sharded ? "smessageBuffer" : "messageBuffer", (wire: Buffer, payload: Buffer) =>
    wires.receive(wire, payload),
  );

  // Subscriber connection loss: the server forgot our subscriptions; restore them, then announce the resync.
  let subWasReady = false;
  let subLost = false;
  sub.on("close", () => {
    if (!subWasReady) return;
    subLost = true;
    for (const link of links.states()) link.subscribed = false;
  });
  sub.on("ready", () => {
    subWasReady = true;
    if (!subLost || closed) return;
    subLost = false;
    void restore();
  });
  async function restore(): Promise<void> {
    try {
      await Promise.all(wires.allWanted().map(sync));
    } catch (error) {
      // Still disconnected, or the server refused: a fresh connection gets a fresh attempt.
      onError(error);
      if (!closed && !subLost && sub.status === "ready") sub.disconnect(true);
      return;
    }
    if (!closed) local.fireResync();
  }

  // Publisher failures: owe a notice, pay it once the publisher works again (a refused one: the next "ready").
  const notices = new ResyncNoticeDebt((notice) => {
    if (closed || pub.status !== "ready") return undefined;
    return sharded ? pub.spublish(wires.control, notice) : pub.publish(wires.control, notice);
  });
  pub.on("ready", () => notices.pay());

  // Watchdog for connections that die silently; both faults end in the reconnect paths above.
  let publishesWaiting = 0;
  let lastPublishAnswerAt = Date.now();
  let pingWaiting: object | null = null;
  const healthCheckMs = opts.healthCheckIntervalMs ?? 3_000;
  const watchdog = setInterval(() => {
    if (closed) return;
    if (sub.status === "ready") {
      if (pingWaiting !== null) {
        pingWaiting = null;
        onError(new Error("broker subscriber connection stopped answering; reconnecting"));
        sub.disconnect(true);
      } else {
        const token = {};
        pingWaiting = token;
        const answered = () => {
          if (pingWaiting === token) pingWaiting = null;
        };
        sub.ping().then(answered, answered);
      }
    }
    if (pub.status === "ready" && publishesWaiting > 0 && Date.now() - lastPublishAnswerAt >= healthCheckMs) {
      onError(new Error("broker publisher connection stopped answering; reconnecting"));
      pub.disconnect(true);
    }
  }, healthCheckMs);
  watchdog.unref();

  try {
    await Promise.all([pub.connect(), sub.connect()]);
    await sync(wires.control);
  } catch (error) {
    clearInterval(watchdog);
    pub.disconnect();
    sub.disconnect();
    throw error;
  }

  return wireBroker(local, wires, {
    isClosed: () => closed,
    sync,
    async send(wire, data) {
      // Issued synchronously, before any await: publish order on this connection is call order.
      const sent = sharded ? pub.spublish(wire, data) : pub.publish(wire, data);
      if (publishesWaiting++ === 0) lastPublishAnswerAt = Date.now();
      try {
        await sent;
      } catch (error) {
        if (!closed) notices.owe();
        throw error;
      } finally {
        publishesWaiting--;
        lastPublishAnswerAt = Date.now();
      }
    },
    async shutdown() {
      closed = true;
      clearInterval(watchdog);
      local.clear();
      await Promise.all([pub, sub].map(quitRedis));
    },
  });
}

function reportToConsole(error: unknown): void {
  console.error("broker error", error);
}
