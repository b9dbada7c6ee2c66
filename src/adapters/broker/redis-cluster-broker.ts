import { Redis } from "ioredis";
import type { Broker, BrokerErrorHook } from "../../ports/broker.ts";
import { BrokerWires } from "./broker-wires.ts";
import { LocalSubscribers } from "./local-subscribers.ts";
import { ClusterNodeConnections, type ClusterNodeHooks } from "./redis-cluster-node.ts";
import { clusterSlot } from "./redis-cluster-slot.ts";
import { type ClusterNodeAddress, SlotMap } from "./redis-cluster-topology.ts";
import { ResyncNoticeDebt } from "./resync-notice-debt.ts";
import { SubscriptionLinks } from "./subscription-links.ts";
import { brokerClosedError, wireBroker } from "./wire-broker.ts";

export interface RedisClusterBrokerOptions {
  /** Where to learn the cluster's layout: any reachable subset of its nodes (masters or replicas). */
  readonly nodes: readonly ClusterNodeAddress[];
  /** Namespaces every channel on the server, so deployments (and test runs) sharing one cluster stay apart. */
  readonly prefix: string;
  /** Shown by CLIENT LIST on each master as `<name>:pub` and `<name>:sub`. */
  readonly connectionName?: string;
  /** Period of the silent-death watchdog, per master connection, as in the single-endpoint broker. Default 3000 ms. */
  readonly healthCheckIntervalMs?: number;
  /** How often the slot map is re-read to notice resharding and failovers. Default 10000 ms. */
  readonly topologyCheckIntervalMs?: number;
  /** Connection errors (reported on every failed reconnect attempt) and throwing handlers. */
  readonly onError?: BrokerErrorHook;
}

interface Link {
  /** The master whose subscriber connection has this channel subscribed, as far as we know. */
  node: ClusterNodeConnections | null;
}

/**
 * Broker over Redis Cluster sharded pub/sub (SPUBLISH/SSUBSCRIBE): each channel lives in the hash slot of its
 * name, and is published to and subscribed on the master serving that slot, so channels spread over all
 * masters. The process keeps one publisher and one subscriber connection per master, and routes by a slot map
 * read with CLUSTER SLOTS.
 *
 * Failure handling is that of the single-endpoint Redis broker, per master:
 * - Publishers fail fast. After any rejected publish this process owes a resync notice, which it publishes on
 *   a control channel (in one slot, hence on one master) once that master's publisher works; every process
 *   turns the notice into `onResync`.
 * - A subscriber connection that drops reconnects on its own. Once the server has confirmed every channel that
 *   still has local subscribers, on every master (not only the one that failed), the resync listeners run.
 * - Silent connections are detected by the watchdog (see `healthCheckIntervalMs`).
 * Topology changes: a MOVED answer or the periodic check re-reads the slot map; subscriber connections of
 * masters that gave up slots are reset, which moves their channels to the new owners and announces a resync.
 *
 * Resolves once the slot map is read and both connections to every master are ready; rejects (and releases
 * them) otherwise.
 */
