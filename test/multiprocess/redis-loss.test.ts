/**
 * Redis is transport, not the record: when every Parley process loses its Redis connections in the middle of
 * traffic (pub/sub messages are dropped on the floor), the processes reconnect and fill the gaps from the
 * store, so every subscriber still ends with every seq exactly once, without reconnecting itself.
 *
 * Two faults come mid-stream, while STOMP sends are in flight; a later message then reveals each hole by its
 * seq. Then the last messages of every room are sent (over REST, which needs no Redis) during an outage, so
 * nothing comes after them: only the broker's resync once Redis is back can deliver them.
 *
 * The first variant cuts the processes' connections to the shared Redis (CLIENT KILL), which nobody else
 * notices. The second kills and restarts the Redis server itself, so it runs its own cluster against a private
 * `redis-server` started for it; the shared Redis is never restarted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Redis } from "ioredis";
import { send } from "../integration/helpers.ts";
import { postgresAvailable } from "../support/services.ts";
import { type Cluster, startCluster } from "./cluster.ts";
import { expectEveryStreamExact, expectGapFreeCommits, expectHistoryMatches } from "./expectations.ts";
import { accounts, byRoom, clusterServicesAvailable, rooms } from "./fixtures.ts";
import { type PrivateRedis, redisServerInstalled, startPrivateRedis } from "./private-redis.ts";
import { adminConnection, clientsOf, killClientsOf, untilConnected } from "./redis-admin.ts";
import { type Committed, Publisher, plan, Subscriber } from "./traffic.ts";

const ROOMS = 5;
const PER_ROOM = 150;
/** Sent per room during the final outage. */
const TAIL = 10;
/** How long the processes get to reconnect to a restarted server once the streams are complete. */
const RECONNECT_WAIT_MS = 5_000;

interface Outage {
  /** Resolves once Redis is unusable for the processes. */
  begin(): Promise<void>;
  /** Resolves once Redis is usable again. */
  end(): Promise<void>;
}

/**
 * Publishers on process A of `cluster`, subscribers on B and C. `fault` runs after a third and after two thirds
 * of the STOMP messages were acknowledged, while other rooms' sends are in flight; the last TAIL messages of
 * each room are sent over REST to A between `outage.begin()` and `outage.end()`.
 */
async function trafficThrough(cluster: Cluster, fault: () => Promise<void>, outage: Outage): Promise<void> {
  const [a, b, c] = cluster.nodes;
  if (!a || !b || !c) throw new Error("expected 3 processes");
  const senders = await accounts(a.api, 2, "mppub");
  const readers = await accounts(b.api, 4, "mpsub");
  const owned = await Promise.all(senders.map((s, i) => rooms(a.api, s, i === 0 ? 3 : ROOMS - 3, readers)));
  const roomIds = owned.flat().map((r) => r.id);
  const subscribers = readers.map((r, i) => new Subscriber(`reader${i + 1}`, r.accessToken, roomIds));
  await Promise.all(subscribers.map((s, i) => s.attach(i < 2 ? b : c)));

  const publishers = senders.map((s) => new Publisher(s.accessToken, () => a));
  const committed: Committed[] = [];
  const live = ROOMS * (PER_ROOM - TAIL);
  const faults: Promise<void>[] = [];
  const onCommitted = (m: Committed) => {
    committed.push(m);
    if (committed.length === Math.floor(live / 3) || committed.length === Math.floor((2 * live) / 3)) {
      faults.push(fault());
    }
  };
  const tails: { sender: (typeof senders)[number]; messages: ReturnType<typeof plan> }[] = [];
  await Promise.all(
    owned.flatMap((list, p) =>
      list.map((room, r) => {
        const all = plan(room.id, PER_ROOM, `p${p}r${r}`);
        const sender = senders[p];
        if (!sender) throw new Error("sender missing");
        tails.push({ sender, messages: all.slice(PER_ROOM - TAIL) });
        return publishers[p]?.sendAll(all.slice(0, PER_ROOM - TAIL), onCommitted);
      }),
    ),
  );
  await Promise.all(faults);
  expect(faults).toHaveLength(2);

  await outage.begin();
  await Promise.all(
    tails.map(async ({ sender, messages }) => {
      for (const m of messages) {
        const stored = await send(a.api, sender, m.roomId, m.text, m.clientMsgId);
        committed.push({ ...m, messageId: stored.id, seq: stored.seq });
      }
    }),
  );
  await outage.end();

  const expected = new Map<string, Committed[]>();
  for (const [roomId, list] of byRoom(committed)) expected.set(roomId, expectGapFreeCommits(list, PER_ROOM));
  expect(expected.size).toBe(ROOMS);
  await expectEveryStreamExact(subscribers, expected, 20_000, () => cluster.logs());
  // The subscribers never had to reconnect: the servers repaired the streams on their own.
  for (const s of subscribers) {
    expect({ subscriber: s.label, connections: s.resumes.length, open: s.peer?.isOpen() }).toEqual({
      subscriber: s.label,
      connections: 1,
      open: true,
    });
  }
  const reader = readers[0];
  if (!reader) throw new Error("reader missing");
  for (const [roomId, list] of expected) await expectHistoryMatches(b.api, reader, roomId, list);
  await Promise.all([...publishers.map((p) => p.close()), ...subscribers.map((s) => s.close())]);
}

