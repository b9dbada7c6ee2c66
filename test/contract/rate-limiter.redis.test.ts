import { afterAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { redisRateLimiter } from "../../src/adapters/rate-limit/redis-rate-limiter.ts";
import { redisTokenBucket } from "../../src/adapters/rate-limit/redis-token-bucket.ts";
import type { Clock } from "../../src/ports/clock.ts";
import { REDIS_URL, redisAvailable } from "../support/services.ts";
import { rateLimiterContract, tokenBucketContract } from "./rate-limiter.contract.ts";

const prefix = `parley-test:${process.pid}-${Date.now().toString(36)}:`;

async function keysUnder(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

describe.skipIf(!(await redisAvailable()))("redis limits", () => {
  const admin = new Redis(REDIS_URL);
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    const keys = await keysUnder(admin, `${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  // Windows are timed by the Redis server, so time passes for real; each open() is its own connection.
  rateLimiterContract("redis", {
    open: () => {
      const l = redisRateLimiter({ url: REDIS_URL, prefix });
      closers.push(() => l.close());
      return l;
    },
    windowMs: 300,
    advance: (ms) => Bun.sleep(ms),
  });

  tokenBucketContract("redis", {
    open: (clock) => {
      const b = redisTokenBucket({ url: REDIS_URL, prefix }, clock);
      closers.push(() => b.close());
      return b;
    },
  });

  describe("redis specifics", () => {
    const clock: Clock = { now: () => 1_700_000_000_000 };

    test("a counter always carries its window as TTL", async () => {
      const l = redisRateLimiter({ client: admin, prefix: `${prefix}s:` });
      await l.hit("ttl", 30_000);
      const ttl = await admin.pttl(`${prefix}s:rl:ttl`);
      expect(ttl).toBeGreaterThan(29_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
    });

    test("a bucket expires once it would have refilled, and reset deletes it", async () => {
      const b = redisTokenBucket({ client: admin, prefix: `${prefix}s:` }, clock);
      await b.take("tb", { capacity: 4, refillPerSecond: 2 }, 3);
      const ttl = await admin.pttl(`${prefix}s:tb:tb`);
      // 3 tokens at 2/s refill in 1.5 s, plus one second of slack.
      expect(ttl).toBeGreaterThan(2_000);
      expect(ttl).toBeLessThanOrEqual(2_500);
      await b.reset("tb");
      expect(await admin.exists(`${prefix}s:tb:tb`)).toBe(0);
    });

    test("close() leaves a client it was given open", async () => {
      await redisRateLimiter({ client: admin, prefix }).close();
      await redisTokenBucket({ client: admin, prefix }, clock).close();
      expect(await admin.ping()).toBe("PONG");
    });
  });
});
