/**
 * Fault injection on the shared Redis: cutting the Parley processes' connections (safe: other users of the
 * server are untouched) and, only when explicitly allowed, restarting the server itself.
 */
import { Redis } from "ioredis";
import { REDIS_URL } from "../support/services.ts";
import { outgoingPorts } from "./proc-sockets.ts";

export interface RedisClientInfo {
  readonly id: string;
  readonly addr: string;
  readonly name: string;
}

export function redisPort(): number {
  return Number(new URL(REDIS_URL).port || 6379);
}

/** redis-cli arguments naming the server under test. */
function cliTarget(): string[] {
  return ["-h", new URL(REDIS_URL).hostname, "-p", String(redisPort())];
}

export async function adminConnection(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectionName: "parley-mp-test-admin" });
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
 * The Redis clients that are connections of the given processes. Matched by the client's source port, read from
 * /proc, so the result does not depend on which names the server gives its connections.
 */
export async function clientsOf(
  redis: Redis,
  pids: readonly number[],
): Promise<Map<number, RedisClientInfo[]>> {
  const byPort = new Map<number, number>();
  for (const pid of pids) for (const port of outgoingPorts(pid, redisPort())) byPort.set(port, pid);
  const out = new Map<number, RedisClientInfo[]>(pids.map((pid) => [pid, []]));
  for (const c of await clientList(redis)) {
    const port = Number(c.addr.slice(c.addr.lastIndexOf(":") + 1));
    const pid = byPort.get(port);
    if (pid !== undefined) out.get(pid)?.push(c);
  }
  return out;
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

/** Whether the opt-in for restarting the shared Redis server is set (it disturbs anyone else using it). */
export function redisRestartAllowed(): boolean {
  return process.env.PARLEY_TEST_RESTART_REDIS === "1";
}

/** Shuts the Redis server down without saving; resolves once it no longer answers. */
export async function stopRedis(): Promise<void> {
  await run(["redis-cli", ...cliTarget(), "shutdown", "nosave"], true);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!(await answersPing())) return;
    await Bun.sleep(20);
  }
  throw new Error("Redis still answers 10 s after shutdown");
}

/** Starts a local Redis server (the CI machine's command line) on the port under test; resolves on PONG. */
export async function startRedis(): Promise<void> {
  const port = String(redisPort());
  await run(
    [
      "redis-server",
      "--daemonize",
      "yes",
      "--bind",
      "127.0.0.1",
      "-::1",
      "--port",
      port,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      "/var/lib/redis",
      "--logfile",
      "/var/log/redis/ci.log",
    ],
    false,
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answersPing()) return;
    await Bun.sleep(20);
  }
  throw new Error("Redis did not come back within 10 s");
}

export async function restartRedis(): Promise<void> {
  await stopRedis();
  await startRedis();
}

async function answersPing(): Promise<boolean> {
  const probe = Bun.spawn(["redis-cli", ...cliTarget(), "ping"], { stdout: "pipe", stderr: "ignore" });
  const out = await new Response(probe.stdout).text();
  await probe.exited;
  return out.trim() === "PONG";
}

async function run(cmd: string[], tolerateFailure: boolean): Promise<void> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0 && !tolerateFailure) {
    throw new Error(`${cmd.join(" ")} exited with ${code}: ${await new Response(proc.stderr).text()}`);
  }
}
