import { Redis } from "ioredis";
import type { Clock } from "../../ports/clock.ts";
import type { Presence } from "../../ports/presence.ts";

export type RedisPresenceOptions = ({ readonly url: string } | { readonly client: Redis }) & {
  /** Namespaces every key, so deployments (and test runs) sharing one Redis stay apart. */
  readonly prefix: string;
};

export interface RedisPresence extends Presence {
  /** Closes the connection if this adapter opened it from a URL; a client passed in is left to its owner. */
  close(): Promise<void>;
}

/**
 * Data model, per room:
 * - `<prefix>presence:{<room>}` — sorted set, member userId, score = latest expiry among the user's connections.
 *   count() reads only this set (after clearing expired users), so it is O(log n).
 * - `<prefix>presence:{<room>}#ids` — sorted set, member userId, score 0: the same users in id order, so that
 *   list() reads a page with ZRANGEBYLEX, O(log n + page), where sorting the room would cost Redis ~11 ms at
 *   70,000 users for every read (docs/benchmarks/optimizations.md, "The online list in pages"). Join (for a user
 *   new to the room set), leave and the clearing of expired users change both sets in the same script, so they
 *   hold the same users. Entries written by a version without the index break that; a page read that finds the
 *   two sets of different sizes rebuilds the index from the room set (O(n), once), and an id the room set no
 *   longer holds is never listed (dropped from the index when a page meets it).
 * - `<prefix>presence:{<room>}:<userId>` — sorted set, member connId, score = that connection's expiry.
 * Scores come from the injected clock. The keys also carry a server-side TTL beyond their newest entry, so a
 * room whose processes all crashed leaves nothing behind. The braces keep a room's keys in one cluster slot;
 * refresh() of several rooms runs as one script over all their keys, so it targets a single Redis endpoint
 * (a cluster would need one call per slot); refreshes of one event-loop turn share one pipeline.
 */
const JOIN = `
local now = ARGV[3]
local expiresAt = ARGV[4]
local keyTtl = tonumber(ARGV[5])
for i = 1, #KEYS, 3 do
  local roomKey, connKey, idsKey = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  redis.call('ZREMRANGEBYSCORE', connKey, '-inf', now)
  redis.call('ZADD', connKey, expiresAt, ARGV[2])
  local newest = redis.call('ZRANGE', connKey, -1, -1, 'WITHSCORES')
  if redis.call('ZADD', roomKey, newest[2], ARGV[1]) == 1 then redis.call('ZADD', idsKey, 0, ARGV[1]) end
  if redis.call('PTTL', roomKey) < keyTtl then
    redis.call('PEXPIRE', roomKey, keyTtl)
    redis.call('PEXPIRE', idsKey, keyTtl)
  end
  if redis.call('PTTL', connKey) < keyTtl then redis.call('PEXPIRE', connKey, keyTtl) end
end
return 0
`;

const LEAVE = `
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if newest[2] then
  redis.call('ZADD', KEYS[1], newest[2], ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 0
`;

/**
 * Clears the users whose every connection expired (score <= now) from the room set and the id index, in slices
 * (Lua's unpack takes a few thousand values at most). Shared by COUNT and PAGE.
 */
const CLEAR_EXPIRED = `
local function clearExpired(roomKey, idsKey, now)
  local gone = redis.call('ZRANGEBYSCORE', roomKey, '-inf', now)
  if #gone == 0 then return end
  for i = 1, #gone, 500 do
    redis.call('ZREM', idsKey, unpack(gone, i, math.min(i + 499, #gone)))
  end
  redis.call('ZREMRANGEBYSCORE', roomKey, '-inf', now)
end
`;

const COUNT = `${CLEAR_EXPIRED}
clearExpired(KEYS[1], KEYS[2], ARGV[1])
return redis.call('ZCARD', KEYS[1])
`;

/** ARGV: now, the cursor ('' for the first page), the page size. */
const PAGE = `${CLEAR_EXPIRED}
local roomKey, idsKey = KEYS[1], KEYS[2]
clearExpired(roomKey, idsKey, ARGV[1])
if redis.call('ZCARD', idsKey) ~= redis.call('ZCARD', roomKey) then
  redis.call('DEL', idsKey)
  local all = redis.call('ZRANGE', roomKey, 0, -1)
  for i = 1, #all, 500 do
    local args = {}
    for j = i, math.min(i + 499, #all) do
      args[#args + 1] = 0
      args[#args + 1] = all[j]
    end
    redis.call('ZADD', idsKey, unpack(args))
  end
  local ttl = redis.call('PTTL', roomKey)
  if ttl > 0 then redis.call('PEXPIRE', idsKey, ttl) end
end
local limit = tonumber(ARGV[3])
local from = ARGV[2] == '' and '-' or '(' .. ARGV[2]
local page = {}
while #page < limit do
  local ids = redis.call('ZRANGEBYLEX', idsKey, from, '+', 'LIMIT', 0, limit - #page)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if redis.call('ZSCORE', roomKey, id) then page[#page + 1] = id else redis.call('ZREM', idsKey, id) end
  end
  from = '(' .. ids[#ids]
end
return page
`;

