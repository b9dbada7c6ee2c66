/**
 * Preloaded into the Parley server by `idle-census.ts` (through BUN_OPTIONS, which the bench passes to the server
 * only). On SIGUSR2 the server takes a census and writes it as JSON to `$PARLEY_CENSUS_DIR/census-<pid>-<n>.json`
 * (n = 0, 1, … per signal); the file appears complete (written under a temporary name, then renamed).
 *
 * A census is, in this order: RSS; a full, synchronous collection (`Bun.gc(true)`) and RSS right after it; RSS
 * again `$PARLEY_CENSUS_SETTLE_MS` later (default 3,000), once the allocator has returned the pages the collection
 * freed; then the JSC heap's size and capacity and a heap snapshot folded into bytes and cells per class, so what
 * it counts is live data, not garbage. Taking the snapshot allocates a lot, which is why every RSS figure is read
 * before it. Cells of 64 KiB or more are listed with two levels of referrers ("Class.edge"), which is how one finds
 * the hash table of a big per-process Map and the field that holds it.
 *
 * This exists for profiling only and is never loaded by the server on its own.
 */
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { heapStats } from "bun:jsc";

/** Bytes and cell count of one class in a census. */
export interface ClassTotal {
  count: number;
  bytes: number;
}

export interface BigCell {
  readonly bytes: number;
  readonly className: string;
  /** "Class.edge <- Class.edge | …": who holds the cell, and who holds that. */
  readonly heldBy: string[];
}

export interface Census {
  readonly rssBeforeGc: number;
  readonly rssAfterGc: number;
  readonly rssSettled: number;
  readonly heapSize: number;
  readonly heapCapacity: number;
  readonly extraMemorySize: number;
  readonly objectCount: number;
  readonly byClass: Record<string, ClassTotal>;
  readonly bigCells: BigCell[];
}

const BIG_CELL_BYTES = 65_536;
/** Snapshot records: nodes are [id, size, classIndex, flags], edges [from, to, typeIndex, data]. */
const NODE = 4;
const EDGE = 4;

export async function takeCensus(settleMs: number): Promise<Census> {
  const rssBeforeGc = process.memoryUsage().rss;
  Bun.gc(true);
  const rssAfterGc = process.memoryUsage().rss;
  await Bun.sleep(settleMs);
  const rssSettled = process.memoryUsage().rss;
  const stats = heapStats();
  const { nodes, nodeClassNames, edges, edgeTypes, edgeNames } = Bun.generateHeapSnapshot();

  const byClass: Record<string, ClassTotal> = {};
  const classOf = new Map<number, string>();
  const big: number[] = [];
  for (let i = 0; i < nodes.length; i += NODE) {
    const className = nodeClassNames[nodes[i + 2]!] ?? "?";
    const bytes = nodes[i + 1]!;
    const total = byClass[className];
    if (total === undefined) byClass[className] = { count: 1, bytes };
    else {
      total.count++;
      total.bytes += bytes;
    }
    classOf.set(nodes[i]!, className);
    if (bytes >= BIG_CELL_BYTES) big.push(i);
  }

  // Referrers of the big cells, then of those referrers (at most four each).
  const referrers = new Map<number, { from: number; label: string }[]>();
  let wanted = new Set(big.map((i) => nodes[i]!));
  for (let level = 0; level < 2; level++) {
    const next = new Set<number>();
    for (let e = 0; e < edges.length; e += EDGE) {
      const to = edges[e + 1]!;
      if (!wanted.has(to)) continue;
      const list = referrers.get(to) ?? [];
      if (list.length >= 4) continue;
      const from = edges[e]!;
      const type = edgeTypes[edges[e + 2]!] ?? "?";
      const data = edges[e + 3]!;
      const edge = type === "Property" || type === "Variable" ? (edgeNames[data] ?? "?") : `${type}:${data}`;
      list.push({ from, label: `${classOf.get(from) ?? "?"}.${edge}` });
      referrers.set(to, list);
      next.add(from);
    }
    wanted = next;
  }
  const bigCells = big
    .map((i) => ({
      bytes: nodes[i + 1]!,
      className: nodeClassNames[nodes[i + 2]!] ?? "?",
      heldBy: (referrers.get(nodes[i]!) ?? []).map(({ from, label }) => {
        const up = (referrers.get(from) ?? []).map((r) => r.label);
        return up.length === 0 ? label : `${label} <- ${up.join(" | ")}`;
      }),
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 20);

  return {
    rssBeforeGc,
    rssAfterGc,
    rssSettled,
    heapSize: stats.heapSize,
    heapCapacity: stats.heapCapacity,
    extraMemorySize: stats.extraMemorySize,
    objectCount: stats.objectCount,
    byClass,
    bigCells,
  };
}

const dir = process.env.PARLEY_CENSUS_DIR;
const isServer = process.argv.some((a) => a.endsWith("cli.ts")) && process.argv.includes("start");
if (dir !== undefined && isServer) {
  let n = 0;
  const settleMs = Number(process.env.PARLEY_CENSUS_SETTLE_MS ?? 3000);
  process.on("SIGUSR2", async () => {
    const file = join(dir, `census-${process.pid}-${n++}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(await takeCensus(settleMs)));
    renameSync(`${file}.tmp`, file);
  });
}
