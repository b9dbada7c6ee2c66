import { Redis } from "ioredis";
import type { Clock } from "../../ports/clock.ts";
import type { TokenBucket } from "../../ports/rate-limiter.ts";
import type { RedisLimitOptions } from "./redis-rate-limiter.ts";
import { assertTake, TOKEN_EPSILON } from "./token-bucket-math.ts";

export interface RedisTokenBucket extends TokenBucket {
  /** Closes the connection if this adapter opened it from a URL; a client passed in is left to its owner. */
  close(): Promise<void>;
}

/**
 * One bucket is a hash {t: tokens, ts: clock time of t}, read, refilled, charged (or credited) and written in one
 * script, so takes and refunds from any number of processes are serialised. The time comes from the caller's
 * clock (deterministic under test); a `now` behind the stored `ts` (clock skew between processes) refills nothing
 * and never moves `ts` back. A stored bucket expires (with a second of slack) once it would have refilled,
 * because a full bucket and a missing one mean the same; so idle keys cost nothing. Tokens travel as strings
 * because Redis truncates Lua numbers to integers.
 * REFILL is the part both scripts share: it reads the arguments and the bucket, refills it to `now` (a missing
 * bucket reads as full at `now`, with `missing` set) and defines `save()`, which writes it back with its TTL.
 */
const REFILL = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
local missing = tokens == nil or ts == nil
if missing then
  tokens = capacity
  ts = now
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * perMs)
  ts = now
end
local function save()
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / perMs) + 1000)
end
`;

/** ARGV: capacity, perMs, cost, now, eps. Returns {allowed (0|1), tokens left, retry after ms}. */
const TAKE = `${REFILL}
local eps = tonumber(ARGV[5])
local allowed = 0
local retry = 0
if tokens + eps >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
else
  retry = math.max(1, math.ceil((cost - tokens) / perMs))
end
save()
return {allowed, string.format('%.17g', tokens), retry}
`;

/** ARGV: capacity, perMs, cost, now. A missing bucket is a full one, so there is nothing to credit. */
const REFUND = `${REFILL}
if missing then
  return 0
end
tokens = math.min(capacity, tokens + cost)
save()
return 1
`;

interface BucketScripts {
  parleyTokenTake(key: string, ...args: number[]): Promise<[number, string, number]>;
  parleyTokenRefund(key: string, ...args: number[]): Promise<number>;
}

/** Token buckets shared by every process on one Redis. Keys: `<prefix>tb:<key>`. */
export function redisTokenBucket(opts: RedisLimitOptions, clock: Clock): RedisTokenBucket {
  const owned = "url" in opts;
  const redis = "url" in opts ? new Redis(opts.url) : opts.client;
  redis.defineCommand("parleyTokenTake", { lua: TAKE, numberOfKeys: 1 });
  redis.defineCommand("parleyTokenRefund", { lua: REFUND, numberOfKeys: 1 });
  const scripts = redis as unknown as BucketScripts;
  const keyOf = (key: string) => `${opts.prefix}tb:${key}`;

  return {
    async take(key, limit, cost = 1) {
      assertTake(limit, cost);
      const [allowed, tokens, retryAfterMs] = await scripts.parleyTokenTake(
        keyOf(key),
        limit.capacity,
        limit.refillPerSecond / 1000,
        cost,
        clock.now(),
        TOKEN_EPSILON,
      );
      return { allowed: allowed === 1, remaining: Math.floor(Number(tokens) + TOKEN_EPSILON), retryAfterMs };
    },

    async refund(key, limit, cost = 1) {
      assertTake(limit, cost);
      await scripts.parleyTokenRefund(
        keyOf(key),
        limit.capacity,
        limit.refillPerSecond / 1000,
        cost,
        clock.now(),
      );
    },

    async reset(key) {
      await redis.del(keyOf(key));
    },

    async close() {
      if (owned) await redis.quit();
    },
  };
}
