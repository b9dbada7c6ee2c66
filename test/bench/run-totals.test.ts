/**
 * A run's totals count every send it made, not only those the generator's workers had reported in their last
 * periodic tick: the server's own count of committed messages (its metrics, read after the run) must equal the
 * messages the run says were accepted, and every one of them must be accounted as delivered to each member. A
 * step's rates count the sends of its own seconds, not those of the report before.
 */
import { expect, test } from "bun:test";
import { readHistogram } from "../../bench/metrics/prom-histogram.ts";
import { runLoad } from "../../bench/runner/run-load.ts";
import { oneSenderPerRoom, roomsOf, startTarget } from "../../bench/scenarios/common.ts";
import type { BenchOptions } from "../../bench/scenarios/scenario.ts";
import { APPEND_SECONDS_METRIC } from "../../src/adapters/metrics/prom-metrics.ts";
import { UNPINNED } from "../support/unpinned.ts";

test("the totals of a run cover its last second: accepted = what the server committed", async () => {
  const layout = roomsOf(2, 10);
  const o: BenchOptions = {
    values: { targets: "parley", ephemeral: true },
    placement: UNPINNED,
    status: () => {},
  };
  const target = await startTarget("parley", o, layout, {});
  try {
    const run = await runLoad({
      target,
      layout,
      status: () => {},
      sendRooms: oneSenderPerRoom(layout),
      messageSize: 64,
      // Two workers: each must answer the request for its counters.
      workers: 2,
      generatorCpus: null,
      generatorCores: 1,
      // 60 messages a second for one second: the workers' periodic report would miss about half of them.
      rates: [30],
      stepSeconds: 1,
      maxP99Ms: Number.POSITIVE_INFINITY,
      minDelivered: 0,
      drainSeconds: 5,
    });
    const scrape = await (await fetch(target.metricsUrls?.[0] ?? "")).text();
    const committed = readHistogram(scrape, APPEND_SECONDS_METRIC)?.count;
    expect(run.totals.accepted).toBeGreaterThan(40);
    expect(run.totals.accepted).toBe(committed ?? -1);
    expect(run.totals.expected).toBe(run.totals.accepted * 10);
    expect(run.totals.received).toBe(run.totals.expected);
    expect(run.totals.lost).toBe(0);
    expect(run.failures).toEqual([]);
    // The step's own rate counts the sends of its second too (the workers' periodic report alone gave about half).
    const step = run.steps[0];
    expect((step?.sentPerSec ?? 0) * (step?.seconds ?? 0)).toBeGreaterThan(40);
  } finally {
    await target.stop();
  }
}, 30_000);
