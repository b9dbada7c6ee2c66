/**
 * What reading a large room's online list costs on Redis: `--users` users present in one room (joined through
 * the adapter, as the gateway does), then `--reads` reads of the first page of `--limit` (the shape of
 * `GET /api/v1/rooms/{roomId}/presence`), `--concurrency` in flight. Per round: the client's CPU time and the wall
 * time per read, Redis's own time per read (`INFO commandstats`, reset before each round, so run it against a
 * Redis nothing else is using) and the bytes of the JSON body the route would send. Before that, Redis's time per
 * call while the room fills (each user new to it) and while every user refreshes (what each connection costs it
 * once per ttl/3). An adapter without paging
 * ignores the page and returns the whole room, which is the measurement before paging. Keys live under a prefix
 * of their own and are deleted at the end.
 *
 *   bun bench/profile/presence-list.ts [--users 70000] [--reads 200] [--limit 100] [--rounds 3] [--concurrency 4]
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { redisPresence } from "../../src/adapters/presence/redis-presence.ts";
import { deleteKeys } from "../runner/redis-keys.ts";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "70000" },
    reads: { type: "string", default: "200" },
    limit: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "4" },
    url: { type: "string", default: process.env.PARLEY_REDIS_URL || "redis://127.0.0.1:6379" },
  },
});
const users = Number(values.users);
const reads = Number(values.reads);
const limit = Number(values.limit);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const prefix = `parley_presence_list_${process.pid}:`;
const client = new Redis(values.url);
const admin = new Redis(values.url);
const presence = redisPresence({ client, prefix }, { now: () => Date.now() });
const room = "room-70k";
const TTL_MS = 10 * 60_000;

/** Redis's total microseconds in every command since the last reset. */
async function redisUsec(): Promise<number> {
  const stats = await admin.info("commandstats");
  let usec = 0;
  for (const m of stats.matchAll(/cmdstat_[a-z|]+:calls=\d+,usec=(\d+)/g)) usec += Number(m[1]);
  return usec;
}

/** The first page as the route asks for it; a list without paging takes the room alone and returns all. */
const firstPage = (): Promise<readonly string[]> =>
  (presence.list as (room: string, after: string | null, limit: number) => Promise<readonly string[]>)(
    room,
    null,
    limit,
  );

/** Every user refreshes its one connection, 1,000 calls a turn (as a process's refresh tick sends them). */
async function refreshAll(): Promise<void> {
  for (let i = 0; i < users; i += 1000) {
    const calls: Promise<void>[] = [];
    for (let u = i; u < Math.min(users, i + 1000); u++)
      calls.push(presence.refresh([room], `U${String(u).padStart(25, "0")}`, `conn-${u}`, TTL_MS));
    await Promise.all(calls);
  }
}

try {
  for (const pass of ["join", "refresh"]) {
    await admin.config("RESETSTAT");
    const t0 = performance.now();
    await refreshAll();
    const us = await redisUsec();
    console.log(
      `${pass}: ${users.toLocaleString("en")} users in one room in ${((performance.now() - t0) / 1000).toFixed(1)} s; Redis ${(us / users).toFixed(1)} µs per call`,
    );
  }
  for (let r = 1; r <= rounds; r++) {
    await admin.config("RESETSTAT");
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    let next = 0;
    let bytes = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < reads) bytes = JSON.stringify({ online: await firstPage() }).length;
      }),
    );
    const wallUs = (performance.now() - start) * 1000;
    const cpu = process.cpuUsage(cpu0);
    const redisUs = await redisUsec();
    console.log(
      `round ${r}: client CPU ${((cpu.user + cpu.system) / reads).toFixed(0)} µs, wall ${(wallUs / reads).toFixed(0)} µs, Redis ${(redisUs / reads).toFixed(0)} µs per read; body ${bytes.toLocaleString("en")} B`,
    );
  }
} finally {
  await deleteKeys(values.url, prefix);
  client.disconnect();
  admin.disconnect();
}
