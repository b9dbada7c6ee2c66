/**
 * Revocation across processes: logging out over REST on process A closes the sockets of that session on
 * processes B and C within a second, while other users' sockets stay open, and the revoked token is refused
 * by every process afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectStatus } from "../integration/helpers.ts";
import { type Cluster, startCluster } from "./cluster.ts";
import { accounts, clusterServicesAvailable, rooms } from "./fixtures.ts";
import { connectPeer } from "./stomp-peer.ts";

/** The promise in DESIGN.md §4: revocation closes open sockets on every process within a second. */
const REVOCATION_DEADLINE_MS = 1_000;

describe.skipIf(!(await clusterServicesAvailable()))("session revocation across 3 processes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test("logout on A closes the session's sockets on B and C within 1 s; others stay connected", async () => {
    const [a, b, c] = cluster.nodes;
    if (!a || !b || !c) throw new Error("expected 3 processes");
    const [leaving, staying] = await accounts(a.api, 2, "mprev");
    if (!leaving || !staying) throw new Error("accounts missing");
    const [room] = await rooms(a.api, staying, 1, [leaving]);
    if (!room) throw new Error("room missing");

    const leavingOnB = await connectPeer(b.wsUrl, leaving.accessToken, "B");
    const leavingOnC = await connectPeer(c.wsUrl, leaving.accessToken, "C");
    const stayingOnB = await connectPeer(b.wsUrl, staying.accessToken, "B");

    const res = await a.api.request("POST", "/auth/logout", { token: leaving.accessToken });
    expectStatus(res, 204);
    const loggedOutAt = Date.now();

    const closes = await Promise.all(
      [leavingOnB, leavingOnC].map((p) =>
        Promise.race([p.closed, Bun.sleep(REVOCATION_DEADLINE_MS + 2_000).then(() => null)]),
      ),
    );
    for (const [i, close] of closes.entries()) {
      const where = i === 0 ? "B" : "C";
      expect({ where, closed: close !== null }).toEqual({ where, closed: true });
      if (close === null) continue;
      expect({ where, withinDeadline: close.at - loggedOutAt <= REVOCATION_DEADLINE_MS }).toEqual({
        where,
        withinDeadline: true,
      });
      expect({ where, errorCode: close.errorCode }).toEqual({ where, errorCode: "SESSION_REVOKED" });
    }

    // Someone else's connection on the same process is untouched and still works.
    expect(stayingOnB.isOpen()).toBe(true);
    const receipt = await stayingOnB.send(room.id, "still here", "still-1");
    expect(receipt.seq).toBe(1);

    // The revoked token is refused everywhere, not just where the logout happened.
    for (const node of cluster.nodes) {
      const refused = await connectPeer(node.wsUrl, leaving.accessToken, node.name).then(
        async (p) => {
          await p.disconnect();
          return false;
        },
        (e: unknown) => e instanceof Error && /SESSION_REVOKED|UNAUTHENTICATED/.test(e.message),
      );
      expect({ node: node.name, refused }).toEqual({ node: node.name, refused: true });
    }
    await stayingOnB.disconnect();
  }, 30_000);
});
