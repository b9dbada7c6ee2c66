import { afterAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { type RedisPresence, redisPresence } from "../../src/adapters/presence/redis-presence.ts";
import { REDIS_URL, redisAvailable } from "../support/services.ts";
import { FakeClock, presenceContract } from "./presence.contract.ts";

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

describe.skipIf(!(await redisAvailable()))("redisPresence", () => {
  const admin = new Redis(REDIS_URL);
  const opened: RedisPresence[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((p) => p.close()));
    const keys = await keysUnder(admin, `${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  // Each call opens its own connection: two calls with one clock act as two processes on one Redis.
  presenceContract("redis", (clock) => {
    const p = redisPresence({ url: REDIS_URL, prefix: `${prefix}c:` }, clock);
    opened.push(p);
    return p;
  });

  describe("redis specifics", () => {
    const p = redisPresence({ client: admin, prefix: `${prefix}s:` }, new FakeClock());

    test("every key it writes carries a server-side TTL beyond the entry's", async () => {
      await p.join("ttl-room", "alice", "a1", 5_000);
      const keys = await keysUnder(admin, `${prefix}s:*ttl-room*`);
      expect(keys.length).toBe(2);
      for (const key of keys) {
        const ttl = await admin.pttl(key);
        expect(ttl).toBeGreaterThan(5_000);
        expect(ttl).toBeLessThanOrEqual(65_000);
      }
    });

    test("the last leave removes the room's keys entirely", async () => {
      await p.join("gone-room", "alice", "a1", 5_000);
      await p.join("gone-room", "alice", "a2", 5_000);
      await p.leave("gone-room", "alice", "a1");
      await p.leave("gone-room", "alice", "a2");
      expect(await keysUnder(admin, `${prefix}s:*gone-room*`)).toEqual([]);
    });

    test("close() leaves a client it was given open", async () => {
      await p.close();
      expect(await admin.ping()).toBe("PONG");
    });
  });
});
