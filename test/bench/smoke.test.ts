/**
 * The load generator end to end, tiny: 2 rooms × 10 connections for 1 s against the bare STOMP peer and against
 * Parley (real server process on a random port, throw-away data directory). Every probe must arrive exactly once,
 * so a broken upgrade, login, subscribe, send patching, scanner or accounting fails here.
 */
import { describe, expect, test } from "bun:test";
import type { RunResult } from "../../bench/runner/run-load.ts";
import { smokeScenario } from "../../bench/scenarios/smoke.ts";
import { UNPINNED } from "../support/unpinned.ts";

async function smoke(target: "bare" | "parley"): Promise<RunResult> {
  const out = await smokeScenario.run({
    values: { targets: target, ephemeral: true, seconds: "1", rate: "30" },
    placement: UNPINNED,
    status: () => {},
  });
  expect(out.notes.filter((n) => n.includes("skipped"))).toEqual([]);
  expect(out.runs).toHaveLength(1);
  return out.runs[0]!;
}

function expectClean(run: RunResult): void {
  expect(run.connections).toEqual({ requested: 20, opened: 20, ready: 20, failed: 0 });
  // 2 senders × 30 msg/s for about 1 s (timer slack on a loaded machine allowed), each delivered to the 10
  // members of its room, sender included.
  expect(run.totals.sent).toBeGreaterThanOrEqual(20);
  expect(run.totals.rejected).toBe(0);
  expect(run.totals.expected).toBe(run.totals.accepted * 10);
  expect(run.totals.received).toBe(run.totals.expected);
  expect(run.totals.lost).toBe(0);
  expect(run.totals.duplicates).toBe(0);
  expect(run.latencyMs.count).toBe(run.totals.received);
  expect(run.latencyMs.p50).toBeGreaterThan(0);
  expect(run.steps).toHaveLength(1);
  expect(run.series.length).toBeGreaterThanOrEqual(1);
}

describe("bench smoke", () => {
  test("bare STOMP peer: every probe delivered once", async () => {
    const run = await smoke("bare");
    expectClean(run);
    // No store, no metrics listener: nothing to report, rather than a made-up zero.
    expect(run.steps[0]?.storeCommitMs).toBeNull();
    expect(run.steps[0]?.groupCommits).toBeNull();
    expect(run.serverRateLimited).toBeNull();
  }, 30_000);

  test("Parley: every probe delivered once, and the step reports the store's commit latency and its process", async () => {
    const run = await smoke("parley");
    expectClean(run);
    const step = run.steps[0]!;
    // Read from the server's own histogram at the step's edges: the step's commits, each at most what was accepted.
    const commit = step.storeCommitMs;
    expect(commit).not.toBeNull();
    expect(commit!.count).toBeGreaterThan(0);
    expect(commit!.count).toBeLessThanOrEqual(run.totals.accepted);
    expect(commit!.p50).toBeGreaterThan(0);
    expect(commit!.p99).toBeGreaterThanOrEqual(commit!.p50);
    // The group commits that carried them (and the search index's, about one a second), each with its own time.
    const groups = step.groupCommits;
    expect(groups).not.toBeNull();
    expect(groups!.count).toBeGreaterThan(0);
    expect(groups!.count).toBeLessThanOrEqual(commit!.count + 5);
    expect(groups!.runP99).toBeGreaterThan(0);
    expect(groups!.runMax).not.toBeNull();
    expect(groups!.runMax!).toBeGreaterThanOrEqual(groups!.runP99);
    expect(step.serverProcesses).toHaveLength(1);
    // The bench lifts every rate budget: the server refused nothing, and says so (0, not "unknown").
    expect(run.serverRateLimited).toBe(0);
    expect(step.serverProcesses[0]!.peakRssBytes).toBeGreaterThan(0);
  }, 30_000);
});
