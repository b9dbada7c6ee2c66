/**
 * Runs several real `parley start` processes against one PostgreSQL schema and one Redis key prefix, both
 * fresh per cluster, exactly as an operator would run N nodes. The tests talk to them only over HTTP and
 * WebSocket; nothing in this file reaches into the server's code.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import postgres from "postgres";
import { type Client, client } from "../integration/helpers.ts";
import { PG_URL, REDIS_URL } from "../support/services.ts";
import { isListening } from "./proc-sockets.ts";

const REPO_ROOT = resolve(import.meta.dir, "../..");
const BUN = join(REPO_ROOT, "node_modules/.bin/bun");
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
/** Output kept per process for failure reports: the tail is what explains a crash. */
const OUTPUT_KEEP_CHARS = 32_000;

export interface NodeProcess {
  /** "A", "B", "C", ... in start order. */
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** ws://127.0.0.1:port/ws */
  readonly wsUrl: string;
  /** The REST API of this process. */
  readonly api: Client;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Sends a signal (SIGKILL for the crash tests); does not wait. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** What the process wrote to stdout and stderr (the tail, if long). */
  output(): string;
}

export interface ClusterOptions {
  readonly nodes: number;
  /** All processes listen on one port with PARLEY_REUSE_PORT=true. */
  readonly reusePort?: boolean;
  /**
   * The Redis server for every process; the shared one by default. A server given here belongs to the caller,
   * who discards it whole, so `stop()` leaves its keys alone (it may well be down by then).
   */
  readonly redisUrl?: string;
  /** Extra PARLEY_* variables for every process. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Cluster {
  readonly nodes: readonly NodeProcess[];
  readonly schema: string;
  /** The Redis server every process uses. */
  readonly redisUrl: string;
  /** Prefix of every Redis key and channel this cluster uses. */
  readonly redisPrefix: string;
  /** Each process's output, labelled, for assertion messages. */
  logs(): string;
  /**
   * SIGTERM (then SIGKILL after a grace period) to every live process; drops the schema and, on the shared
   * Redis, the cluster's keys.
   */
  stop(): Promise<void>;
}

export function randomSuffix(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/**
 * A port that was free a moment ago (the OS picks it), and none of `taken`: ports asked for one at a time can
 * repeat, so nodes started side by side pass the ports already handed out.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (!taken.has(port)) return port;
  }
}

async function anyFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const suffix = randomSuffix();
  const schema = `parley_mp_${suffix}`;
  const redisPrefix = `parley_mp_${suffix}:`;
  const dataDir = await mkdtemp(join(tmpdir(), "parley-mp-"));
  const sharedPort = opts.reusePort ? await freePort() : null;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    PARLEY_HOST: "127.0.0.1",
    PARLEY_DATABASE_URL: PG_URL,
    PARLEY_DATABASE_SCHEMA: schema,
    PARLEY_DATABASE_POOL_SIZE: "8",
    PARLEY_REDIS_URL: redisUrl,
    PARLEY_REDIS_PREFIX: redisPrefix,
    // Shared by every process: a token issued by one must be accepted by all.
    PARLEY_JWT_SECRET: `mp-secret-${suffix}-0123456789abcdefghij`,
    PARLEY_ARGON2_MEMORY_KIB: "1024",
    PARLEY_ARGON2_TIME_COST: "1",
    PARLEY_LOG_LEVEL: "warn",
    PARLEY_WS_SEND_RATE: "100000",
    PARLEY_WS_SEND_BURST: "100000",
    PARLEY_ROOM_SEND_RATE: "0",
    PARLEY_WS_MAX_CONNECTIONS_PER_USER: "100",
    PARLEY_WS_HEARTBEAT_MS: "10000",
    ...opts.env,
  };
  if (sharedPort !== null) baseEnv.PARLEY_REUSE_PORT = "true";

  const nodes: NodeProcess[] = [];
  const cluster: Cluster = {
    nodes,
    schema,
    redisUrl,
    redisPrefix,
    logs: () => nodes.map((n) => `--- process ${n.name} (pid ${n.pid}) ---\n${n.output()}`).join("\n"),
    stop: async () => {
      await Promise.all(nodes.map(stopNode));
      await rm(dataDir, { recursive: true, force: true });
      await dropSchema(schema);
      if (opts.redisUrl === undefined) await deleteRedisKeys(redisPrefix);
    },
  };
  // The nodes start side by side: each gets a port of its own.
  const taken = new Set<number>();
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const name = String.fromCharCode(65 + i);
      const port = sharedPort ?? (await freePort(taken));
      taken.add(port);
      nodes.push(
        spawnNode(name, port, {
          ...baseEnv,
          PARLEY_PORT: String(port),
          PARLEY_DATA_DIR: join(dataDir, name),
        }),
      );
    }
    await Promise.all(nodes.map((n) => waitReady(n, sharedPort !== null)));
  } catch (e) {
    const logs = cluster.logs();
    await cluster.stop();
    throw new Error(`cluster did not start: ${e instanceof Error ? e.message : String(e)}\n${logs}`);
  }
  return cluster;
}

function spawnNode(name: string, port: number, env: Record<string, string>): NodeProcess {
  const proc = Bun.spawn([BUN, "src/cli.ts", "start"], {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      output += decoder.decode(value, { stream: true });
      if (output.length > OUTPUT_KEEP_CHARS * 2) output = output.slice(-OUTPUT_KEEP_CHARS);
    }
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    pid: proc.pid,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    api: client(`${url}/api/v1`),
    exited: proc.exited,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    kill: (signal) => proc.kill(signal),
    output: () => output.slice(-OUTPUT_KEEP_CHARS),
  };
}

/**
 * Ready means this very process answers /readyz. On a shared port a request may land on any process, so there
 * readiness is "this pid listens on the port" (Bun.serve starts only after migrations) and the port answers.
 */
async function waitReady(node: NodeProcess, sharedPort: boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (!node.alive())
      throw new Error(`process ${node.name} exited with ${await node.exited} before it was ready`);
    if (!sharedPort || isListening(node.pid, node.port)) {
      try {
        const res = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        last = `HTTP ${res.status}`;
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
    }
    await Bun.sleep(50);
  }
  throw new Error(`process ${node.name} not ready within ${READY_TIMEOUT_MS} ms (${last})`);
}

async function stopNode(node: NodeProcess): Promise<void> {
  if (!node.alive()) return;
  node.kill("SIGTERM");
  const stopped = await Promise.race([
    node.exited.then(() => true),
    Bun.sleep(STOP_TIMEOUT_MS).then(() => false),
  ]);
  if (!stopped) {
    node.kill("SIGKILL");
    await node.exited;
  }
}

async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await sql.end();
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
