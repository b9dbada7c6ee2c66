/**
 * Several processes appending to the same few PostgreSQL rooms at once: the shape of a room that is hot on every
 * process (afreeca-one-room, or afreeca-rooms with its rooms' members on all four processes). Each child process
 * opens a store of its own and runs `--writers` closed-loop appenders, spread over `--rooms` rooms. With `--busy`
 * each child also keeps its event loop busy for that fraction of every 10 ms, as a process fanning messages out
 * does: what a batch holds across a round trip to its process then waits for that process's turn.
 *
 * With `--rate N` each child appends open-loop instead, N a second spread evenly over its `--writers`
 * (`--writers` then only bounds how many may be waiting at once), as a server appends its clients' messages when
 * they come: the batches are as small as that rate makes them.
 *
 *   bun bench/profile/pg-hot-rooms.ts [--processes 4] [--writers 32] [--rooms 1] [--seconds 10] [--busy 0.5]
 *                                     [--rate 0] [--url postgres://postgres@127.0.0.1:5432/test]
 *
 * Prints one JSON line: rows/s over all processes, append latency p50/p99/max over all of them, the children's
 * CPU per append (only with `--busy 0` and no `--rate`: a busy loop's or a pacing loop's time is not the store's)
 * and PostgreSQL's (its processes' CPU from /proc over the children's whole run, their connections and warm-up
 * included, when PostgreSQL runs on this machine). A schema of its own is created and dropped.
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import { pidsNamed, sampleProc } from "../metrics/proc-stats.ts";
import { oneSenderRooms } from "./one-sender-rooms.ts";

const { values } = parseArgs({
  options: {
    processes: { type: "string", default: "4" },
    writers: { type: "string", default: "32" },
    rooms: { type: "string", default: "1" },
    seconds: { type: "string", default: "10" },
    busy: { type: "string", default: "0.5" },
    rate: { type: "string", default: "0" },
    url: {
      type: "string",
      default: process.env.PARLEY_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
    },
    child: { type: "string" },
    schema: { type: "string" },
  },
});
const url = values.url;

interface ChildResult {
  readonly appends: number;
  readonly cpuUs: number;
  /** Every append's latency in ms, for the parent's percentiles. */
  readonly latencies: number[];
}

async function child(index: number, schema: string): Promise<void> {
  const writers = Number(values.writers);
  const rooms = Number(values.rooms);
  const seconds = Number(values.seconds);
  const busy = Number(values.busy);
  const store = openPostgresStore({ url, schema });
  const busyTimer =
    busy > 0
      ? setInterval(() => {
          const until = performance.now() + busy * 10;
          while (performance.now() < until) {}
        }, 10)
      : null;
  let k = 0;
  const latencies: number[] = [];
  const append = (w: number) =>
    store.messages.append({
      id: `m-${index}-${++k}`,
      roomId: `room-${w % rooms}`,
      senderId: "u1",
      body: "a message of about sixty bytes, as the benchmarks send them",
      clientMsgId: `c-${index}-${k}`,
      createdAt: Date.now(),
    });
  // Warm-up: connections open.
  await Promise.all(Array.from({ length: writers }, (_, w) => append(w)));
  const rate = Number(values.rate);
  const cpu0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  if (rate > 0) await openLoop(rate, writers, end, append, latencies);
  else
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await append(w);
          latencies.push(performance.now() - t0);
        }
      }),
    );
  const cpu = process.cpuUsage(cpu0);
  if (busyTimer !== null) clearInterval(busyTimer);
  await store.close();
  const result: ChildResult = { appends: latencies.length, cpuUs: cpu.user + cpu.system, latencies };
  process.stdout.write(JSON.stringify(result));
}

/** `rate` appends a second until `end`, to the writers' rooms in turn; none sent while `writers` are waiting. */
async function openLoop(
  rate: number,
  writers: number,
  end: number,
  append: (w: number) => Promise<unknown>,
  latencies: number[],
): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  const start = performance.now();
  let sent = 0;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; sent < due && pending.size < writers; sent++) {
      const t0 = performance.now();
      const p: Promise<unknown> = append(sent % writers).then(() => {
        latencies.push(performance.now() - t0);
        pending.delete(p);
      });
      pending.add(p);
    }
    await Bun.sleep(1);
  }
  await Promise.all(pending);
}

/**
 * CPU seconds used by this machine's PostgreSQL processes from now until `stop`, read every 100 ms so that a
 * backend's time counts up to its last reading even when it ends first (the children's connections close before
 * `stop`); a backend started meanwhile counts from its start. Null where none can be read (a server elsewhere).
 */
function postgresCpu(): { stop(): number | null } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const read = (initial: boolean): void => {
    for (const pid of pidsNamed("postgres")) {
      const sample = sampleProc(pid);
      if (sample === null) continue;
      if (!first.has(pid)) first.set(pid, initial ? sample.cpuSeconds : 0);
      last.set(pid, sample.cpuSeconds);
    }
  };
  read(true);
  const timer = setInterval(() => read(false), 100);
  return {
    stop() {
      clearInterval(timer);
      read(false);
      if (last.size === 0) return null;
      let seconds = 0;
      for (const [pid, t] of last) seconds += t - (first.get(pid) ?? 0);
      return seconds;
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function parent(): Promise<void> {
  const processes = Number(values.processes);
  const rooms = Number(values.rooms);
  const seconds = Number(values.seconds);
  const schema = `parley_pg_hot_${process.pid}`;
  const store = openPostgresStore({ url, schema });
  try {
    await store.migrate();
    await oneSenderRooms(store, rooms);
    await store.close();
    const pg = postgresCpu();
    const children = Array.from({ length: processes }, (_, i) =>
      Bun.spawn(
        [
          process.execPath,
          import.meta.path,
          ...process.argv.slice(2),
          "--child",
          String(i),
          "--schema",
          schema,
        ],
        {
          stdout: "pipe",
          stderr: "inherit",
        },
      ),
    );
    const results = await Promise.all(
      children.map(async (c) => JSON.parse(await new Response(c.stdout).text()) as ChildResult),
    );
    const pgSeconds = pg.stop();
    const appends = results.reduce((s, r) => s + r.appends, 0);
    const sorted = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        processes,
        writers: Number(values.writers),
        rooms,
        busy: Number(values.busy),
        rowsPerSec: Math.round(appends / seconds),
        p50Ms: Number(percentile(sorted, 0.5).toFixed(2)),
        p99Ms: Number(percentile(sorted, 0.99).toFixed(2)),
        maxMs: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)),
        cpuUsPerAppend:
          Number(values.busy) > 0 || Number(values.rate) > 0
            ? null
            : Number((results.reduce((s, r) => s + r.cpuUs, 0) / appends).toFixed(1)),
        postgresCpuUsPerAppend: pgSeconds === null ? null : Number(((pgSeconds * 1e6) / appends).toFixed(1)),
      }),
    );
  } finally {
    const admin = postgres(url, { onnotice: () => {} });
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

if (values.child !== undefined && values.schema !== undefined)
  await child(Number(values.child), values.schema);
else await parent();
