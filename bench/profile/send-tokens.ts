/**
 * What a STOMP send's rate limits cost on Redis: the sender's and the room's token taken as two scripts (the way
 * before `takeEach`) or as one (`TokenBucket.takeEach`, what MessageService.send does). Per round and way: the
 * client's CPU time and the wall time per send, `--concurrency` sends in flight, and Redis's own time per send
 * (`INFO commandstats`, reset before each measurement, so run it against a Redis nothing else is using). Keys
 * live under a prefix of their own and are deleted at the end.
 *
 *   bun bench/profile/send-tokens.ts [--sends 20000] [--rounds 3] [--concurrency 8] [--url redis://127.0.0.1:6379]
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { redisTokenBucket } from "../../src/adapters/rate-limit/redis-token-bucket.ts";
import type { TokenBucketLimit } from "../../src/ports/rate-limiter.ts";

const { values } = parseArgs({
  options: {
    sends: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
    url: { type: "string", default: process.env.PARLEY_REDIS_URL || "redis://127.0.0.1:6379" },
  },
});
const sends = Number(values.sends);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const prefix = `parley_send_tokens_${process.pid}:`;
const client = new Redis(values.url);
const admin = new Redis(values.url);
const bucket = redisTokenBucket({ client, prefix }, { now: () => Date.now() });
// Limits no send reaches, as in the bench's servers: every take succeeds and writes its bucket back.
const sender: TokenBucketLimit = { capacity: 100_000, refillPerSecond: 100_000 };
const room: TokenBucketLimit = { capacity: 200, refillPerSecond: 100_000 };
const senderKey = (i: number) => `ws-send:u${i % 1000}`;
const roomKey = (i: number) => `room-send:r${i % 100}`;

const ways: Record<string, (i: number) => Promise<unknown>> = {
  "two scripts": async (i) => {
    await bucket.take(senderKey(i), sender);
    await bucket.take(roomKey(i), room);
  },
  "takeEach   ": (i) =>
    bucket.takeEach([
      { key: senderKey(i), limit: sender },
      { key: roomKey(i), limit: room },
    ]),
};

/** Redis's total microseconds in script calls since the last reset. */
async function redisScriptUsec(): Promise<number> {
  const stats = await admin.info("commandstats");
  let usec = 0;
  for (const m of stats.matchAll(/cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/g)) usec += Number(m[1]);
  return usec;
}

try {
  for (let r = 1; r <= rounds; r++) {
    for (const [name, send] of Object.entries(ways)) {
      await admin.config("RESETSTAT");
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < sends) await send(next++);
        }),
      );
      const wallUs = (performance.now() - t0) * 1000;
      const cpu = process.cpuUsage(cpu0);
      const redisUs = await redisScriptUsec();
      console.log(
        `round ${r} ${name}: client CPU ${((cpu.user + cpu.system) / sends).toFixed(1)} µs, wall ${(wallUs / sends).toFixed(1)} µs, Redis ${(redisUs / sends).toFixed(1)} µs per send`,
      );
    }
  }
} finally {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  client.disconnect();
  admin.disconnect();
}
