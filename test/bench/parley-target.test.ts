/**
 * The Parley bench target: a run must start from a freshly started server process whether its fixture was cached or
 * just created (creating it leaves thousands of signups' garbage in the heap, which would count against the run's
 * "RSS before"). The restarted process must serve the same data: the fixture's tokens and rooms still work.
 */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
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

async function historyOf(port: number, roomId: string, token: string): Promise<unknown[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/rooms/${roomId}/messages`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: unknown[] }).messages;
}

describe("bench Parley target", () => {
  test("a cached fixture starts every run from the database as the fixture was made", async () => {
    const layout = roomsOf(1, 2);
    const cacheTag = `snapshot-test-${process.pid}-${Date.now()}`;
    const first = await startParley(layout, { cpus: null, cacheTag });
    let cacheDir: string | null = null;
    try {
      const p = await first.prepare(layout, () => {});
      const token = p.tokens?.[0] ?? "";
      const roomId = p.roomIds[0]!;
      const res = await fetch(`http://127.0.0.1:${first.port}/api/v1/rooms/${roomId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ message: "left by the first run" }),
      });
      expect(res.status).toBe(201);
      expect(await historyOf(first.port, roomId, token)).toHaveLength(1);
    } finally {
      await first.stop();
    }
    const second = await startParley(layout, { cpus: null, cacheTag });
    try {
      const statuses: string[] = [];
      const p = await second.prepare(layout, (l) => statuses.push(l));
      expect(statuses.some((l) => l.startsWith("fixture: reusing"))).toBe(true);
      cacheDir = statuses[0]!.replace("fixture: reusing ", "").replace(/\/fixture\.json$/, "");
      // Same users and room, none of the first run's messages.
      expect(await historyOf(second.port, p.roomIds[0]!, p.tokens?.[0] ?? "")).toHaveLength(0);
    } finally {
      await second.stop();
      if (cacheDir !== null) rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 60_000);

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
