import { describe, expect, test } from "bun:test";
import { memoryRateLimiter } from "../../src/adapters/rate-limit/memory-rate-limiter.ts";
import {
  type MemoryTokenBucket,
  memoryTokenBucket,
} from "../../src/adapters/rate-limit/memory-token-bucket.ts";
import type { Clock } from "../../src/ports/clock.ts";
import { rateLimiterContract, tokenBucketContract } from "./rate-limiter.contract.ts";

class ManualClock implements Clock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
}

const limiterClock = new ManualClock();
const limiter = memoryRateLimiter(limiterClock);
rateLimiterContract("memory", {
  open: () => limiter,
  windowMs: 1_000,
  advance: async (ms) => {
    limiterClock.t += ms;
  },
});

const buckets = new WeakMap<Clock, MemoryTokenBucket>();
tokenBucketContract("memory", {
  open: (clock) => {
    let bucket = buckets.get(clock);
    if (bucket === undefined) {
      bucket = memoryTokenBucket(clock);
      buckets.set(clock, bucket);
    }
    return bucket;
  },
});

describe("memory limits do not grow without bound", () => {
  test("ended windows are purged", async () => {
    const clock = new ManualClock();
    const l = memoryRateLimiter(clock);
    for (let i = 0; i < 500; i++) await l.hit(`k${i}`, 1_000);
    expect(l.size).toBe(500);
    clock.t += 10_000;
    await l.hit("live", 1_000);
    expect(l.size).toBe(1);
  });

  test("open windows survive the purge", async () => {
    const clock = new ManualClock();
    const l = memoryRateLimiter(clock);
    await l.hit("long", 60_000);
    await l.hit("short", 1_000);
    clock.t += 10_000;
    expect((await l.hit("long", 60_000)).count).toBe(2);
    expect(l.size).toBe(1);
  });

  test("buckets that have refilled are purged; reset drops one at once", async () => {
    const clock = new ManualClock();
    const b = memoryTokenBucket(clock);
    const limit = { capacity: 2, refillPerSecond: 1 };
    for (let i = 0; i < 300; i++) await b.take(`k${i}`, limit);
    expect(b.size).toBe(300);
    clock.t += 10_000;
    await b.take("live", limit);
    expect(b.size).toBe(1);
    clock.t += 1_000;
    await b.take("live", limit, 1); // refilled to 2, takes 1: still below capacity, kept
    expect(b.size).toBe(1);
    await b.reset("live");
    expect(b.size).toBe(0);
  });
});
