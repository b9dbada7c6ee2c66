/**
 * A histogram as Parley's processes report it at GET /metrics (PARLEY_METRICS_PORT), such as the store's append
 * latency (`parley_store_append_seconds`): read from the Prometheus text format, summed over processes, and the
 * difference of two scrapes, so a step's figures cover exactly what was observed within it (store-metrics.ts).
 *
 * Only the lines of the one named histogram are read (`name_bucket{le="…"} value`, `name_count`, `name_sum`); any
 * other line is skipped. Quantiles are interpolated within a bucket, as Prometheus's `histogram_quantile` does,
 * so they are as fine as the server's bucket bounds (0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50 ms and up,
 * APPEND_SECONDS_BUCKETS in src/adapters/metrics/prom-metrics.ts).
 */

import { sampleOf } from "./prom-text.ts";

export interface PromHistogram {
  /** Upper bounds in seconds, ascending; the last is +Infinity. */
  readonly bounds: readonly number[];
  /** Cumulative counts per bound (Prometheus buckets are cumulative). */
  readonly cumulative: readonly number[];
  readonly count: number;
  readonly sum: number;
}

/** The named histogram in a scrape, or null when the scrape has none (metrics of another version, say). */
export function readHistogram(text: string, name: string): PromHistogram | null {
  const buckets: [number, number][] = [];
  const bucketPrefix = `${name}_bucket{`;
  for (const line of text.split("\n")) {
    if (line.startsWith(bucketPrefix)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (le === undefined || !Number.isFinite(value)) continue;
      buckets.push([le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), value]);
    }
  }
  const count = sampleOf(text, `${name}_count`);
  const sum = sampleOf(text, `${name}_sum`);
  if (buckets.length === 0 || count === null || sum === null) return null;
  buckets.sort((a, b) => a[0] - b[0]);
  return { bounds: buckets.map((b) => b[0]), cumulative: buckets.map((b) => b[1]), count, sum };
}

/** Several processes' histograms as one; null if any is missing or their bounds differ. */
export function sumHistograms(all: readonly (PromHistogram | null)[]): PromHistogram | null {
  const first = all[0];
  if (first === undefined || first === null) return null;
  const cumulative = [...first.cumulative];
  let count = first.count;
  let sum = first.sum;
  for (const h of all.slice(1)) {
    if (
      h === null ||
      h.bounds.length !== first.bounds.length ||
      h.bounds.some((b, i) => b !== first.bounds[i])
    )
      return null;
    h.cumulative.forEach((c, i) => {
      cumulative[i] = (cumulative[i] ?? 0) + c;
    });
    count += h.count;
    sum += h.sum;
  }
  return { bounds: first.bounds, cumulative, count, sum };
}

/**
 * What was observed between two scrapes of the same processes (`after` − `before`); null when a count went down,
 * which means a process restarted in between and its histogram began again from zero.
 */
export function histogramSince(after: PromHistogram, before: PromHistogram): PromHistogram | null {
  const cumulative = after.cumulative.map((c, i) => c - (before.cumulative[i] ?? 0));
  const count = after.count - before.count;
  if (count < 0 || cumulative.some((c) => c < 0)) return null;
  return { bounds: after.bounds, cumulative, count, sum: after.sum - before.sum };
}

/**
 * The q-quantile in seconds, interpolated linearly within its bucket (the lower bound of the first bucket is 0);
 * a quantile in the +Inf bucket is the highest finite bound, a lower bound of the truth. NaN when empty.
 */
export function histogramQuantile(h: PromHistogram, q: number): number {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < h.bounds.length; i++) {
    const upTo = h.cumulative[i] ?? 0;
    if (upTo < rank) continue;
    const upper = h.bounds[i] ?? Number.POSITIVE_INFINITY;
    const lower = i === 0 ? 0 : (h.bounds[i - 1] ?? 0);
    if (upper === Number.POSITIVE_INFINITY) return lower;
    const below = i === 0 ? 0 : (h.cumulative[i - 1] ?? 0);
    const inBucket = upTo - below;
    return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
  }
  return h.bounds[h.bounds.length - 2] ?? Number.NaN;
}

/** Seconds as milliseconds to two decimals; an empty histogram's NaN (or any non-finite figure) reads 0. */
export function secondsToMs(seconds: number): number {
  return Number.isFinite(seconds) ? Math.round(seconds * 100_000) / 100 : 0;
}

/** The store's append latency over a step (ms), from the servers' own histogram (GET /metrics). */
export interface StoreCommit {
  /** Messages committed in the step's measured seconds, on every server process. */
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/**
 * The appends between two scrapes as a StoreCommit, or null when either scrape failed or a process restarted in
 * between (its histogram started again from zero, so the difference would mean nothing).
 */
export function storeCommitOf(before: PromHistogram | null, after: PromHistogram | null): StoreCommit | null {
  if (before === null || after === null) return null;
  const h = histogramSince(after, before);
  if (h === null) return null;
  return {
    count: h.count,
    mean: h.count > 0 ? secondsToMs(h.sum / h.count) : 0,
    p50: secondsToMs(histogramQuantile(h, 0.5)),
    p95: secondsToMs(histogramQuantile(h, 0.95)),
    p99: secondsToMs(histogramQuantile(h, 0.99)),
  };
}
