import { afterAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { type RedisPresence, redisPresence } from "../../src/adapters/presence/redis-presence.ts";
import { REDIS_URL, redisAvailable } from "../support/services.ts";
import { everyone, FakeClock, presenceContract } from "./presence.contract.ts";

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
      expect(keys.length).toBe(3);
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
      expect(await everyone(p, "batch-room")).toEqual(["alice", "bob"]);
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

    test("users present without the id index (written by an earlier version) are listed: the index is rebuilt", async () => {
      const clock = new FakeClock();
      const own = redisPresence({ client: admin, prefix: `${prefix}i:` }, clock);
      const room = `${prefix}i:presence:{old-room}`;
      await own.join("old-room", "carol", "c1", 30_000);
      // What the JOIN script wrote before the index existed: the room set and the connection set only.
      for (const user of ["alice", "bob"]) {
        await admin.zadd(room, clock.now() + 30_000, user);
        await admin.zadd(`${room}:${user}`, clock.now() + 30_000, "c1");
      }
      expect(await own.count("old-room")).toBe(3);
      expect(await everyone(own, "old-room")).toEqual(["alice", "bob", "carol"]);
      expect(await admin.zcard(`${room}#ids`)).toBe(3);
      expect(await admin.pttl(`${room}#ids`)).toBeGreaterThan(30_000);
    });

    test("ids left in the index by leaves that predate it are not listed: the index is rebuilt", async () => {
      const own = redisPresence({ client: admin, prefix: `${prefix}j:` }, new FakeClock());
      const room = `${prefix}j:presence:{stale-room}`;
      for (const user of ["alice", "bob", "carol"]) await own.join("stale-room", user, "c1", 30_000);
      // An earlier version's LEAVE: the room set and the connection set, not the index.
      await admin.zrem(room, "bob");
      await admin.del(`${room}:bob`);
      await admin.zadd(`${room}#ids`, 0, "dave");
      await admin.zrem(room, "dave");
      expect(await own.list("stale-room", null, 2)).toEqual(["alice", "carol"]);
      expect(await admin.zrange(`${room}#ids`, 0, -1)).toEqual(["alice", "carol"]);
      expect(await everyone(own, "stale-room")).toEqual(["alice", "carol"]);
    });

    test("a user missing from the index while another lingers in it (the same sizes) is listed after one read", async () => {
      const own = redisPresence({ client: admin, prefix: `${prefix}m:` }, new FakeClock());
      const room = `${prefix}m:presence:{mixed-room}`;
      for (const user of ["alice", "bob"]) await own.join("mixed-room", user, "c1", 30_000);
      // An earlier version's leave of bob and join of carol: the index still says alice, bob.
      await admin.zrem(room, "bob");
      await admin.zadd(room, Date.now() + 60_000, "carol");
      expect(await own.list("mixed-room", null, 10)).toEqual(["alice"]);
      expect(await own.list("mixed-room", null, 10)).toEqual(["alice", "carol"]);
    });

    test("a refresh of a user already present leaves the index alone; its TTL follows the room set's", async () => {
      const clock = new FakeClock();
      const own = redisPresence({ client: admin, prefix: `${prefix}n:` }, clock);
      const room = `${prefix}n:presence:{refresh-room}`;
      await own.join("refresh-room", "alice", "c1", 5_000);
      await admin.pexpire(`${room}#ids`, 1_000);
      await admin.pexpire(room, 1_000);
      await own.refresh(["refresh-room"], "alice", "c1", 5_000);
      expect(await admin.zrange(`${room}#ids`, 0, -1)).toEqual(["alice"]);
      expect(await admin.pttl(`${room}#ids`)).toBeGreaterThan(5_000);
    });

    test("expired users leave the index with the room set: a count clears both", async () => {
      const clock = new FakeClock();
      const own = redisPresence({ client: admin, prefix: `${prefix}k:` }, clock);
      const room = `${prefix}k:presence:{expiry-room}`;
      await own.join("expiry-room", "alice", "c1", 1_000);
      await own.join("expiry-room", "bob", "c1", 30_000);
      clock.advance(1_000);
      expect(await own.count("expiry-room")).toBe(1);
      expect(await admin.zrange(`${room}#ids`, 0, -1)).toEqual(["bob"]);
    });

    test("close() leaves a client it was given open", async () => {
      await p.close();
      expect(await admin.ping()).toBe("PONG");
    });
  });
});
