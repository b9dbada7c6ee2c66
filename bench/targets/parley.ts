/**
 * Parley as a target: `bun src/cli.ts start` with bench-only settings (cheap argon2, long-lived tokens, raised rate
 * limits, quiet logs), plus the fixture — users and rooms created over the REST API and cached (tokens and ids)
 * next to the data directory, so a second run with the same layout starts in seconds.
 */
import { createHash } from "node:crypto";
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
import { pin } from "../runner/cpus.ts";
import { type Child, spawnChild } from "../runner/child.ts";
import { type Layout, type Prepared, roomMembers, type Target } from "./target.ts";

const REPO = join(import.meta.dir, "../..");
const CACHE_ROOT = "/tmp/parley-bench";
const JWT_SECRET = "parley-bench-only-secret-0123456789abcdef";
/** Fixture tokens are valid for a day; a cached fixture older than this is rebuilt. */
const FIXTURE_MAX_AGE_MS = 20 * 3600_000;
const INITIAL_MEMBERS = 99;
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

export interface Fixture {
  readonly key: string;
  readonly createdAt: number;
  /** The data directory (SQLite file) these users and rooms live in. */
  readonly dataDir: string;
  readonly tokens: string[];
  readonly roomIds: string[];
}

export function benchEnv(dataDir: string, port: number): Record<string, string> {
  return {
    PARLEY_HOST: "0.0.0.0",
    PARLEY_PORT: String(port),
    PARLEY_DATA_DIR: dataDir,
    PARLEY_JWT_SECRET: JWT_SECRET,
    PARLEY_ACCESS_TOKEN_TTL: "86400",
    PARLEY_ARGON2_MEMORY_KIB: "1024",
    PARLEY_ARGON2_TIME_COST: "1",
    PARLEY_WS_SEND_RATE: "100000",
    PARLEY_WS_SEND_BURST: "100000",
    // No per-room cap unless a scenario measures one (afreeca-one-room): fan-out ramps past the default.
    PARLEY_ROOM_SEND_RATE: "0",
    PARLEY_LOGIN_IP_MAX_FAILURES: "100000",
    PARLEY_LOG_LEVEL: "warn",
  };
}

export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.ok) return (await res.json()) as T;
    const text = await res.text();
    if (res.status === 429 && attempt < 20) {
      await Bun.sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
      continue;
    }
    throw new Error(`POST ${url} → ${res.status}: ${text.slice(0, 300)}`);
  }
}

async function pooled<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Users (one per connection, each with a token) and rooms with their members, created over the REST API. */
export async function createFixture(
  api: string,
  layout: Layout,
  key: string,
  dataDir: string,
  status: (l: string) => void,
): Promise<Fixture> {
  const n = layout.connRooms.length;
  const tag = key.slice(0, 6);
  let done = 0;
  const users = await pooled(n, 16, async (i) => {
    const r = await postJson<{ accessToken: string; user: { id: string } }>(`${api}/auth/signup`, {
      username: `b${tag}${i}`,
      email: `b${tag}${i}@bench.invalid`,
      password: "bench-password-1",
    });
    if (++done % 500 === 0) status(`fixture: ${done}/${n} users`);
    return { id: r.user.id, token: r.accessToken };
  });
  const members = roomMembers(layout);
  const roomIds = await pooled(layout.rooms, 8, async (r) => {
    const m = members[r] ?? [];
    const creator = users[m[0] ?? 0]!;
    const ids = m.slice(1).map((c) => users[c]!.id);
    const res = await postJson<{ room: { id: string } }>(
      `${api}/rooms`,
      { name: `bench-${r}`, memberIds: ids.slice(0, INITIAL_MEMBERS) },
      creator.token,
    );
    // Large rooms (one room of thousands) get the rest of their members a few requests at a time.
    const rest = ids.slice(INITIAL_MEMBERS);
    let added = 0;
    await pooled(rest.length, 8, async (k) => {
      await postJson(`${api}/rooms/${res.room.id}/members`, { userId: rest[k]! }, creator.token);
      if (++added % 1000 === 0) status(`fixture: room ${r}: ${added + INITIAL_MEMBERS + 1} members`);
    });
    return res.room.id;
  });
  status(`fixture: ${n} users, ${layout.rooms} rooms created`);
  return { key, createdAt: Date.now(), dataDir, tokens: users.map((u) => u.token), roomIds };
}

export async function startParley(layout: Layout, opts: ParleyOptions): Promise<Target> {
  const key = createHash("sha256")
    .update(JSON.stringify(layout.connRooms))
    .update(opts.cacheTag ?? "")
    .digest("hex")
    .slice(0, 16);
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
  const port = await freePort();
  const env = { ...benchEnv(dataDir, port), ...opts.env };
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
    placement: opts.cpus === null ? "not pinned" : `cpus ${opts.cpus}`,
    async prepare(l, status): Promise<Prepared> {
      if (cached) {
        status(`fixture: reusing ${fixturePath}`);
        return { roomIds: cached.roomIds, tokens: cached.tokens };
      }
      const f = await createFixture(api, l, key, dataDir, status);
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
          if (d.startsWith("data-") && join(dir, d) !== dataDir) rmSync(join(dir, d), { recursive: true, force: true });
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
