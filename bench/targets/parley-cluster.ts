/**
 * Parley as N processes on one port (PARLEY_REUSE_PORT=true) sharing PostgreSQL and Redis, as docs/multiprocess.md
 * describes: a fresh schema `parley_bench_<random>` and Redis prefix `parley_bench_<random>:` per run, both removed
 * on stop, and the same bench settings as the single-process target. With one process it is Parley on PostgreSQL
 * without Redis. The fixture is built once per layout and kept as a template schema (fixture-template.ts); every
 * run's schema starts as a copy of it, as the one-process target's database starts as a copy of its snapshot, and
 * keeps it through `restart`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type Child, spawnChild } from "../runner/child.ts";
import { pin } from "../runner/cpus.ts";
import { onInterrupt } from "../runner/interrupt.ts";
import { deleteKeys } from "../runner/redis-keys.ts";
import { benchEnv, metricsUrl } from "./bench-env.ts";
import { createFixture, fixtureKey } from "./fixture.ts";
import {
  hasTemplate,
  MIGRATIONS_TAG,
  restoreTemplate,
  saveTemplate,
  templateSchema,
} from "./fixture-template.ts";
import { freePort } from "./free-port.ts";
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
  /** Distinguishes fixture templates of different settings (as ParleyOptions.cacheTag). */
  readonly cacheTag?: string;
  /** Build the fixture again even when a template of its key exists (and replace that template). */
  readonly fresh?: boolean;
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

export async function startParleyCluster(o: ClusterOptions): Promise<Target> {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const schema = `parley_bench_${suffix}`;
  const prefix = `parley_bench_${suffix}:`;
  const dataRoot = mkdtempSync(join(tmpdir(), "parley-bench-cluster-"));
  const port = await freePort();
  const shared = o.processes > 1;
  const base: Record<string, string> = {
    ...benchEnv(dataRoot, port, 0),
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
  /** Set when the target stops (normally or on Ctrl-C): from then on nothing starts and no schema is created. */
  let closed = false;
  const live = (): void => {
    if (closed) throw new Error("the target was stopped");
  };
  /**
   * The start, restart or prepare under way. Stopping waits for it to settle (each of its steps fails fast once
   * `closed` is set) before dropping the schema, so nothing it still starts or creates outlives the run.
   */
  let busy: Promise<unknown> = Promise.resolve();
  const track = <T>(p: Promise<T>): Promise<T> => {
    busy = p.catch(() => {});
    return p;
  };

  /** Each process's metrics listener, by process index; a restarted process gets a fresh port. */
  const metricsUrls: string[] = [];
  /** The shared port and every metrics port handed out: a process started beside the others gets none of them. */
  const taken = new Set([port]);
  const startOne = async (i: number, env: Record<string, string>): Promise<Child> => {
    const metricsPort = await freePort(taken);
    taken.add(metricsPort);
    metricsUrls[i] = metricsUrl(metricsPort);
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
      {
        env: { ...env, PARLEY_DATA_DIR: join(dataRoot, `p${i}`), PARLEY_METRICS_PORT: String(metricsPort) },
        cwd: REPO,
        timeoutMs: 60_000,
      },
    );
    await pin(child.pid, o.cpus);
    return child;
  };
  /** The settings the processes run with now (`restart` changes them), for starting them again on the fixture. */
  let settings: Record<string, string> = {};
  const startAll = async (extra: Record<string, string>): Promise<void> => {
    settings = extra;
    const env = { ...base, ...extra };
    for (let i = 0; i < o.processes; i++) {
      // One at a time: the readiness probe needs to know which pid it is waiting for, and the first one runs the
      // migrations (under an advisory lock) before the others find nothing to do.
      live();
      // Not `children.push(await …)`: that reads `children` before the wait, and stopAll may have replaced it by
      // then, so the process would go into the list already stopped and outlive the run.
      const child = await startOne(i, env);
      children.push(child);
    }
  };
  const stopAll = async () => {
    // Taken before waiting: a process that finishes starting meanwhile is added to the new list, not dropped.
    const stopping = children;
    children = [];
    await Promise.all(stopping.map((c) => c.stop()));
  };

  const cleanup = async () => {
    closed = true;
    unregister();
    // Stopped before waiting: a fixture being created over the API then fails at once instead of running on.
    await stopAll();
    await busy;
    await stopAll();
    rmSync(dataRoot, { recursive: true, force: true });
    await dropSchema(o.pgUrl, schema).catch(() => {});
    if (shared) await deleteKeys(o.redisUrl, prefix).catch(() => {});
  };
  const unregister = onInterrupt(cleanup);
  try {
    await track(startAll({}));
  } catch (e) {
    await cleanup();
    throw e;
  }
  const api = `http://127.0.0.1:${port}/api/v1`;
  /** The fixture in the run's schema, from its template (built first if there is none), and the processes on it. */
  const prepareFixture = async (layout: Layout, status: (line: string) => void): Promise<Prepared> => {
    if (fixture) return fixture;
    const t0 = performance.now();
    const seconds = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    const key = fixtureKey(layout, o.cacheTag ?? "", MIGRATIONS_TAG);
    const template = templateSchema(key);
    if (o.fresh || !(await hasTemplate(o.pgUrl, key))) {
      const made = await createFixture(api, layout, key, status);
      // Stopped first: the schema they use is about to become the template, and they are restarted below anyway.
      await stopAll();
      live();
      await saveTemplate(o.pgUrl, schema, made);
      status(`fixture: saved as template ${template} (${seconds()})`);
    } else {
      status(`fixture: reusing template ${template}`);
      // Stopped while the rows are replaced: no process may keep a pool on the schema, or anything it read before.
      await stopAll();
    }
    // The run that built the template starts from a copy of it too, so the first run and the later ones start
    // from the same rows laid out the same way.
    live();
    const copyStart = performance.now();
    const restored = await restoreTemplate(o.pgUrl, key, schema);
    if (restored === null)
      throw new Error(`template ${template} was dropped or expired before it could be copied`);
    status(
      `fixture: template ${template} copied into ${schema} (${restored.rows.toLocaleString("en")} rows, ${((performance.now() - copyStart) / 1000).toFixed(1)} s)`,
    );
    // Redis as with a fresh prefix (whatever the processes kept there so far — rate-limit windows of the signups,
    // presence — is not part of the fixture), and freshly started processes: the signups' garbage stays out of
    // "RSS before", as with the one-process target.
    live();
    if (shared) await deleteKeys(o.redisUrl, prefix);
    await startAll(settings);
    status(`fixture: ready, processes restarted on it (fixture phase ${seconds()})`);
    fixture = { roomIds: restored.fixture.roomIds, tokens: restored.fixture.tokens };
    return fixture;
  };
  return {
    name: o.processes > 1 ? `parley×${o.processes}` : "parley-pg",
    dialect: "parley",
    host: "127.0.0.1",
    port,
    get pids() {
      return children.map((c) => c.pid);
    },
    get metricsUrls() {
      return metricsUrls.slice(0, children.length);
    },
    placement: `${o.processes} process${o.processes > 1 ? "es" : ""} on PostgreSQL${shared ? " + Redis, one port (SO_REUSEPORT)" : ""}, ${o.cpus === null ? "not pinned" : `cpus ${o.cpus}`}`,
    prepare(layout: Layout, status): Promise<Prepared> {
      return track(prepareFixture(layout, status));
    },
    restart(env) {
      return track(
        (async () => {
          await stopAll();
          await startAll(env);
        })(),
      );
    },
    stop: cleanup,
  };
}
