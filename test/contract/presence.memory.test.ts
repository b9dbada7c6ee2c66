import { describe, expect, test } from "bun:test";
import { type MemoryPresence, memoryPresence } from "../../src/adapters/presence/memory-presence.ts";
import { FakeClock, presenceContract } from "./presence.contract.ts";

const byClock = new WeakMap<FakeClock, MemoryPresence>();
presenceContract("memory", (clock) => {
  let p = byClock.get(clock);
  if (p === undefined) {
    p = memoryPresence(clock);
    byClock.set(clock, p);
  }
  return p;
});

describe("memoryPresence", () => {
  test("expired entries are swept even in rooms nobody reads again, so memory does not grow", async () => {
    const clock = new FakeClock();
    const p = memoryPresence(clock);
    for (let i = 0; i < 100; i++) await p.join(`room-${i}`, `user-${i}`, "c", 1_000);
    expect(p.size).toBe(100);
    clock.advance(61_000);
    await p.join("live", "alice", "c", 1_000);
    expect(p.size).toBe(1);
  });

  test("leaving removes the entry at once", async () => {
    const p = memoryPresence(new FakeClock());
    await p.join("r", "alice", "c1", 1_000);
    await p.join("r", "alice", "c2", 1_000);
    await p.leave("r", "alice", "c1");
    expect(p.size).toBe(1);
    await p.leave("r", "alice", "c2");
    expect(p.size).toBe(0);
  });
});
