/**
 * What the bench reads about the store from Parley's processes at a step's edges (GET /metrics): the append
 * latency per message, and per group commit its own time and how late the process got to it
 * (src/ports/commit-timing.ts). One scrape per process per edge serves all three.
 *
 * The group-commit figures tell a slow disk or database (run) from a process busy elsewhere or not run (late):
 * a p99 over the step, and the slowest commit's bucket ("≤ bound"), since a stall of a second shows in one or two
 * commits, too few to move a p99.
 */
import {
  APPEND_SECONDS_METRIC,
  COMMIT_EXECUTE_SECONDS_METRIC,
  COMMIT_LATE_SECONDS_METRIC,
} from "../../src/adapters/metrics/prom-metrics.ts";
import {
  histogramQuantile,
  histogramSince,
  type PromHistogram,
  readHistogram,
  secondsToMs,
  sumHistograms,
} from "./prom-histogram.ts";
import { scrapeAll } from "./prom-text.ts";

/** The three store histograms, each summed over the processes; null where a process lacks one. */
export interface StoreScrape {
  readonly append: PromHistogram | null;
  readonly execute: PromHistogram | null;
  readonly late: PromHistogram | null;
}

/** Scrapes every process once; null when any process does not answer. */
export async function scrapeStore(urls: readonly string[]): Promise<StoreScrape | null> {
  const texts = await scrapeAll(urls);
  if (texts === null) return null;
  const sum = (name: string) => sumHistograms(texts.map((t) => readHistogram(t, name)));
  return {
    append: sum(APPEND_SECONDS_METRIC),
    execute: sum(COMMIT_EXECUTE_SECONDS_METRIC),
    late: sum(COMMIT_LATE_SECONDS_METRIC),
  };
}

/**
 * The upper bound (seconds) of the highest bucket that holds an observation: the slowest one took at most this
 * (+Infinity when it is past the last finite bound). NaN when the histogram is empty.
 */
export function maxBound(h: PromHistogram): number {
  let below = 0;
  let highest = Number.NaN;
  h.cumulative.forEach((upTo, i) => {
    if (upTo > below) highest = h.bounds[i] ?? Number.NaN;
    below = upTo;
  });
  return highest;
}

/** A step's group commits on every process (ms). */
export interface GroupCommits {
  readonly count: number;
  readonly runP99: number;
  /** The slowest commit's own time was at most this (its bucket's bound); null when past the last bound (30 s). */
  readonly runMax: number | null;
  readonly lateP99: number;
  /** As runMax, for the lateness. */
  readonly lateMax: number | null;
}

/**
 * The group commits between two scrapes, or null when either scrape failed, lacks the histograms (a build
 * before them), or a process restarted in between (its histograms started again from zero).
 */
export function groupCommitsOf(before: StoreScrape | null, after: StoreScrape | null): GroupCommits | null {
  if (before?.execute == null || before.late == null || after?.execute == null || after.late == null)
    return null;
  const run = histogramSince(after.execute, before.execute);
  const late = histogramSince(after.late, before.late);
  if (run === null || late === null) return null;
  // An empty step (no commit) reads 0; a slowest commit past the last bound has no upper bound to give.
  const bound = (h: PromHistogram) => {
    const b = maxBound(h);
    return b === Number.POSITIVE_INFINITY ? null : secondsToMs(b);
  };
  return {
    count: run.count,
    runP99: secondsToMs(histogramQuantile(run, 0.99)),
    runMax: bound(run),
    lateP99: secondsToMs(histogramQuantile(late, 0.99)),
    lateMax: bound(late),
  };
}
