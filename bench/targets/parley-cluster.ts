/**
 * Parley as N processes on one port (PARLEY_REUSE_PORT=true) sharing PostgreSQL and Redis, as docs/multiprocess.md
 * describes: a fresh schema `parley_bench_<random>` and Redis prefix `parley_bench_<random>:` per run, both removed
 * on stop, and the same bench settings as the single-process target. With one process it is Parley on PostgreSQL
 * without Redis. The fixture lives in the schema, so it is built once per run (no cache) and survives `restart`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import postgres from "postgres";
import { type Child, spawnChild } from "../runner/child.ts";
import { pin } from "../runner/cpus.ts";
import { onInterrupt } from "../runner/interrupt.ts";
import { benchEnv, createFixture, freePort } from "./parley.ts";
import type { Layout, Prepared, Target } from "./target.ts";

const REPO = join(import.meta.dir, "../..");
export const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export interface ClusterOptions {
  readonly processes: number;
  readonly cpus: string | null;
  readonly pgUrl: string;
  readonly redisUrl: string;
  /** PostgreSQL connections per process; processes × this must fit the server's max_connections. */
  readonly poolSize?: number;
  readonly env?: Record<string, string>;
}

async function run(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out;
}

/** Whether `pid` itself has a listening socket on `port` (on a shared port, the port answering proves nothing). */
async function listens(pid: number, port: number): Promise<boolean> {
  return (await run(["ss", "-ltnpH", `sport = :${port}`])).includes(`pid=${pid},`);
}

async function dropSchema(pgUrl: string, schema: string): Promise<void> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await sql.end();
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

export async function startParleyCluster(o: ClusterOptions): Promise<Target> {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const schema = `parley_bench_${suffix}`;
  const prefix = `parley_bench_${suffix}:`;
  const dataRoot = mkdtempSync(join(tmpdir(), "parley-bench-cluster-"));
  const port = await freePort();
  const shared = o.processes > 1;
  const base: Record<string, string> = {
    ...benchEnv(dataRoot, port),
    PARLEY_DATABASE_URL: o.pgUrl,
    PARLEY_DATABASE_SCHEMA: schema,
    PARLEY_DATABASE_POOL_SIZE: String(o.poolSize ?? 8),
    ...(shared
      ? { PARLEY_REDIS_URL: o.redisUrl, PARLEY_REDIS_PREFIX: prefix, PARLEY_REUSE_PORT: "true" }
      : {}),
    ...o.env,
  };
  let children: Child[] = [];
  let fixture: Prepared | null = null;

  const startOne = async (i: number, env: Record<string, string>): Promise<Child> => {
    const child = await spawnChild(
      [process.execPath, join(REPO, "src/cli.ts"), "start"],
      {
        port,
        probe: async (pid) => {
          if (shared && !(await listens(pid, port))) return false;
          try {
            return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
          } catch {
            return false;
          }
        },
      },
      { env: { ...env, PARLEY_DATA_DIR: join(dataRoot, `p${i}`) }, cwd: REPO, timeoutMs: 60_000 },
    );
    await pin(child.pid, o.cpus);
    return child;
  };
  const startAll = async (extra: Record<string, string>): Promise<void> => {
    const env = { ...base, ...extra };
    for (let i = 0; i < o.processes; i++) {
      // One at a time: the readiness probe needs to know which pid it is waiting for, and the first one runs the
      // migrations (under an advisory lock) before the others find nothing to do.
      children.push(await startOne(i, env));
    }
  };
  const stopAll = async () => {
    await Promise.all(children.map((c) => c.stop()));
    children = [];
  };

  const cleanup = async () => {
    unregister();
    await stopAll();
    rmSync(dataRoot, { recursive: true, force: true });
    await dropSchema(o.pgUrl, schema).catch(() => {});
    if (shared) await deleteKeys(o.redisUrl, prefix).catch(() => {});
  };
  const unregister = onInterrupt(cleanup);
  try {
    await startAll({});
  } catch (e) {
    await cleanup();
    throw e;
  }
  const api = `http://127.0.0.1:${port}/api/v1`;
  return {
    name: o.processes > 1 ? `parley×${o.processes}` : "parley-pg",
    dialect: "parley",
    host: "127.0.0.1",
    port,
    get pids() {
      return children.map((c) => c.pid);
    },
    placement: `${o.processes} process${o.processes > 1 ? "es" : ""} on PostgreSQL${shared ? " + Redis, one port (SO_REUSEPORT)" : ""}, ${o.cpus === null ? "not pinned" : `cpus ${o.cpus}`}`,
    async prepare(layout: Layout, status): Promise<Prepared> {
      if (fixture) return fixture;
      const f = await createFixture(api, layout, suffix, dataRoot, status);
      fixture = { roomIds: f.roomIds, tokens: f.tokens };
      return fixture;
    },
    async restart(env) {
      await stopAll();
      await startAll(env);
    },
    stop: cleanup,
  };
}
