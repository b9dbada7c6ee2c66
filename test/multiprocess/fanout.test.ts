/**
 * Cross-process fan-out: messages sent over STOMP to process A reach subscribers connected to processes B and
 * C through Redis, each exactly once and in seq order, and the store holds exactly what the RECEIPTs reported.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Cluster, startCluster } from "./cluster.ts";
import { expectEveryStreamExact, expectGapFreeCommits, expectHistoryMatches } from "./expectations.ts";
import { accounts, byRoom, clusterServicesAvailable, rooms } from "./fixtures.ts";
import { type Committed, Publisher, plan, Subscriber } from "./traffic.ts";

const ROOMS = 20;
const PER_ROOM = 200;
const PUBLISHERS = 4;

describe.skipIf(!(await clusterServicesAvailable()))("fan-out across 3 processes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test(`${ROOMS} rooms × ${PER_ROOM} messages sent to A reach every subscriber on B and C exactly once, in order`, async () => {
    const [a, b, c] = cluster.nodes;
    if (!a || !b || !c) throw new Error("expected 3 processes");
    const senders = await accounts(a.api, PUBLISHERS, "mppub");
    const readers = await accounts(b.api, 4, "mpsub");
    // Each publisher owns a quarter of the rooms; every reader is in every room.
    const perPublisher = ROOMS / PUBLISHERS;
    const owned = await Promise.all(senders.map((s) => rooms(a.api, s, perPublisher, readers)));

    const roomIds = owned.flat().map((r) => r.id);
    const subscribers = readers.map((r, i) => new Subscriber(`reader${i + 1}`, r.accessToken, roomIds));
    // Two readers on B, two on C; all subscribed before the first message is sent.
    await Promise.all(subscribers.map((s, i) => s.attach(i < 2 ? b : c)));

    const publishers = senders.map((s) => new Publisher(s.accessToken, () => a));
    const committed: Committed[] = [];
    await Promise.all(
      owned.flatMap((list, p) =>
        list.map((room, r) => {
          const publisher = publishers[p];
          if (!publisher) throw new Error("publisher missing");
          return publisher.sendAll(plan(room.id, PER_ROOM, `p${p}r${r}`), (m) => committed.push(m));
        }),
      ),
    );

    // A clean run: nothing rejected, nothing retried, no connection lost.
    expect(
      publishers.map((p) => ({
        rejections: p.rejections,
        unanswered: p.unanswered,
        reconnects: p.reconnects,
      })),
    ).toEqual(publishers.map(() => ({ rejections: [], unanswered: 0, reconnects: 0 })));
    expect(committed).toHaveLength(ROOMS * PER_ROOM);
    const expected = new Map<string, Committed[]>();
    for (const [roomId, list] of byRoom(committed))
      expected.set(roomId, expectGapFreeCommits(list, PER_ROOM));
    expect(expected.size).toBe(ROOMS);

    await expectEveryStreamExact(subscribers, expected, 20_000, () => cluster.logs());
    const reader = readers[0];
    if (!reader) throw new Error("reader missing");
    for (const [roomId, list] of expected) await expectHistoryMatches(c.api, reader, roomId, list);

    await Promise.all([...publishers.map((p) => p.close()), ...subscribers.map((s) => s.close())]);
  }, 60_000);
});
