/**
 * Store: commit latency and throughput of message appends through the Store port itself (no HTTP, no WebSocket):
 * an open-loop 5k msg/s phase on SQLite, then the same on PostgreSQL (own schema, dropped afterwards), then a
 * closed-loop maximum-throughput phase on PostgreSQL with `--writers` appenders, each waiting for its append
 * to commit before making the next, as a sender waits for its RECEIPT. Both adapters group concurrent appends
 * into shared transactions (group commit), so an append's latency includes waiting for its batch, and the
 * closed loop's throughput depends on how many appends are in flight: at most `--writers`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { ulidIds } from "../../src/adapters/ids/ulid-ids.ts";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import { openSqliteStore } from "../../src/adapters/store/sqlite/open-sqlite-store.ts";
import type { Store } from "../../src/ports/store.ts";
import { Histogram } from "../metrics/histogram.ts";
import type { Check } from "../report/result.ts";
import type { Status } from "../runner/status.ts";
import { num } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
/**
 * Closed-loop appenders on PostgreSQL. 512 = two full batches (the adapter commits up to 256 appends per
 * batch, two batches at once), so the closed loop measures the database rather than a lack of appends in
 * flight; the earlier default, 64, stays available as `--writers 64` for comparison with older reports.
 */
const DEFAULT_WRITERS = 512;

interface Phase {
  readonly store: string;
  readonly mode: string;
  readonly offeredPerSec: number | null;
  readonly rowsPerSec: number;
  readonly commits: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

async function fixture(store: Store, rooms: number): Promise<{ userId: string; roomIds: string[] }> {
  const ids = ulidIds();
  const now = Date.now();
  const userId = ids.next();
  await store.users.create({
    id: userId,
    username: `bench${userId.slice(-8).toLowerCase()}`,
    email: `${userId.toLowerCase()}@bench.invalid`,
    displayName: "bench",
    passwordHash: "x",
    role: "user",
    createdAt: now,
  });
  const roomIds: string[] = [];
  for (let r = 0; r < rooms; r++) {
    const room = await store.rooms.create(
      { id: ids.next(), kind: "group", name: `bench-${r}`, topic: "", ownerId: userId, createdAt: now },
      [{ userId, role: "owner" }],
    );
    roomIds.push(room.id);
  }
  return { userId, roomIds };
}

function summarize(
  store: string,
  mode: string,
  offered: number | null,
  h: Histogram,
  errors: number,
  seconds: number,
): Phase {
  return {
    store,
    mode,
    offeredPerSec: offered,
    rowsPerSec: Math.round(h.count / seconds),
    commits: h.count,
    errors,
    p50Ms: Math.round(h.quantile(0.5) / 10) / 100,
    p99Ms: Math.round(h.quantile(0.99) / 10) / 100,
    maxMs: Math.round(h.max / 10) / 100,
  };
}

/** Offers `rate` appends per second for `seconds`, never waiting for one to finish before starting the next. */
async function openLoop(
  store: Store,
  name: string,
  rate: number,
  seconds: number,
  status: Status,
): Promise<Phase> {
  const { userId, roomIds } = await fixture(store, 50);
  const ids = ulidIds();
  const h = new Histogram();
  let errors = 0;
  let issued = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  const body = "x".repeat(64);
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; issued < due; issued++) {
      const t = performance.now();
      const p: Promise<void> = store.messages
        .append({
          id: ids.next(),
          roomId: roomIds[issued % roomIds.length]!,
          senderId: userId,
          body,
          clientMsgId: null,
          createdAt: Date.now(),
        })
        .then(
          () => h.record((performance.now() - t) * 1000),
          () => {
            errors++;
          },
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    status(`[store] ${name} open loop ${rate}/s: ${h.count} committed, ${inflight.size} in flight`);
    await Bun.sleep(2);
  }
  await Promise.all(inflight);
  return summarize(name, "open loop", rate, h, errors, (performance.now() - start) / 1000);
}

/** `writers` appenders back to back for `seconds`, each in its own room: the most rows/s this store takes. */
async function closedLoop(
  store: Store,
  name: string,
  writers: number,
  seconds: number,
  status: Status,
): Promise<Phase> {
  const { userId, roomIds } = await fixture(store, writers);
  const ids = ulidIds();
  const h = new Histogram();
  let errors = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  const body = "x".repeat(64);
  const ticker = setInterval(
    () => status(`[store] ${name} closed loop ×${writers}: ${h.count} committed`),
    1000,
  );
  await Promise.all(
    Array.from({ length: writers }, async (_, k) => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          await store.messages.append({
            id: ids.next(),
            roomId: roomIds[k]!,
            senderId: userId,
            body,
            clientMsgId: null,
            createdAt: Date.now(),
          });
          h.record((performance.now() - t) * 1000);
        } catch {
          errors++;
        }
      }
    }),
  );
  clearInterval(ticker);
  return summarize(name, `closed loop ×${writers}`, null, h, errors, (performance.now() - start) / 1000);
}

export const storeScenario: Scenario = {
  name: "store",
  summary:
    "message appends through the Store port: 5k msg/s on SQLite then PostgreSQL (commit latency), then PostgreSQL max rows/s",
  options: { rate: "5000", seconds: "5", writers: String(DEFAULT_WRITERS), "database-url": DEFAULT_PG_URL },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const rate = num(o, "rate", 5000);
    const seconds = num(o, "seconds", 5);
    // --concurrency is the option's earlier name, still accepted.
    const writers = num(o, "writers", num(o, "concurrency", DEFAULT_WRITERS));
    const dbUrl = o.values["database-url"];
    const PG_URL = typeof dbUrl === "string" ? dbUrl : DEFAULT_PG_URL;
    const phases: Phase[] = [];
    const notes: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-store-"));
    const sqlite = openSqliteStore({ path: join(dir, "bench.db") });
    try {
      await sqlite.migrate();
      phases.push(await openLoop(sqlite, "sqlite", rate, seconds, o.status));
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const schema = `parley_bench_${Date.now().toString(36)}`;
    const pg = openPostgresStore({ url: PG_URL, schema, maxConnections: 20 });
    try {
      await pg.migrate();
      phases.push(await openLoop(pg, "postgres", rate, seconds, o.status));
      phases.push(await closedLoop(pg, "postgres", writers, seconds, o.status));
    } catch (e) {
      notes.push(`postgres: skipped — ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await pg.close();
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await sql.end();
    }
    const sq = phases.find((p) => p.store === "sqlite");
    const pgMax = phases.find((p) => p.store === "postgres" && p.offeredPerSec === null);
    const checks: Check[] = [
      {
        name: `sqlite p99 commit at ${rate}/s`,
        value: sq ? `${sq.p99Ms} ms (${sq.rowsPerSec}/s done)` : "–",
        goal: "≤ 20 ms",
        ok: sq ? sq.p99Ms <= 20 && sq.rowsPerSec >= rate * 0.95 : null,
      },
      {
        name: "postgres rows/s",
        value: pgMax ? `${pgMax.rowsPerSec.toLocaleString("en")} (${writers} writers, group commit)` : "–",
        goal: "≥ 20,000 batched",
        ok: pgMax ? pgMax.rowsPerSec >= 20_000 : null,
      },
    ];
    return {
      title: "Store: message append commit latency and throughput",
      options: { rate, seconds, writers },
      runs: [],
      checks,
      measurements: { phases },
      notes: [
        ...notes,
        "The Store port appends one message per call; both adapters commit concurrent calls together (group commit), so the closed loop's rows/s rises with --writers until the database, not the number in flight, is the limit.",
      ],
    };
  },
};