export async function redisClusterBroker(opts: RedisClusterBrokerOptions): Promise<Broker> {
  const onError = opts.onError ?? reportToConsole;
  const name = opts.connectionName ?? "parley-broker";
  const healthCheckMs = opts.healthCheckIntervalMs ?? 3_000;
  const topologyCheckMs = opts.topologyCheckIntervalMs ?? 10_000;
  const local = new LocalSubscribers(onError);
  let closed = false;
  const wires = new BrokerWires(opts.prefix, local, () => closed);
  const nodes = new Map<string, ClusterNodeConnections>();
  // SSUBSCRIBE/SUNSUBSCRIBE of one channel never overlap.
  const links = new SubscriptionLinks<Link>(
    () => ({ node: null }),
    (wire, link) => link.node === null && !wires.wanted(wire),
  );
  let slots = await readSlotMap(opts.nodes);
  let started = false;

  // Subscriber losses are counted; a restore that confirms every wanted channel settles all losses counted
  // before it started, and only then are the resync listeners called.
  let lossGeneration = 0;
  let restoredGeneration = 0;

  const hooks: ClusterNodeHooks = {
    message: (wire, payload) => wires.receive(wire, payload),
    subscriberLost(node) {
      if (closed) return;
      for (const link of links.states()) if (link.node === node) link.node = null;
      lossGeneration++;
      // A retired master's subscriber does not come back: move its channels now.
      if (node.retired) scheduleRestore();
    },
    subscriberReady() {
      if (lossGeneration !== restoredGeneration) scheduleRestore();
    },
    moved(node) {
      if (closed) return;
      node.abortSubscriberCommands(new Error(`${node.key} no longer serves a slot asked of it; re-routing`));
      void refreshTopology().catch(onError);
      // A fresh connection is one whose subscriptions are known exactly; its return restores and resyncs.
      if (node.sub.status === "ready") node.sub.disconnect(true);
    },
    publisherReady: () => notices.pay(),
    error: onError,
  };

  function nodeByKey(key: string): ClusterNodeConnections {
    const existing = nodes.get(key);
    if (existing !== undefined) return existing;
    const address = slots.address(key);
    if (address === undefined) throw new Error(`unknown cluster node ${key}`);
    const node = new ClusterNodeConnections(key, address, name, hooks);
    nodes.set(key, node);
    // Masters found after start connect in the background; failures are reported and retried by ioredis.
    if (started) node.connect().catch(noop);
    return node;
  }

  function ownerOf(wire: string): ClusterNodeConnections {
    const slot = clusterSlot(wire);
    const key = slots.ownerOf(slot);
    if (key === undefined) throw new Error(`no cluster master serves slot ${slot}`);
    return nodeByKey(key);
  }

  /**
   * Brings the server's subscription for `wire` in line with whether anyone wants it and which master serves
   * it now, after every earlier command for that channel has finished.
   */
  function sync(wire: string): Promise<void> {
    return links.run(wire, async (link) => {
      const owner = wires.wanted(wire) ? ownerOf(wire) : null;
      const at = link.node;
      if (at !== null && at !== owner) {
        if (at.sub.status === "ready") {
          try {
            await at.guard(at.sub.sunsubscribe(wire));
          } catch (error) {
            // When moving to a new owner, the old one has dropped the channel or refuses to serve it anyway.
            if (owner === null) throw error;
          }
        }
        link.node = null;
      }
      if (owner !== null && link.node !== owner) {
        await owner.guard(owner.sub.ssubscribe(wire));
        link.node = owner;
      }
    });
  }

  let restoring = false;
  let restoreRequested = false;
  let restoreRetry: ReturnType<typeof setTimeout> | undefined;
  function scheduleRestore(): void {
    restoreRequested = true;
    if (!restoring && !closed) void runRestores();
  }
  async function runRestores(): Promise<void> {
    restoring = true;
    try {
      while (restoreRequested && !closed) {
        restoreRequested = false;
        const generation = lossGeneration;
        if (generation === restoredGeneration) continue;
        if (refreshing !== null) await refreshing.catch(noop);
        try {
          await Promise.all(wires.allWanted().map(sync));
        } catch (error) {
          if (closed) return;
          // Still disconnected, or re-routing: a returning connection asks again, else try after a pause.
          onError(error);
          if (!restoreRequested) {
            clearTimeout(restoreRetry);
            restoreRetry = setTimeout(scheduleRestore, healthCheckMs);
          }
          continue;
        }
        if (closed) return;
        if (lossGeneration !== generation) {
          restoreRequested = true;
          continue;
        }
        restoredGeneration = generation;
        local.fireResync();
      }
    } finally {
      restoring = false;
    }
  }

  let refreshing: Promise<void> | null = null;
  function refreshTopology(): Promise<void> {
    refreshing ??= applySlotMap().finally(() => {
      refreshing = null;
      notices.pay();
    });
    return refreshing;
  }
  async function applySlotMap(): Promise<void> {
    const next = await readSlotMapFromAny();
    if (closed || next.equals(slots)) return;
    const losers = slots.losers(next);
    const masters = new Set(next.masters());
    slots = next;
    for (const key of losers) {
      const node = nodes.get(key);
      if (node === undefined) continue;
      if (!masters.has(key)) {
        nodes.delete(key);
        node.retired = true;
        node.abortSubscriberCommands(new Error(`${key} is no longer a master of the cluster`));
        void node.quit();
        continue;
      }
      // The server drops the shard channels of a slot it gives up, without a notice ioredis passes on.
      const hasLinks = [...links.states()].some((link) => link.node === node);
      if (hasLinks && node.sub.status === "ready") node.sub.disconnect(true);
    }
    // Losses that no returning connection will settle (a master that failed over and was retired).
    if (lossGeneration !== restoredGeneration) scheduleRestore();
  }
  async function readSlotMapFromAny(): Promise<SlotMap> {
    for (const node of nodes.values()) {
      if (node.pub.status !== "ready") continue;
      try {
        return SlotMap.fromClusterSlots(await node.pub.call("CLUSTER", "SLOTS"), node.address.host);
      } catch {
        // Try the next master, then the configured nodes.
      }
    }
    return readSlotMap(opts.nodes);
  }

  // Publisher failures: owe a notice, pay it once the control channel's master takes publishes again.
  const notices = new ResyncNoticeDebt(
    (notice) => {
      if (closed) return undefined;
      let owner: ClusterNodeConnections;
      try {
        owner = ownerOf(wires.control);
      } catch {
        return undefined; // The next topology refresh tries again.
      }
      return owner.pub.status === "ready" ? owner.publish(wires.control, notice) : undefined;
    },
    (error) => {
      // The next "ready" of a publisher, or the next topology refresh, tries again.
      if (isTopologyError(error)) void refreshTopology().catch(onError);
    },
  );

  for (const key of slots.masters()) nodeByKey(key);
  try {
    await Promise.all([...nodes.values()].map((node) => node.connect()));
    await sync(wires.control);
  } catch (error) {
    closed = true;
    for (const node of nodes.values()) node.disconnect();
    throw error;
  }
  started = true;

  const watchdog = setInterval(() => {
    if (!closed) for (const node of nodes.values()) node.checkHealth(healthCheckMs, onError);
  }, healthCheckMs);
  watchdog.unref();
  const topologyCheck = setInterval(() => {
    if (!closed) refreshTopology().catch(onError);
  }, topologyCheckMs);
  topologyCheck.unref();

  return wireBroker(local, wires, {
    isClosed: () => closed,
    sync,
    async send(wire, data) {
      let owner: ClusterNodeConnections;
      try {
        owner = ownerOf(wire);
      } catch (error) {
        notices.owe();
        void refreshTopology().catch(onError);
        throw error;
      }
      try {
        // Sent synchronously, before any await: per master, publish order is call order.
        await owner.publish(wire, data);
      } catch (error) {
        if (!closed) {
          notices.owe();
          if (isTopologyError(error)) void refreshTopology().catch(onError);
        }
        throw error;
      }
    },
    async shutdown() {
      closed = true;
      clearInterval(watchdog);
      clearInterval(topologyCheck);
      clearTimeout(restoreRetry);
      local.clear();
      for (const node of nodes.values()) node.abortSubscriberCommands(brokerClosedError());
      await Promise.all([...nodes.values()].map((node) => node.quit()));
    },
  });
}

/** Reads the slot map from the first of `addresses` that answers, over a short-lived connection. */
async function readSlotMap(addresses: readonly ClusterNodeAddress[]): Promise<SlotMap> {
  let lastError: unknown = new Error("no cluster node given");
  for (const address of addresses) {
    const redis = new Redis({
      host: address.host,
      port: address.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on("error", noop); // Surfaces as the rejection below.
    try {
      await redis.connect();
      return SlotMap.fromClusterSlots(await redis.call("CLUSTER", "SLOTS"), address.host);
    } catch (error) {
      lastError = error;
    } finally {
      redis.disconnect();
    }
  }
  throw lastError;
}

/** A reply saying the slot map this process routes by is out of date. */
function isTopologyError(error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK|CLUSTERDOWN) /.test(error.message);
}

function noop(): void {}

function reportToConsole(error: unknown): void {
  console.error("broker error", error);
}