/** Server-side key lifetime beyond the TTL: room for clock skew between processes; only garbage collection. */
const KEY_TTL_MARGIN_MS = 60_000;

interface PresenceScripts {
  parleyPresenceJoin(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  parleyPresenceLeave(...keysAndArgs: (string | number)[]): Promise<unknown>;
  parleyPresenceCount(...keysAndArgs: (string | number)[]): Promise<unknown>;
  parleyPresencePage(...keysAndArgs: (string | number)[]): Promise<unknown>;
}

/** The same script queued on a pipeline (ioredis adds defined commands to pipelines too). */
interface PipelineScripts {
  parleyPresenceJoin(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
}

/** One call of the JOIN script: its number of keys, then the keys and the arguments. */
type JoinCall = [numKeys: number, ...keysAndArgs: (string | number)[]];

/** A refresh waiting for the end of the turn that asked for it. */
interface QueuedRefresh {
  readonly call: JoinCall;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Presence shared by every process on one Redis; each call is one atomic script (see `queued` for refreshes). */
export function redisPresence(opts: RedisPresenceOptions, clock: Clock): RedisPresence {
  const owned = "url" in opts;
  const redis = "url" in opts ? new Redis(opts.url) : opts.client;
  redis.defineCommand("parleyPresenceJoin", { lua: JOIN });
  redis.defineCommand("parleyPresenceLeave", { lua: LEAVE, numberOfKeys: 3 });
  redis.defineCommand("parleyPresenceCount", { lua: COUNT, numberOfKeys: 2 });
  redis.defineCommand("parleyPresencePage", { lua: PAGE, numberOfKeys: 2 });
  const scripts = redis as unknown as PresenceScripts;

  const roomKey = (room: string) => `${opts.prefix}presence:{${room}}`;
  const connKey = (room: string, userId: string) => `${roomKey(room)}:${userId}`;
  const idsKey = (room: string) => `${roomKey(room)}#ids`;

  /** The JOIN script's numKeys, keys and arguments for one connection in `rooms`, timed now. */
  function joinCall(rooms: readonly string[], userId: string, connId: string, ttlMs: number): JoinCall {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new RangeError(`presence TTL must be positive, got ${ttlMs}`);
    const now = clock.now();
    const keys = rooms.flatMap((room) => [roomKey(room), connKey(room, userId), idsKey(room)]);
    return [keys.length, ...keys, userId, connId, now, now + ttlMs, ttlMs + KEY_TTL_MARGIN_MS];
  }

  /**
   * Refreshes asked for in one event-loop turn, sent together at its end. A process refreshes a slice of its
   * connections at a time (PresenceTracker), thousands of calls in one loop: one write and one round trip for
   * all of them instead of one each. Each is still its own JOIN script, so each stays atomic and settles on its
   * own reply; one that fails fails alone. Every other call sends the queue first, so Redis sees the calls in
   * the order they were made (a leave right after a refresh is not undone by it).
   */
  let queued: QueuedRefresh[] | null = null;

  function sendQueued(): void {
    const batch = queued;
    queued = null;
    if (batch === null) return;
    const pipeline = redis.pipeline();
    const calls = pipeline as unknown as PipelineScripts;
    for (const q of batch) calls.parleyPresenceJoin(...q.call);
    pipeline.exec().then(
      (results) => {
        batch.forEach((q, i) => {
          const reply = results?.[i];
          if (reply === undefined) q.reject(new Error("presence: no reply from Redis"));
          else if (reply[0]) q.reject(reply[0]);
          else q.resolve();
        });
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  return {
    async join(room, userId, connId, ttlMs) {
      sendQueued();
      await scripts.parleyPresenceJoin(...joinCall([room], userId, connId, ttlMs));
    },

    refresh(rooms, userId, connId, ttlMs) {
      // A bad TTL throws in the executor, so it rejects like any other failure.
      return new Promise<void>((resolve, reject) => {
        const call = joinCall(rooms, userId, connId, ttlMs);
        if (rooms.length === 0) {
          resolve();
          return;
        }
        if (queued === null) {
          queued = [];
          queueMicrotask(sendQueued);
        }
        queued.push({ call, resolve, reject });
      });
    },

    async leave(room, userId, connId) {
      sendQueued();
      const left = await scripts.parleyPresenceLeave(
        roomKey(room),
        connKey(room, userId),
        idsKey(room),
        userId,
        connId,
        clock.now(),
      );
      return left === 1;
    },

    async list(room, after, limit) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`presence page size must be at least 1, got ${limit}`);
      sendQueued();
      const page = await scripts.parleyPresencePage(
        roomKey(room),
        idsKey(room),
        clock.now(),
        after ?? "",
        limit,
      );
      if (!Array.isArray(page)) throw new Error("presence: unexpected reply from Redis");
      return page.map(String);
    },

    async count(room) {
      sendQueued();
      const count = await scripts.parleyPresenceCount(roomKey(room), idsKey(room), clock.now());
      if (typeof count !== "number") throw new Error("presence: unexpected reply from Redis");
      return count;
    },

    async close() {
      if (owned) await redis.quit();
    },
  };
}
