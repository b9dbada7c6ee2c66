import { describe, expect, test } from "bun:test";
import pino from "pino";
import { memoryPresence } from "../adapters/presence/memory-presence.ts";
import type { Presence } from "../ports/presence.ts";
import { LocalUsers } from "./local-users.ts";
import { PresenceTracker, refreshSlice } from "./presence-tracker.ts";

/** A tracker of process "p1" on `presence`, with its user records and the presence events it published. */
function trackerOn(presence: Presence, opts: { ttlMs: number; batchMs?: number }) {
  const users = new LocalUsers();
  const events: string[] = [];
  const tracker = new PresenceTracker({
    presence,
    users,
    processId: "p1",
    logger: pino({ level: "silent" }),
    publishEphemeral: async (_roomId, json) => {
      events.push(json);
    },
    ...opts,
  });
  return { tracker, users, events };
}

describe("PresenceTracker refresh", () => {
  test("every present user is refreshed once per ttl/3, spread over the period rather than all at once", async () => {
    const inner = memoryPresence({ now: () => Date.now() });
    const refreshes: { userId: string; at: number }[] = [];
    const presence: Presence = {
      ...inner,
      async refresh(rooms, userId, connId, ttlMs) {
        refreshes.push({ userId, at: performance.now() });
        await inner.refresh(rooms, userId, connId, ttlMs);
      },
    };
    // ttl 1.5 s: a period of 500 ms, ticks of 50 ms.
    const { tracker } = trackerOn(presence, { ttlMs: 1500 });
    const ids = Array.from({ length: 200 }, (_, i) => `01JUSER${String(i).padStart(19, "0")}`);
    for (const id of ids) tracker.add("room-1", id);
    const start = performance.now();
    // About two periods: every user refreshed, none more than twice (a late timer only means fewer ticks).
    await Bun.sleep(1020);
    const perUser = new Map<string, number>();
    for (const r of refreshes) perUser.set(r.userId, (perUser.get(r.userId) ?? 0) + 1);
    expect(perUser.size).toBe(ids.length);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(2);
    // Spread: no tick carries more than a third of the users (one slice holds about a tenth of them).
    const byTick = new Map<number, number>();
    for (const r of refreshes) {
      const tick = Math.floor((r.at - start) / 50);
      byTick.set(tick, (byTick.get(tick) ?? 0) + 1);
    }
    expect(Math.max(...byTick.values())).toBeLessThan(ids.length / 3);
    expect(byTick.size).toBeGreaterThanOrEqual(10);
    // The slice of a user is stable and within range.
    for (const id of ids) expect(refreshSlice(id)).toBe(refreshSlice(id));
    expect(new Set(ids.map(refreshSlice)).size).toBe(10);
    await tracker.close();
  });
});

describe("PresenceTracker counts", () => {
  test("a user joins a room at their first live subscription here and leaves at their last, across rooms", async () => {
    const inner = memoryPresence({ now: () => Date.now() });
    const calls: string[] = [];
    const presence: Presence = {
      ...inner,
      async join(room, userId, connId, ttlMs) {
        calls.push(`join ${room}`);
        await inner.join(room, userId, connId, ttlMs);
      },
      async leave(room, userId, connId) {
        calls.push(`leave ${room}`);
        return inner.leave(room, userId, connId);
      },
    };
    const { tracker, users, events } = trackerOn(presence, { ttlMs: 60_000, batchMs: 1 });
    const settle = () => Bun.sleep(20);

    tracker.add("r1", "u1");
    tracker.add("r1", "u1"); // a second subscription (another tab): no second join
    await settle();
    expect(calls).toEqual(["join r1"]);
    expect(await tracker.online("r1", null, 100)).toEqual(["u1"]);

    tracker.remove("r1", "u1"); // one of two: still present
    await settle();
    expect(calls).toEqual(["join r1"]);
    expect(users.get("u1")?.presentIn).toBe("r1");

    tracker.add("r2", "u1");
    await settle();
    expect(calls).toEqual(["join r1", "join r2"]);

    tracker.remove("r1", "u1");
    await settle();
    expect(calls).toEqual(["join r1", "join r2", "leave r1"]);
    expect(await tracker.online("r1", null, 100)).toEqual([]);
    expect(users.get("u1")?.presentIn).toBe("r2");

    tracker.remove("r2", "u1");
    tracker.remove("r2", "u1"); // more removes than adds change nothing
    await settle();
    expect(calls).toEqual(["join r1", "join r2", "leave r1", "leave r2"]);
    // Nothing else kept the record, so it went.
    expect(users.get("u1")).toBeUndefined();
    expect(events.some((e) => e.includes('"offline":["u1"]'))).toBe(true);

    // Two subscriptions to r1 and one to r2: leaving r2 keeps both of r1's.
    tracker.add("r1", "u3");
    tracker.add("r1", "u3");
    tracker.add("r2", "u3");
    tracker.remove("r2", "u3");
    tracker.remove("r1", "u3");
    await settle();
    expect(await tracker.online("r1", null, 100)).toContain("u3");
    tracker.remove("r1", "u3");
    await settle();
    expect(await tracker.online("r1", null, 100)).not.toContain("u3");
    expect(users.get("u3")).toBeUndefined();

    // close() leaves every room still held, whatever the counts.
    tracker.add("r1", "u2");
    tracker.add("r1", "u2");
    tracker.add("r3", "u2");
    await settle();
    await tracker.close();
    expect(calls.slice(-2).sort()).toEqual(["leave r1", "leave r3"]);
    expect(users.get("u2")).toBeUndefined();
  });
});
