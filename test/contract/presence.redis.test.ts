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

    test("refreshes sent together fail one by one: a refresh Redis refuses leaves the others done", async () => {
      // A key of the wrong type makes that connection's script fail inside Redis (WRONGTYPE).
      await admin.set(`${prefix}s:presence:{bad-room}:mallory`, "not a sorted set");
      const results = await Promise.allSettled([
        p.refresh(["batch-room"], "alice", "a1", 5_000),
        p.refresh(["bad-room"], "mallory", "m1", 5_000),
        p.refresh(["batch-room"], "bob", "b1", 5_000),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(String((results[1] as PromiseRejectedResult).reason)).toContain("WRONGTYPE");
      expect(await p.list("batch-room")).toEqual(["alice", "bob"]);
    });

    test("refreshes made in one turn go to Redis in one write", async () => {
      const client = new Redis(REDIS_URL);
      const own = redisPresence({ client, prefix: `${prefix}w:` }, new FakeClock());
      await client.ping();
      const socket = (client as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
      const write = socket.write;
      let writes = 0;
      socket.write = (...args: unknown[]) => {
        writes++;
        return write.apply(socket, args);
      };
      try {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => own.refresh(["rt-room"], `u${i}`, "c1", 5_000)),
        );
        expect(writes).toBe(1);
        expect(await own.count("rt-room")).toBe(50);
      } finally {
        socket.write = write;
        await client.quit();
      }
    });

    test("close() leaves a client it was given open", async () => {
      await p.close();
      expect(await admin.ping()).toBe("PONG");
    });
  });
});
