import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { redisClusterBroker } from "../../src/adapters/broker/redis-cluster-broker.ts";
import { clusterSlot } from "../../src/adapters/broker/redis-cluster-slot.ts";
import type { Broker, BrokerErrorHook } from "../../src/ports/broker.ts";
import { redisClusterToolsAvailable, startRedisCluster } from "../support/redis-cluster.ts";
import { brokerContract, eventually } from "./broker.contract.ts";

const available = redisClusterToolsAvailable();
const cluster = available ? await startRedisCluster() : null;

describe.skipIf(cluster === null)("redisClusterBroker", () => {
  if (cluster === null) return;
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const prefix = `parley-test:${run}:`;
  const admins = cluster.nodes.map((node) => new Redis(node.port, node.host));
  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.quit()));
    await cluster.stop();
  });
  const adminAt = (port: number) => {
    const index = cluster.nodes.findIndex((node) => node.port === port);
    const admin = admins[index];
    if (admin === undefined) throw new Error(`no cluster node on port ${port}`);
    return admin;
  };
  const ports = cluster.nodes.map((node) => node.port);

  const names = new Map<Broker, string>();
  let opened = 0;
  const open = async (onError?: BrokerErrorHook, topologyCheckIntervalMs?: number) => {
    const connectionName = `parley-test-${run}-${++opened}`;
    const broker = await redisClusterBroker({
      nodes: cluster.nodes,
      prefix,
      connectionName,
      onError: onError ?? (() => {}),
      ...(topologyCheckIntervalMs === undefined ? {} : { topologyCheckIntervalMs }),
    });
    names.set(broker, connectionName);
    return broker;
  };

  /** Kills the connections named `name` on the given masters; returns how many were killed. */
  async function kill(name: string, onPorts: readonly number[] = ports): Promise<number> {
    let killed = 0;
    for (const port of onPorts) {
      const admin = adminAt(port);
      const list = String(await admin.call("CLIENT", "LIST"));
      for (const line of list.split("\n")) {
        const id = line.includes(` name=${name} `) ? line.match(/^id=(\d+) /)?.[1] : undefined;
        if (id === undefined) continue;
        await admin.call("CLIENT", "KILL", "ID", id);
        killed++;
      }
    }
    return killed;
  }

  /** The port of the master serving `key`, asked of the server (not computed by the code under test). */
  async function ownerPort(key: string): Promise<number> {
    const admin = admins[0];
    if (admin === undefined) throw new Error("no admin connection");
    const slot = Number(await admin.call("CLUSTER", "KEYSLOT", key));
    const ranges = (await admin.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>;
    const range = ranges.find(([start, end]) => start <= slot && slot <= end);
    if (range === undefined) throw new Error(`slot ${slot} is not served`);
    return range[2][1];
  }

  /** One fresh channel per master, so a test touches every shard. */
  async function channelPerMaster(label: string): Promise<Map<number, string>> {
    const byPort = new Map<number, string>();
    for (let i = 0; byPort.size < ports.length; i++) {
      if (i > 200) throw new Error("could not find a channel for every master");
      const channel = `${label}-${Date.now().toString(36)}-${i}`;
      const port = await ownerPort(`${prefix}ch:${channel}`);
      if (!byPort.has(port)) byPort.set(port, channel);
    }
    return byPort;
  }

  /** A fresh channel and the port of the master serving it. */
  async function someChannel(label: string): Promise<[number, string]> {
    const channel = `${label}-${Date.now().toString(36)}`;
    return [await ownerPort(`${prefix}ch:${channel}`), channel];
  }

  const shardNumsub = async (port: number, channel: string): Promise<number> => {
    const reply = (await adminAt(port).call("PUBSUB", "SHARDNUMSUB", `${prefix}ch:${channel}`)) as [
      string,
      number,
    ];
    return Number(reply[1]);
  };

  brokerContract("redis-cluster", {
    open,
    interrupt: async (broker) => {
      const killed = await kill(`${names.get(broker)}:sub`);
      if (killed === 0) throw new Error("no subscriber connection to interrupt");
    },
  });

  describe("redis cluster specifics", () => {
    const opened: Broker[] = [];
    const track = async (topologyCheckIntervalMs?: number) => {
      const broker = await open(undefined, topologyCheckIntervalMs);
      opened.push(broker);
      return broker;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

    test("the slot of a channel name is the one the server computes, hash tags and UTF-8 included", async () => {
      const admin = admins[0];
      if (admin === undefined) throw new Error("no admin connection");
      const names = [
        "",
        "a",
        "room:42",
        "{user1000}.following",
        "foo{}{bar}",
        "foo{{bar}}zap",
        "{}x",
        "héllo ✓ 😀",
      ];
      for (let i = 0; i < 50; i++) names.push(`${prefix}ch:room.${i}`);
      const server = await Promise.all(
        names.map(async (n) => Number(await admin.call("CLUSTER", "KEYSLOT", n))),
      );
      expect(names.map(clusterSlot)).toEqual(server);
    });

    test("channels on different masters are each subscribed on their own master and all delivered", async () => {
      const [a, b] = [await track(), await track()];
      const byPort = await channelPerMaster("spread");
      expect(byPort.size).toBe(3);
      const got: string[] = [];
      for (const channel of byPort.values())
        await b.subscribe(channel, (p, ch) => void got.push(`${ch}=${decode(p)}`));
      for (const [port, channel] of byPort) {
        for (const other of ports) expect(await shardNumsub(other, channel)).toBe(other === port ? 1 : 0);
      }
      for (const channel of byPort.values()) await a.publish(channel, "hi");
      await eventually("one delivery per master", () => got.length === 3);
      expect(got.sort()).toEqual([...byPort.values()].map((c) => `${c}=hi`).sort());
    });

    test("many local subscribers share one server subscription, on the owning master", async () => {
      const [a, b] = [await track(), await track()];
      const [port, channel] = await someChannel("numsub");
      const subs = await Promise.all([1, 2, 3].map(() => a.subscribe(channel, () => {})));
      expect(await shardNumsub(port, channel)).toBe(1);
      const other = await b.subscribe(channel, () => {});
      expect(await shardNumsub(port, channel)).toBe(2);
      for (const sub of subs) await sub.unsubscribe();
      expect(await shardNumsub(port, channel)).toBe(1);
      await other.unsubscribe();
      expect(await shardNumsub(port, channel)).toBe(0);
    });

    test("killing the subscriber connection on one master: onResync fires and every master delivers again", async () => {
      const [a, b] = [await track(), await track()];
      const byPort = await channelPerMaster("one-down");
      const got: string[] = [];
      for (const channel of byPort.values())
        await b.subscribe(channel, (p, ch) => void got.push(`${ch}=${decode(p)}`));
      let resyncs = 0;
      b.onResync(() => resyncs++);
      const [victimPort] = ports;
      if (victimPort === undefined) throw new Error("no port");
      expect(await kill(`${names.get(b)}:sub`, [victimPort])).toBe(1);
      await eventually("onResync", () => resyncs >= 1, 5000);
      // Restored on the victim, untouched elsewhere: every channel is subscribed exactly once, on its owner.
      for (const [port, channel] of byPort) expect(await shardNumsub(port, channel)).toBe(1);
      for (const channel of byPort.values()) await a.publish(channel, "after");
      await eventually("delivery on every master", () => got.length === 3);
      expect(got.sort()).toEqual([...byPort.values()].map((c) => `${c}=after`).sort());
    });

    test("a failed publish is reported to the caller, and every process is then told to resync", async () => {
      const [a, b] = [await track(), await track()];
      const [port, channel] = await someChannel("pubfail");
      const got: string[] = [];
      await b.subscribe(channel, (p) => void got.push(decode(p)));
      let resyncsA = 0;
      let resyncsB = 0;
      a.onResync(() => resyncsA++);
      b.onResync(() => resyncsB++);

      expect(await kill(`${names.get(a)}:pub`, [port])).toBe(1);
      await expect(a.publish(channel, "lost")).rejects.toThrow();
      await eventually("the resync notice on b", () => resyncsB >= 1, 5000);
      await eventually("the resync notice on a itself", () => resyncsA >= 1, 5000);
      await eventually(
        "a working publisher again",
        () => {
          void a.publish(channel, "after").catch(() => {});
          return got.includes("after");
        },
        5000,
      );
      expect(got).not.toContain("lost");
    });

    test("opening rejects when no node is reachable, and skips unreachable nodes otherwise", async () => {
      await expect(
        redisClusterBroker({ nodes: [{ host: "127.0.0.1", port: 1 }], prefix, onError: () => {} }),
      ).rejects.toThrow();
      const b = await redisClusterBroker({
        nodes: [{ host: "127.0.0.1", port: 1 }, ...cluster.nodes.slice(1)],
        prefix,
        onError: () => {},
      });
      opened.push(b);
      const a = await track();
      const byPort = await channelPerMaster("partial-seed");
      const got: string[] = [];
      for (const channel of byPort.values()) await b.subscribe(channel, (p) => void got.push(decode(p)));
      for (const channel of byPort.values()) await a.publish(channel, "x");
      await eventually("delivery on every master", () => got.length === 3);
    });

    test("when a channel's slot moves to another master, the subscription follows it after a resync", async () => {
      // No periodic slot map check within the test: the server's own notice and MOVED answers must suffice.
      const [a, b] = [await track(60_000), await track(60_000)];
      const [from, channel] = await someChannel("moving");
      const to = ports.find((port) => port !== from);
      const third = ports.find((port) => port !== from && port !== to);
      if (to === undefined || third === undefined) throw new Error("need three masters");
      const got: string[] = [];
      await b.subscribe(channel, (p) => void got.push(decode(p)));
      let resyncs = 0;
      b.onResync(() => resyncs++);
      await a.publish(channel, "before");
      await eventually("delivery before the move", () => got.includes("before"));

      const slot = String(clusterSlot(`${prefix}ch:${channel}`));
      const fromId = String(await adminAt(from).call("CLUSTER", "MYID"));
      const toId = String(await adminAt(to).call("CLUSTER", "MYID"));
      await adminAt(to).call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
      await adminAt(from).call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
      for (const port of [to, from, third])
        await adminAt(port).call("CLUSTER", "SETSLOT", slot, "NODE", toId);

      await eventually("onResync after the move", () => resyncs >= 1, 5000);
      expect(await shardNumsub(to, channel)).toBe(1);
      await eventually(
        "delivery through the new owner",
        () => {
          void a.publish(channel, "after").catch(() => {});
          return got.includes("after");
        },
        5000,
      );
    });
  });
});
