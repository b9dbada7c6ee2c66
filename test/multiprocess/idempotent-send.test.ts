/**
 * Idempotent send across processes: the same (sender, client-msg-id) sent at the same moment to two different
 * processes is stored once; both RECEIPTs name that one message and seq, and subscribers see it once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fullHistory } from "../integration/helpers.ts";
import { type Cluster, startCluster } from "./cluster.ts";
import { expectEveryStreamExact, expectGapFreeCommits } from "./expectations.ts";
import { accounts, clusterServicesAvailable, rooms } from "./fixtures.ts";
import { connectPeer } from "./stomp-peer.ts";
import { type Committed, plan, Subscriber } from "./traffic.ts";

const RACES = 30;

describe.skipIf(!(await clusterServicesAvailable()))("the same client-msg-id on two processes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test(`${RACES} concurrent duplicate SENDs to A and B: one stored message each, one delivery each`, async () => {
    const [a, b, c] = cluster.nodes;
    if (!a || !b || !c) throw new Error("expected 3 processes");
    const [sender, reader] = await accounts(a.api, 2, "mpdup");
    if (!sender || !reader) throw new Error("accounts missing");
    const [room] = await rooms(a.api, sender, 1, [reader]);
    if (!room) throw new Error("room missing");

    const watchers = [new Subscriber("reader-on-C", reader.accessToken, [room.id])];
    watchers.push(new Subscriber("sender-on-A", sender.accessToken, [room.id]));
    await watchers[0]?.attach(c);
    await watchers[1]?.attach(a);

    // One connection of the same user on each of two processes.
    const onA = await connectPeer(a.wsUrl, sender.accessToken, "A");
    const onB = await connectPeer(b.wsUrl, sender.accessToken, "B");
    const committed: Committed[] = [];
    for (const m of plan(room.id, RACES, "dup")) {
      const [ra, rb] = await Promise.all([
        onA.send(m.roomId, m.text, m.clientMsgId),
        onB.send(m.roomId, m.text, m.clientMsgId),
      ]);
      expect({ clientMsgId: m.clientMsgId, b: rb }).toEqual({ clientMsgId: m.clientMsgId, b: ra });
      committed.push({ ...m, messageId: ra.messageId, seq: ra.seq });
    }
    expect([...onA.errors, ...onB.errors]).toEqual([]);

    const sorted = expectGapFreeCommits(committed, RACES);
    await expectEveryStreamExact(watchers, new Map([[room.id, sorted]]), 10_000, () => cluster.logs());
    const stored = await fullHistory(c.api, reader, room.id);
    expect(stored.map((s) => `${s.seq} ${s.id} ${s.clientMsgId}`)).toEqual(
      sorted.map((s) => `${s.seq} ${s.messageId} ${s.clientMsgId}`),
    );

    await Promise.all([onA.disconnect(), onB.disconnect(), ...watchers.map((w) => w.close())]);
  }, 60_000);
});
