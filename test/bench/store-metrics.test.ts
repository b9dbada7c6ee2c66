/**
 * The bench's reading of the store's group commits from what the server's own metrics code writes: the commit's
 * own time and its lateness per step, as a p99 and the slowest commit's bucket, so a one-second stall that moves
 * no p99 still shows.
 */
import { describe, expect, test } from "bun:test";
import { readHistogram } from "../../bench/metrics/prom-histogram.ts";
import { groupCommitsOf, maxBound, type StoreScrape } from "../../bench/metrics/store-metrics.ts";
import {
  APPEND_SECONDS_METRIC,
  COMMIT_EXECUTE_SECONDS_METRIC,
  COMMIT_LATE_SECONDS_METRIC,
  PromMetrics,
} from "../../src/adapters/metrics/prom-metrics.ts";

/** A server's metrics after these group commits ([executeMs, lateMs] each), read as the bench reads a scrape. */
async function scrapeAfter(metrics: PromMetrics, commits: readonly [number, number][]): Promise<StoreScrape> {
  for (const [executeMs, lateMs] of commits)
    metrics.storeCommitted({ calls: 1, queuedMs: lateMs, lateMs, executeMs, committed: true });
  const text = (await metrics.render()).body;
  return {
    append: readHistogram(text, APPEND_SECONDS_METRIC),
    execute: readHistogram(text, COMMIT_EXECUTE_SECONDS_METRIC),
    late: readHistogram(text, COMMIT_LATE_SECONDS_METRIC),
  };
}

describe("store-metrics", () => {
  test("a step's group commits: p99 and the slowest one's bucket, for their own time and their lateness", async () => {
    const m = new PromMetrics();
    const before = await scrapeAfter(m, [[1000, 1000]]);
    // 199 ordinary commits and one the process got to 1.2 s late: too few to move a p99, but the slowest shows it.
    const ordinary = Array.from({ length: 199 }, (): [number, number] => [1.5, 0.2]);
    const after = await scrapeAfter(m, [...ordinary, [1.8, 1200]]);
    const g = groupCommitsOf(before, after);
    expect(g).not.toBeNull();
    expect(g!.count).toBe(200);
    expect(g!.runP99).toBeGreaterThan(1);
    expect(g!.runP99).toBeLessThanOrEqual(2);
    expect(g!.runMax).toBe(2);
    expect(g!.lateP99).toBeLessThanOrEqual(0.5);
    expect(g!.lateMax).toBe(2000);
  });

  test("a slowest commit past the last bound has no bound; an empty step reads 0", async () => {
    const m = new PromMetrics();
    const before = await scrapeAfter(m, []);
    const idle = groupCommitsOf(before, await scrapeAfter(m, []));
    expect(idle).toEqual({ count: 0, runP99: 0, runMax: 0, lateP99: 0, lateMax: 0 });
    const after = await scrapeAfter(m, [[45_000, 0.1]]);
    expect(groupCommitsOf(before, after)).toMatchObject({ count: 1, runMax: null, lateMax: 0.5 });
  });

  test("a failed scrape, a build without the histograms or a restarted process give null", async () => {
    const m = new PromMetrics();
    const one = await scrapeAfter(m, [[1, 1]]);
    const two = await scrapeAfter(m, [[1, 1]]);
    expect(groupCommitsOf(null, two)).toBeNull();
    expect(groupCommitsOf(one, null)).toBeNull();
    expect(groupCommitsOf({ ...one, execute: null }, two)).toBeNull();
    // A restarted process: its counts start again from zero, below the earlier scrape's.
    expect(groupCommitsOf(two, await scrapeAfter(new PromMetrics(), [[1, 1]]))).toBeNull();
  });

  test("maxBound is the bound of the highest bucket that gained an observation", async () => {
    const m = new PromMetrics();
    const s = await scrapeAfter(m, [
      [0.3, 0],
      [7, 0],
    ]);
    expect(maxBound(s.execute!)).toBe(0.0075);
    expect(maxBound(s.append!)).toBeNaN();
  });
});
