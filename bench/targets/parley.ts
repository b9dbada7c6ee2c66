/**
 * Parley as a target: `bun src/cli.ts start` with bench-only settings (cheap argon2, long-lived tokens, raised rate
 * limits, quiet logs), plus the fixture — users and rooms created over the REST API and cached (tokens and ids)
 * next to the data directory, so a second run with the same layout starts in seconds.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS } from "../../src/adapters/store/sqlite/migrations.ts";
import { type Child, spawnChild } from "../runner/child.ts";
import { pin } from "../runner/cpus.ts";
import { benchEnv, FIXTURE_MAX_AGE_MS, metricsUrl } from "./bench-env.ts";
import { createFixture, type FixtureData, fixtureKey, migrationsTag } from "./fixture.ts";
import { freePorts } from "./free-port.ts";
import type { Layout, Prepared, Target } from "./target.ts";

const REPO = join(import.meta.dir, "../..");
const CACHE_ROOT = "/tmp/parley-bench";
/**
 * The fixture's database as it was right after the fixture was made, next to fixture.json. Every run starts from a
 * copy of it: a run's messages would otherwise stay in the cached database, and each later run would start with
 * more history, more unread messages per user and a larger file than the one before — not the same workload.
 */
const SNAPSHOT = "fixture.db";
const DB_FILE = "parley.db";

export interface ParleyOptions {
  readonly cpus: string | null;
  /** Extra PARLEY_* settings for this scenario. */
  readonly env?: Record<string, string>;
  /** Distinguishes fixture caches of different stores or settings. */
  readonly cacheTag?: string;
  /** Fresh data directory and fixture even when a cached one exists. */
  readonly fresh?: boolean;
  /** A throw-away data directory, no fixture cache, everything removed on stop (for tests). */
  readonly ephemeral?: boolean;
}

/** fixture.json: the fixture and the data directory (SQLite file) its users and rooms live in. */
interface Fixture extends FixtureData {
  readonly dataDir: string;
}

export async function startParley(layout: Layout, opts: ParleyOptions): Promise<Target> {
  // The SQLite migrations are part of the key: a snapshot made by a build of a newer schema would stop an older
  // build (an A/B between them), and one of an older schema would be migrated at every start.
  const key = fixtureKey(layout, opts.cacheTag ?? "", migrationsTag(MIGRATIONS));
  const dir = join(CACHE_ROOT, key);
  const fixturePath = join(dir, "fixture.json");
  const snapshotPath = join(dir, SNAPSHOT);
  let cached: Fixture | null = null;
  if (!opts.fresh && !opts.ephemeral && existsSync(fixturePath) && existsSync(snapshotPath)) {
    const f = JSON.parse(readFileSync(fixturePath, "utf8")) as Fixture;
    if (f.key === key && Date.now() - f.createdAt < FIXTURE_MAX_AGE_MS && existsSync(f.dataDir)) cached = f;
  }
  const dataDir = cached
    ? cached.dataDir
    : opts.ephemeral
      ? mkdtempSync(join(tmpdir(), "parley-bench-"))
      : join(dir, `data-${Date.now()}`);
  mkdirSync(dataDir, { recursive: true });
  if (cached) {
    // Back to the fixture as made; a WAL or shared-memory file left by an earlier run belongs to the old file.
    for (const f of [`${DB_FILE}-wal`, `${DB_FILE}-shm`]) rmSync(join(dataDir, f), { force: true });
    copyFileSync(snapshotPath, join(dataDir, DB_FILE));
  }
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const env = { ...benchEnv(dataDir, port, metricsPort), ...opts.env };
  const spawn = async (): Promise<Child> => {
    const c = await spawnChild(
      [process.execPath, join(REPO, "src/cli.ts"), "start"],
      {
        port,
        probe: async () => {
          try {
            return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
          } catch {
            return false;
          }
        },
      },
      { env, cwd: REPO, timeoutMs: 30_000 },
    );
    await pin(c.pid, opts.cpus);
    return c;
  };
  let child = await spawn();
  // Mutated in place when the process is replaced: the runner samples whatever pid is current.
  const pids = [child.pid];
  const api = `http://127.0.0.1:${port}/api/v1`;
  return {
    name: "parley",
    dialect: "parley",
    host: "127.0.0.1",
    port,
    pids,
    metricsUrls: [metricsUrl(metricsPort)],
    placement: opts.cpus === null ? "not pinned" : `cpus ${opts.cpus}`,
    async prepare(l, status): Promise<Prepared> {
      if (cached) {
        status(`fixture: reusing ${fixturePath}`);
        return { roomIds: cached.roomIds, tokens: cached.tokens };
      }
      const f: Fixture = { ...(await createFixture(api, l, key, status)), dataDir };
      if (!opts.ephemeral) writeFileSync(fixturePath, JSON.stringify(f));
      // Creating the fixture (thousands of signups) leaves its garbage in the server's heap, which would count
      // against the run's "RSS before" (and so make memory per connection look smaller). Every run therefore
      // starts from a freshly started process, as it does when the fixture was cached.
      status("fixture created: restarting the server on it");
      await child.stop();
      // A clean stop checkpoints the WAL into the file; without that, no snapshot (the next run rebuilds).
      if (!opts.ephemeral && !existsSync(join(dataDir, `${DB_FILE}-wal`))) {
        copyFileSync(join(dataDir, DB_FILE), snapshotPath);
        // Data directories of fixtures this one replaces are never read again.
        for (const d of readdirSync(dir)) {
          if (d.startsWith("data-") && join(dir, d) !== dataDir)
            rmSync(join(dir, d), { recursive: true, force: true });
        }
      }
      child = await spawn();
      pids[0] = child.pid;
      return { roomIds: f.roomIds, tokens: f.tokens };
    },
    async stop() {
      await child.stop();
      if (opts.ephemeral) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
