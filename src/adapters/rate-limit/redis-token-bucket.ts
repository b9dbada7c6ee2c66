import { Redis } from "ioredis";
import type { Clock } from "../../ports/clock.ts";
import type { TokenBucket } from "../../ports/rate-limiter.ts";
import type { RedisLimitOptions } from "./redis-rate-limiter.ts";
import { assertTake, assertTakeEach, TOKEN_EPSILON } from "./token-bucket-math.ts";

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
 * BUCKET holds what every script shares: `refill` reads a bucket and refills it to `now` (a missing bucket reads as
 * full at `now`, and says so), `store` writes it back with its TTL. REFILL applies them to the one bucket of TAKE
 * and REFUND: it reads the arguments, refills KEYS[1] and defines `save()` for it.
 */
const BUCKET = `
local function refill(key, capacity, perMs, now)
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    return capacity, now, true
  elseif now > ts then
    return math.min(capacity, tokens + (now - ts) * perMs), now, false
  end
  return tokens, ts, false
end
local function store(key, tokens, ts, capacity, perMs)
  redis.call('HSET', key, 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) / perMs) + 1000)
end
`;

const REFILL = `${BUCKET}
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local tokens, ts, missing = refill(KEYS[1], capacity, perMs, now)
local function save()
  store(KEYS[1], tokens, ts, capacity, perMs)
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

/**
 * One token from each of KEYS if every bucket holds it, else none; every bucket is refilled and saved either way,
 * as TAKE does. ARGV: now, eps, then capacity and perMs per key. Returns {refused position (0 when allowed, else
 * 1-based), retry after ms}. Several keys in one script is fine here: the state connection is one Redis server
 * (a cluster would need them in one hash slot).
 */
const TAKE_EACH = `${BUCKET}
local now = tonumber(ARGV[1])
local eps = tonumber(ARGV[2])
local n = #KEYS
local tokens, ts, caps, rates = {}, {}, {}, {}
local refused = 0
for i = 1, n do
  caps[i] = tonumber(ARGV[1 + 2 * i])
  rates[i] = tonumber(ARGV[2 + 2 * i])
  tokens[i], ts[i] = refill(KEYS[i], caps[i], rates[i], now)
  if refused == 0 and tokens[i] + eps < 1 then refused = i end
end
for i = 1, n do
  if refused == 0 then tokens[i] = math.max(0, tokens[i] - 1) end
  store(KEYS[i], tokens[i], ts[i], caps[i], rates[i])
end
if refused == 0 then return {0, 0} end
return {refused, math.max(1, math.ceil((1 - tokens[refused]) / rates[refused]))}
`;

interface BucketScripts {
  parleyTokenTakeEach(...args: (string | number)[]): Promise<[number, number]>;
  parleyTokenTake(key: string, ...args: number[]): Promise<[number, string, number]>;
  parleyTokenRefund(key: string, ...args: number[]): Promise<number>;
}

/** Token buckets shared by every process on one Redis. Keys: `<prefix>tb:<key>`. */
export function redisTokenBucket(opts: RedisLimitOptions, clock: Clock): RedisTokenBucket {
  const owned = "url" in opts;
  const redis = "url" in opts ? new Redis(opts.url) : opts.client;
  redis.defineCommand("parleyTokenTake", { lua: TAKE, numberOfKeys: 1 });
  redis.defineCommand("parleyTokenRefund", { lua: REFUND, numberOfKeys: 1 });
  // Any number of keys: ioredis then takes the count as the first argument.
  redis.defineCommand("parleyTokenTakeEach", { lua: TAKE_EACH });
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

    async takeEach(takes) {
      assertTakeEach(takes);
      const args: (string | number)[] = [
        takes.length,
        ...takes.map((t) => keyOf(t.key)),
        clock.now(),
        TOKEN_EPSILON,
      ];
      for (const { limit } of takes) args.push(limit.capacity, limit.refillPerSecond / 1000);
      const [refused, retryAfterMs] = await scripts.parleyTokenTakeEach(...args);
      return refused === 0
        ? { allowed: true, refused: -1, retryAfterMs: 0 }
        : { allowed: false, refused: refused - 1, retryAfterMs };
    },

    async reset(key) {
      await redis.del(keyOf(key));
    },

    async close() {
      if (owned) await redis.quit();
    },
  };
}
