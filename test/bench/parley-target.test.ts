/**
 * The Parley bench target: a run must start from a freshly started server process whether its fixture was cached or
 * just created (creating it leaves thousands of signups' garbage in the heap, which would count against the run's
 * "RSS before"). The restarted process must serve the same data: the fixture's tokens and rooms still work.
 */
import { describe, expect, test } from "bun:test";
import { roomsOf } from "../../bench/scenarios/common.ts";
import { startParley } from "../../bench/targets/parley.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("bench Parley target", () => {
  test("a freshly created fixture is served by a restarted process", async () => {
    const target = await startParley(roomsOf(1, 3), { cpus: null, ephemeral: true });
    try {
      const first = target.pids[0]!;
      const prepared = await target.prepare(roomsOf(1, 3), () => {});
      const second = target.pids[0]!;
      expect(second).not.toBe(first);
      expect(alive(first)).toBe(false);
      expect(alive(second)).toBe(true);
      const token = prepared.tokens?.[0];
      expect(token).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${target.port}/api/v1/rooms/${prepared.roomIds[0]}/messages`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      await target.stop();
    }
  }, 60_000);
});
