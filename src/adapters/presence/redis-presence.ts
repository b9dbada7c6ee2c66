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
 *   list() and count() read only this set, so count is O(log n).
 * - `<prefix>presence:{<room>}:<userId>` — sorted set, member connId, score = that connection's expiry.
 * Scores come from the injected clock. Both keys also carry a server-side TTL beyond their newest entry, so a
 * room whose processes all crashed leaves nothing behind. The braces keep a room's keys in one cluster slot;
 * refresh() of several rooms runs as one script over all their keys, so it targets a single Redis endpoint
 * (a cluster would need one call per slot); refreshes of one event-loop turn share one pipeline.
 */
const JOIN = `
local now = ARGV[3]
local expiresAt = ARGV[4]
local keyTtl = tonumber(ARGV[5])
for i = 1, #KEYS, 2 do
  local roomKey, connKey = KEYS[i], KEYS[i + 1]
  redis.call('ZREMRANGEBYSCORE', connKey, '-inf', now)
  redis.call('ZADD', connKey, expiresAt, ARGV[2])
  local newest = redis.call('ZRANGE', connKey, -1, -1, 'WITHSCORES')
  redis.call('ZADD', roomKey, newest[2], ARGV[1])
  for _, key in ipairs({roomKey, connKey}) do
    if redis.call('PTTL', key) < keyTtl then redis.call('PEXPIRE', key, keyTtl) end
  end
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
return 0
`;

/** Server-side key lifetime beyond the TTL: room for clock skew between processes; only garbage collection. */
const KEY_TTL_MARGIN_MS = 60_000;

interface PresenceScripts {
  parleyPresenceJoin(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  parleyPresenceLeave(...keysAndArgs: (string | number)[]): Promise<unknown>;
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
  redis.defineCommand("parleyPresenceLeave", { lua: LEAVE, numberOfKeys: 2 });
  const scripts = redis as unknown as PresenceScripts;

  const roomKey = (room: string) => `${opts.prefix}presence:{${room}}`;
  const connKey = (room: string, userId: string) => `${roomKey(room)}:${userId}`;

  /** The JOIN script's numKeys, keys and arguments for one connection in `rooms`, timed now. */
  function joinCall(rooms: readonly string[], userId: string, connId: string, ttlMs: number): JoinCall {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new RangeError(`presence TTL must be positive, got ${ttlMs}`);
    const now = clock.now();
    const keys = rooms.flatMap((room) => [roomKey(room), connKey(room, userId)]);
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

  /** Drops users whose every connection expired, then reads the survivors: one MULTI, so one consistent view. */
  async function live(room: string): Promise<string[]> {
    const key = roomKey(room);
    const results = await redis.multi().zremrangebyscore(key, "-inf", clock.now()).zrange(key, 0, -1).exec();
    const users = results?.[1]?.[1];
    if (!Array.isArray(users)) throw new Error("presence: unexpected reply from Redis");
    return users.map(String).sort();
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
        userId,
        connId,
        clock.now(),
      );
      return left === 1;
    },

    async list(room) {
      sendQueued();
      return live(room);
    },

    async count(room) {
      sendQueued();
      const key = roomKey(room);
      const results = await redis.multi().zremrangebyscore(key, "-inf", clock.now()).zcard(key).exec();
      const count = results?.[1]?.[1];
      if (typeof count !== "number") throw new Error("presence: unexpected reply from Redis");
      return count;
    },

    async close() {
      if (owned) await redis.quit();
    },
  };
}
