/**
 * Fault injection on a Redis server without restarting it: cutting the Parley processes' connections, which
 * leaves every other user of the server untouched (so it is safe on the shared Redis). Restarting a server is
 * done only to a test's own private one (private-redis.ts).
 */
import { Redis } from "ioredis";
import { REDIS_URL } from "../support/services.ts";
import { outgoingPorts } from "./proc-sockets.ts";

export interface RedisClientInfo {
  readonly id: string;
  readonly addr: string;
  readonly name: string;
}

/** A connection for inspecting the server at `url` (the shared Redis unless told otherwise). */
export async function adminConnection(url: string = REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectionName: "parley-mp-test-admin" });
  await redis.connect();
  return redis;
}

export async function clientList(redis: Redis): Promise<RedisClientInfo[]> {
  const text = (await redis.call("CLIENT", "LIST")) as string;
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const fields = new Map<string, string>();
      for (const part of line.trim().split(" ")) {
        const eq = part.indexOf("=");
        if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
      }
      return { id: fields.get("id") ?? "", addr: fields.get("addr") ?? "", name: fields.get("name") ?? "" };
    });
}

/**
 * The clients of `redis`'s server that are connections of the given processes. Matched by the client's source
 * port, read from /proc, so the result does not depend on which names the server gives its connections.
 */
export async function clientsOf(
  redis: Redis,
  pids: readonly number[],
): Promise<Map<number, RedisClientInfo[]>> {
  const serverPort = redis.options.port ?? 6379;
  const byPort = new Map<number, number>();
  for (const pid of pids) for (const port of outgoingPorts(pid, serverPort)) byPort.set(port, pid);
  const out = new Map<number, RedisClientInfo[]>(pids.map((pid) => [pid, []]));
  for (const c of await clientList(redis)) {
    const port = Number(c.addr.slice(c.addr.lastIndexOf(":") + 1));
    const pid = byPort.get(port);
    if (pid !== undefined) out.get(pid)?.push(c);
  }
  return out;
}

/**
 * Waits until every one of the processes has at least `atLeast` connections to the server (their broker's
 * publisher and subscriber, by default), or `timeoutMs` has passed; returns the last listing either way.
 */
export async function untilConnected(
  redis: Redis,
  pids: readonly number[],
  timeoutMs: number,
  atLeast = 2,
): Promise<Map<number, RedisClientInfo[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clients = await clientsOf(redis, pids);
    if (pids.every((pid) => (clients.get(pid)?.length ?? 0) >= atLeast) || Date.now() >= deadline)
      return clients;
    await Bun.sleep(20);
  }
}

/** Kills every Redis connection of the given processes; returns how many were killed per process. */
export async function killClientsOf(redis: Redis, pids: readonly number[]): Promise<Map<number, number>> {
  const clients = await clientsOf(redis, pids);
  const counts = new Map<number, number>();
  for (const [pid, list] of clients) {
    let killed = 0;
    for (const c of list) {
      // A connection may have closed by itself since CLIENT LIST ("No such client"): nothing left to kill.
      const n = await redis.call("CLIENT", "KILL", "ID", c.id).catch(() => 0);
      killed += Number(n);
    }
    counts.set(pid, killed);
  }
  return counts;
}
