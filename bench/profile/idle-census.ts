/**
 * What Parley's server keeps per idle connection, by JavaScript class: the `idle` scenario's connections (same
 * layout, fixture, placement and generator) against one server process, with a heap census of the server before
 * and after they open. Prints, per ready connection, the bytes and cells each class gained, the heap's live size
 * and capacity, and RSS growth: as the scenario measures it (before any collection), right after a full
 * collection, and `--settle` seconds later (once the allocator has returned the pages the collection freed).
 *
 *   bun bench/profile/idle-census.ts [--connections 19000] [--room-size 100] [--settle 3] [--json FILE]
 *
 * The census is `idle-census-preload.ts`, preloaded into the server through BUN_OPTIONS and triggered by SIGUSR2.
 * Every figure is against the census taken before the connections, i.e. against a collected heap, so the first
 * one is close to but not exactly the scenario's (whose "before" is not collected); compare runs of this tool with
 * each other.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LOCAL_ADDRESSES, WorkerPool } from "../runner/pool.ts";
import { roomsOf } from "../scenarios/common.ts";
import { startParley } from "../targets/parley.ts";
import type { ConnSpec } from "../worker/messages.ts";
import type { Census } from "./idle-census-preload.ts";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "19000" },
    "room-size": { type: "string", default: "100" },
    settle: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const connections = Number(values.connections);
const roomSize = Math.max(1, Number(values["room-size"]));
const settleMs = Number(values.settle) * 1000;

const dir = mkdtempSync(join(tmpdir(), "parley-census-"));
const layout = roomsOf(Math.max(1, Math.ceil(connections / roomSize)), roomSize);
const target = await startParley(layout, {
  cpus: "0",
  env: {
    BUN_OPTIONS: `--preload ${join(import.meta.dir, "idle-census-preload.ts")}`,
    PARLEY_CENSUS_DIR: dir,
    PARLEY_CENSUS_SETTLE_MS: String(settleMs),
  },
});
let taken = 0;
async function census(): Promise<Census> {
  // Read at each census: a run that has to create its fixture restarts the server on it (parley.ts).
  const pid = target.pids[0]!;
  const file = join(dir, `census-${pid}-${taken++}.json`);
  process.kill(pid, "SIGUSR2");
  while (!existsSync(file)) await Bun.sleep(100);
  return JSON.parse(readFileSync(file, "utf8")) as Census;
}

let pool: WorkerPool | null = null;
try {
  const prepared = await target.prepare(layout, (line) => console.log(line));
  const conns: ConnSpec[] = layout.connRooms.map((rooms, i) => ({
    rooms,
    sendRoom: -1,
    phase: 0,
    token: prepared.tokens?.[i] ?? "",
  }));
  const sizes = Array.from({ length: layout.rooms }, () => 0);
  for (const rooms of layout.connRooms) for (const r of rooms) sizes[r]!++;

  await Bun.sleep(1000);
  const before = await census();
  pool = await WorkerPool.start({
    workers: Math.max(2, Math.ceil(connections / 15_000)),
    cpus: "1",
    host: target.host,
    port: target.port,
    dialect: target.dialect,
    conns,
    roomIds: prepared.roomIds,
    roomSize: sizes,
    messageSize: 64,
    localAddresses: LOCAL_ADDRESSES,
  });
  pool.open();
  const { ready, failed } = await pool.waitOpen(conns.length, (t) =>
    console.log(`connecting: ${t.ready}/${conns.length} ready, ${t.failed} failed`),
  );
  await Bun.sleep(500);
  const after = await census();

  const per = (bytes: number): string => Math.round(bytes / ready).toLocaleString("en");
  console.log(`\n${ready} connections ready, ${failed} failed; per connection:`);
  console.log(`  RSS as the scenario measures it    ${per(after.rssBeforeGc - before.rssSettled)} B`);
  console.log(`  RSS right after a full collection  ${per(after.rssAfterGc - before.rssSettled)} B`);
  console.log(
    `  RSS ${values.settle} s later                    ${per(after.rssSettled - before.rssSettled)} B`,
  );
  console.log(
    `  JS heap live / capacity            ${per(after.heapSize - before.heapSize)} B / ${per(after.heapCapacity - before.heapCapacity)} B`,
  );
  console.log(
    `  cells                              ${((after.objectCount - before.objectCount) / ready).toFixed(1)}`,
  );

  const rows: { name: string; count: number; bytes: number }[] = [];
  for (const name of new Set([...Object.keys(before.byClass), ...Object.keys(after.byClass)])) {
    const b = before.byClass[name] ?? { count: 0, bytes: 0 };
    const a = after.byClass[name] ?? { count: 0, bytes: 0 };
    rows.push({ name, count: (a.count - b.count) / ready, bytes: (a.bytes - b.bytes) / ready });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  console.log(`\n  ${"class".padEnd(32)} ${"cells".padStart(7)} ${"bytes".padStart(7)}`);
  for (const r of rows) {
    if (Math.abs(r.bytes) < 2 && Math.abs(r.count) < 0.05) continue;
    console.log(`  ${r.name.padEnd(32)} ${r.count.toFixed(2).padStart(7)} ${r.bytes.toFixed(0).padStart(7)}`);
  }
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`  ${"total".padEnd(32)} ${"".padStart(7)} ${total.toFixed(0).padStart(7)}`);

  console.log("\nCells of 64 KiB or more after the connections opened, and who holds them:");
  for (const cell of after.bigCells)
    console.log(
      `  ${cell.bytes.toLocaleString("en").padStart(10)} B ${cell.className}: ${cell.heldBy[0] ?? "?"}`,
    );

  if (values.json !== undefined) await Bun.write(values.json, JSON.stringify({ ready, before, after }));
} finally {
  await pool?.close();
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
