import { Redis } from "ioredis";
import type { RateLimiter } from "../../ports/rate-limiter.ts";

export type RedisLimitOptions = ({ readonly url: string } | { readonly client: Redis }) & {
  /** Namespaces every key, so deployments (and test runs) sharing one Redis stay apart. */
  readonly prefix: string;
};

export interface RedisRateLimiter extends RateLimiter {
  /** Closes the connection if this adapter opened it from a URL; a client passed in is left to its owner. */
  close(): Promise<void>;
}

/**
 * INCR and the window's expiry in one script, so a crash can never leave a counter without a TTL and
 * concurrent hits from any number of processes count 1..N. The window is timed by the Redis server's clock.
 * A key without a TTL (which only a foreign write could create) gets one instead of living forever.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

interface LimiterScripts {
  parleyRateHit(key: string, windowMs: number): Promise<[number, number]>;
}

/** Fixed-window counters shared by every process on one Redis. Keys: `<prefix>rl:<key>`. */
export function redisRateLimiter(opts: RedisLimitOptions): RedisRateLimiter {
  const owned = "url" in opts;
  const redis = "url" in opts ? new Redis(opts.url) : opts.client;
  redis.defineCommand("parleyRateHit", { lua: HIT, numberOfKeys: 1 });
  const scripts = redis as unknown as LimiterScripts;
  const keyOf = (key: string) => `${opts.prefix}rl:${key}`;

  return {
    async hit(key, windowMs) {
      if (!Number.isInteger(windowMs) || windowMs <= 0) {
        throw new RangeError(`window must be a positive whole number of ms, got ${windowMs}`);
      }
      const [count, resetInMs] = await scripts.parleyRateHit(keyOf(key), windowMs);
      return { count, resetInMs };
    },

    async peek(key) {
      const k = keyOf(key);
      const results = await redis.multi().get(k).pttl(k).exec();
      const raw = results?.[0]?.[1];
      const ttl = results?.[1]?.[1];
      if (typeof raw !== "string" || typeof ttl !== "number" || ttl < 0) return { count: 0, resetInMs: 0 };
      return { count: Number(raw), resetInMs: ttl };
    },

    async reset(key) {
      await redis.del(keyOf(key));
    },

    async close() {
      if (owned) await redis.quit();
    },
  };
}