describe.skipIf(!(await clusterServicesAvailable()))("Redis connection loss across 3 processes", () => {
  let cluster: Cluster;
  let admin: Redis;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    admin = await adminConnection();
  }, 30_000);

  afterAll(async () => {
    admin?.disconnect();
    await cluster?.stop();
  }, 30_000);

  test("killing every Redis connection of every process mid-traffic loses nothing", async () => {
    const pids = cluster.nodes.map((n) => n.pid);
    const killed: Map<number, number>[] = [];
    const kill = async () => {
      killed.push(await killClientsOf(admin, pids));
    };
    // A mid-stream fault cuts what a serving process holds: the second may come soon after the first, so it waits
    // (up to RECONNECT_WAIT_MS) until every process has at least its broker's two connections back.
    const killWhenReconnected = async () => {
      await untilConnected(admin, pids, RECONNECT_WAIT_MS);
      await kill();
    };
    // The outage: every connection is cut again as soon as the processes have restored it.
    let storming = false;
    let storm: Promise<void> = Promise.resolve();
    let stormKills = 0;
    await trafficThrough(cluster, killWhenReconnected, {
      async begin() {
        storming = true;
        await kill();
        stormKills++;
        storm = (async () => {
          while (storming) {
            await Bun.sleep(10);
            await kill();
            stormKills++;
          }
        })();
      },
      async end() {
        storming = false;
        await storm;
      },
    });
    expect(stormKills).toBeGreaterThan(1);
    // The two mid-stream kills hit every process, at least its broker's publisher and subscriber connections.
    for (const round of killed.slice(0, 2)) {
      for (const pid of pids) {
        expect({ pid, atLeastTwo: (round.get(pid) ?? 0) >= 2 }).toEqual({ pid, atLeastTwo: true });
      }
    }
    // And every process is connected again afterwards.
    const after = await clientsOf(admin, pids);
    for (const pid of pids) {
      expect({ pid, reconnected: (after.get(pid)?.length ?? 0) >= 2 }).toEqual({ pid, reconnected: true });
    }
  }, 60_000);
});

describe.skipIf(!((await postgresAvailable()) && redisServerInstalled()))(
  "Redis server restart across 3 processes (private redis-server)",
  () => {
    let redis: PrivateRedis;
    let cluster: Cluster;
    let admin: Redis | undefined;

    beforeAll(async () => {
      redis = await startPrivateRedis();
      cluster = await startCluster({ nodes: 3, redisUrl: redis.url });
    }, 30_000);

    afterAll(async () => {
      admin?.disconnect();
      try {
        await cluster?.stop();
      } finally {
        await redis?.stop();
      }
    }, 30_000);

    test("killing and restarting the Redis server mid-traffic loses nothing", async () => {
      expect(cluster.redisUrl).toBe(redis.url);
      await trafficThrough(cluster, redis.restart, { begin: redis.kill, end: redis.start });
      // Two restarts mid-stream and one outage: four server processes in all, on the same port.
      expect(redis.starts()).toBe(4);
      // Every process connects to the last of them, at least its broker's publisher and subscriber. A process
      // that had nothing to send may still be in its reconnect back-off when the streams are complete.
      admin = await adminConnection(redis.url);
      const pids = cluster.nodes.map((n) => n.pid);
      const after = await untilConnected(admin, pids, RECONNECT_WAIT_MS);
      for (const pid of pids) {
        expect({ pid, reconnected: (after.get(pid)?.length ?? 0) >= 2 }).toEqual({ pid, reconnected: true });
      }
    }, 30_000);
  },
);
