/**
 * Two processes listening on one port (PARLEY_REUSE_PORT=true): the kernel spreads connections over both, and
 * a message sent through a connection accepted by one process reaches subscribers whose connections the other
 * accepted. Which process accepted a connection is read from /proc, not from anything the server says.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Cluster, startCluster } from "./cluster.ts";
import { expectEveryStreamExact, expectGapFreeCommits } from "./expectations.ts";
import { accounts, clusterServicesAvailable, rooms } from "./fixtures.ts";
import { acceptedPeers } from "./proc-sockets.ts";
import { type Committed, plan, Subscriber } from "./traffic.ts";

const MIN_CONNECTIONS = 6;
/** With 2 processes the chance that this many connections all land on one is 2^-23. */
const MAX_CONNECTIONS = 24;
const PER_SIDE = 25;

describe.skipIf(!(await clusterServicesAvailable()))("2 processes sharing one port", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, reusePort: true });
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test("connections land on both processes and messages cross between them", async () => {
    const [first, second] = cluster.nodes;
    if (!first || !second) throw new Error("expected 2 processes");
    expect(first.port).toBe(second.port);
    const pids = [first.pid, second.pid];
    const users = await accounts(first.api, 2, "mpport");
    const [room] = await rooms(first.api, users[0]!, 1, users.slice(1));
    if (!room) throw new Error("room missing");

    const snapshot = () => new Map(pids.map((pid) => [pid, acceptedPeers(pid, first.port)]));
    const placed: { sub: Subscriber; pid: number }[] = [];
    while (placed.length < MAX_CONNECTIONS) {
      const onBoth = new Set(placed.map((p) => p.pid)).size === 2;
      if (onBoth && placed.length >= MIN_CONNECTIONS) break;
      const user = users[placed.length % 2]!;
      const before = snapshot();
      const sub = new Subscriber(`conn${placed.length + 1}`, user.accessToken, [room.id]);
      await sub.attach(first);
      const after = snapshot();
      const landed = pids.filter((pid) =>
        [...(after.get(pid) ?? [])].some((peer) => !before.get(pid)?.has(peer)),
      );
      // Exactly one process accepted exactly this new connection.
      expect(landed).toHaveLength(1);
      placed.push({ sub, pid: landed[0]! });
    }
    const perPid = pids.map((pid) => placed.filter((p) => p.pid === pid).length);
    expect(perPid.every((n) => n > 0)).toBe(true);

    // Half the messages go in through a connection of the first process, half through one of the second.
    const committed: Committed[] = [];
    const messages = plan(room.id, 2 * PER_SIDE, "rp");
    for (const [i, m] of messages.entries()) {
      const pid = pids[i < PER_SIDE ? 0 : 1];
      const via = placed.find((p) => p.pid === pid)?.sub.peer;
      if (!via) throw new Error("no connection on that process");
      const r = await via.send(m.roomId, m.text, m.clientMsgId);
      committed.push({ ...m, messageId: r.messageId, seq: r.seq });
    }
    const sorted = expectGapFreeCommits(committed, 2 * PER_SIDE);
    await expectEveryStreamExact(
      placed.map((p) => p.sub),
      new Map([[room.id, sorted]]),
      10_000,
      () => cluster.logs(),
    );
    await Promise.all(placed.map((p) => p.sub.close()));
  }, 60_000);
});
