/**
 * The bench's reading of the servers' append-latency histogram: parsed from what the server's own metrics code
 * writes (not from a hand-written sample), summed over processes, differenced between scrapes, and its quantiles
 * interpolated within buckets.
 */
import { describe, expect, test } from "bun:test";
import {
  histogramQuantile,
  histogramSince,
  readHistogram,
  sumHistograms,
} from "../../bench/metrics/prom-histogram.ts";
import { scrapeStore } from "../../bench/metrics/store-metrics.ts";
import { APPEND_SECONDS_METRIC, PromMetrics } from "../../src/adapters/metrics/prom-metrics.ts";

async function scrapeOf(observations: readonly number[]): Promise<string> {
  const m = new PromMetrics();
  for (const s of observations) m.messageAppended(s);
  return (await m.render()).body;
}

describe("prom-histogram", () => {
  test("reads the server's histogram: count, sum and cumulative buckets ending in +Inf", async () => {
    const h = readHistogram(await scrapeOf([0.0004, 0.004, 0.004, 7]), APPEND_SECONDS_METRIC);
    expect(h).not.toBeNull();
    expect(h!.count).toBe(4);
    expect(h!.sum).toBeCloseTo(7.0084, 6);
    expect(h!.bounds.at(-1)).toBe(Number.POSITIVE_INFINITY);
    expect(h!.cumulative.at(-1)).toBe(4);
    expect(h!.cumulative[0]).toBe(1); // 0.4 ms ≤ 0.5 ms
    // Cumulative: never decreasing.
    for (let i = 1; i < h!.cumulative.length; i++)
      expect(h!.cumulative[i]!).toBeGreaterThanOrEqual(h!.cumulative[i - 1]!);
  });

  test("quantiles interpolate within the bucket; one in +Inf is the highest finite bound", async () => {
    // 100 observations: 50 in (2, 3] ms and 50 in (10, 15] ms.
    const obs = [...Array.from({ length: 50 }, () => 0.0025), ...Array.from({ length: 50 }, () => 0.012)];
    const h = readHistogram(await scrapeOf(obs), APPEND_SECONDS_METRIC)!;
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(0.003, 9); // the 50th is the last of the (2, 3] bucket
    expect(histogramQuantile(h, 0.25)).toBeCloseTo(0.0025, 9); // halfway through (2, 3]
    expect(histogramQuantile(h, 0.99)).toBeCloseTo(0.01 + 0.005 * (49 / 50), 9);
    // A saturated server's commits of 5–10 s are told apart from each other (the bounds go to 30 s)…
    const slow = readHistogram(await scrapeOf([9, 9]), APPEND_SECONDS_METRIC)!;
    expect(histogramQuantile(slow, 0.5)).toBeCloseTo(7.5, 9);
    // …and only past the last one do they read as that bound.
    const slower = readHistogram(await scrapeOf([40, 40]), APPEND_SECONDS_METRIC)!;
    expect(histogramQuantile(slower, 0.5)).toBe(30);
    const empty = readHistogram(await scrapeOf([]), APPEND_SECONDS_METRIC)!;
    expect(histogramQuantile(empty, 0.5)).toBeNaN();
  });

  test("sums processes and takes the difference of two scrapes", async () => {
    const a = readHistogram(await scrapeOf([0.001, 0.002]), APPEND_SECONDS_METRIC);
    const b = readHistogram(await scrapeOf([0.02]), APPEND_SECONDS_METRIC);
    const both = sumHistograms([a, b])!;
    expect(both.count).toBe(3);
    expect(both.sum).toBeCloseTo(0.023, 9);
    const later = readHistogram(await scrapeOf([0.001, 0.002, 0.2, 0.2]), APPEND_SECONDS_METRIC)!;
    const since = histogramSince(later, a!)!;
    expect(since.count).toBe(2);
    expect(histogramQuantile(since, 0.5)).toBeGreaterThan(0.1);
    expect(histogramQuantile(since, 0.5)).toBeLessThanOrEqual(0.2);
    // A process that restarted between the scrapes counts from zero again: no difference can be taken.
    expect(histogramSince(b!, later)).toBeNull();
  });

  test("a scrape without the histogram, a missing process or other bounds give null, never a made-up figure", async () => {
    expect(readHistogram("", APPEND_SECONDS_METRIC)).toBeNull();
    expect(readHistogram("# nothing here\nprocess_cpu_seconds_total 1\n", APPEND_SECONDS_METRIC)).toBeNull();
    const a = readHistogram(await scrapeOf([0.001]), APPEND_SECONDS_METRIC);
    expect(sumHistograms([a, null])).toBeNull();
    expect(sumHistograms([])).toBeNull();
    const other = readHistogram(
      `${APPEND_SECONDS_METRIC}_bucket{le="1"} 1\n${APPEND_SECONDS_METRIC}_bucket{le="+Inf"} 1\n${APPEND_SECONDS_METRIC}_sum 0.5\n${APPEND_SECONDS_METRIC}_count 1\n`,
      APPEND_SECONDS_METRIC,
    );
    expect(other?.count).toBe(1);
    expect(sumHistograms([a, other])).toBeNull();
    // Nothing listening: null, not an exception.
    expect(await scrapeStore(["http://127.0.0.1:9/metrics"])).toBeNull();
    expect(await scrapeStore([])).toBeNull();
  });
});
