/**
 * A process dies with SIGKILL in the middle of traffic. Its subscribers reconnect to another process and resume
 * each room with since-seq = the last seq they saw; its publishers reconnect and repeat every unanswered SEND
 * with the same client-msg-id. Afterwards the store holds every message once (seqs 1..N) and every subscriber
 * received exactly that stream: nothing lost, nothing twice, nothing out of order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Cluster, startCluster } from "./cluster.ts";
import { expectEveryStreamExact, expectGapFreeCommits, expectHistoryMatches } from "./expectations.ts";
import { accounts, byRoom, clusterServicesAvailable, rooms } from "./fixtures.ts";
import { type Committed, firstAlive, Publisher, plan, Subscriber } from "./traffic.ts";

const ROOMS = 6;
const PER_ROOM = 200;
/** The kill comes once C's subscribers have seen this many seqs in every room. */
const KILL_AFTER_SEQ = 30;

describe.skipIf(!(await clusterServicesAvailable()))("SIGKILL of one of 3 processes mid-traffic", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test("clients of the killed process fail over and resume: 0 lost, 0 duplicated", async () => {
    const [a, b, c] = cluster.nodes;
    if (!a || !b || !c) throw new Error("expected 3 processes");
    const senders = await accounts(a.api, 2, "mppub");
    const readers = await accounts(b.api, 4, "mpsub");
    const ownedA = await rooms(a.api, senders[0]!, ROOMS / 2, readers);
    const ownedC = await rooms(a.api, senders[1]!, ROOMS / 2, readers);
    const roomIds = [...ownedA, ...ownedC].map((r) => r.id);

    // Readers 1-2 on C (they lose their process), 3 on A, 4 on B; the victims fail over to B, then A.
    const failover = firstAlive([b, a]);
    const subscribers = readers.map((r, i) => new Subscriber(`reader${i + 1}`, r.accessToken, roomIds));
    const homes = [c, c, a, b];
    await Promise.all(subscribers.map((s, i) => s.attach(homes[i]!, failover)));

    // One publisher stays on A; the other starts on C and must move when C dies.
    const stayer = new Publisher(senders[0]!.accessToken, () => a);
    const mover = new Publisher(senders[1]!.accessToken, firstAlive([c, b, a]));
    const committed: Committed[] = [];
    const record = (m: Committed) => committed.push(m);
    const sending = Promise.all([
      ...ownedA.map((room, i) => stayer.sendAll(plan(room.id, PER_ROOM, `a${i}`), record)),
      ...ownedC.map((room, i) => mover.sendAll(plan(room.id, PER_ROOM, `c${i}`), record)),
    ]);

    const victims = subscribers.slice(0, 2);
    const victimLogs = victims.flatMap((s) => [...s.logs.values()]);
    const reached = await Promise.all(victimLogs.map((log) => log.waitForSeq(KILL_AFTER_SEQ, 15_000)));
    expect(reached.every(Boolean)).toBe(true);
    const committedAtKill = committed.length;
    c.kill("SIGKILL");
    await c.exited;
    await sending;
    // The kill really happened mid-traffic: messages were still to be sent afterwards.
    expect(committedAtKill).toBeLessThan(ROOMS * PER_ROOM);

    expect(committed).toHaveLength(ROOMS * PER_ROOM);
    const expected = new Map<string, Committed[]>();
    for (const [roomId, list] of byRoom(committed))
      expected.set(roomId, expectGapFreeCommits(list, PER_ROOM));
    await expectEveryStreamExact(subscribers, expected, 20_000, () => cluster.logs());

    // The victims resumed on B mid-stream (since-seq past the kill point), the others never moved.
    for (const s of victims) {
      expect(s.resumes.map((r) => r.node)).toEqual(["C", "B"]);
      const resumedFrom = [...(s.resumes[1]?.sinceSeq.values() ?? [])];
      expect(resumedFrom.every((seq) => seq >= KILL_AFTER_SEQ)).toBe(true);
    }
    expect(subscribers.slice(2).map((s) => s.resumes.length)).toEqual([1, 1]);
    // The moved publisher reconnected once, to B; the other never lost its connection.
    expect({ mover: mover.reconnects, stayer: stayer.reconnects }).toEqual({ mover: 1, stayer: 0 });
    expect((await mover.peer()).node).toBe("B");

    const reader = readers[3]!;
    for (const [roomId, list] of expected) await expectHistoryMatches(b.api, reader, roomId, list);
    await Promise.all([stayer.close(), mover.close(), ...subscribers.map((s) => s.close())]);
  }, 60_000);
});
