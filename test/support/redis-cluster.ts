/**
 * A private Redis Cluster for tests: three masters (no replicas) as child processes on free loopback ports,
 * with their state in a temporary directory. Nothing is persisted; `stop()` kills the processes and removes the
 * directory, and the processes are also killed if the test process exits without calling it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** Runs `redis-cli -p <port> <args>` and returns its stdout. */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Whether the binaries are installed; under CI=true their absence is an error rather than a skip. */
export function redisClusterToolsAvailable(): boolean {
  const missing = ["redis-server", "redis-cli"].filter((bin) => Bun.which(bin) === null);
  if (missing.length === 0) return true;
  if (process.env.CI === "true")
    throw new Error(`${missing.join(" and ")} not on PATH, and CI=true requires them`);
  console.warn(`skipping Redis Cluster tests: ${missing.join(" and ")} not on PATH`);
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port that is free, and whose cluster bus port (port + 10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue;
    if ((await bindable(port)) && (await bindable(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error("no free port pair for a cluster node");
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "parley-redis-cluster-"));
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.on("exit", killAll);

  const cli = async (port: number, ...args: string[]) =>
    (await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args])).stdout;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const exits = children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        }),
    );
    killAll();
    await Promise.all(exits);
    process.off("exit", killAll);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) ports.push(await freePort(taken));
    for (const port of ports) {
      const child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          "5000",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
          "--logfile",
          join(dir, `redis-${port}.log`),
        ],
        { stdio: "ignore" },
      );
      children.push(child);
    }
    for (const port of ports)
      await waitFor(`redis-server on ${port}`, async () => (await cli(port, "PING")).trim() === "PONG");

    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (const port of ports) {
      await waitFor(`cluster_state:ok on ${port}`, async () => {
        const info = await cli(port, "CLUSTER", "INFO");
        return info.includes("cluster_state:ok") && info.includes("cluster_known_nodes:3");
      });
    }
    return { nodes: ports.map((port) => ({ host: "127.0.0.1", port })), cli, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
