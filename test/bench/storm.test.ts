/**
 * The reconnect storm end to end, tiny: 2 rooms × 10 connections against a real Parley process; every connection
 * drops and resumes with since-seq while each room's sender keeps sending. A resume that skipped or repeated an
 * event, a connection that never came back, or broken seq accounting fails here.
 */
import { describe, expect, test } from "bun:test";
import type { RunResult, SeriesPoint } from "../../bench/runner/run-load.ts";
import { generatorBoundSeconds, stormChecks, stormScenario } from "../../bench/scenarios/storm.ts";

const UNPINNED = { pinned: false, serverCpus: null, generatorCpus: null, generatorCores: 1 } as const;

describe("bench storm", () => {
  test.each(["reset", "close"])(
    "Parley, drop by %s: every connection resumes, nothing lost or duplicated",
    async (drop) => {
      const out = await stormScenario.run({
        values: {
          users: "20",
          "room-size": "10",
          rate: "20",
          seconds: "4",
          "storm-at": "2",
          spread: "300",
          drop,
          ephemeral: true,
          workers: "1",
        },
        placement: UNPINNED,
        status: () => {},
      });
      expect(out.notes.filter((n) => n.includes("skipped"))).toEqual([]);
      const run = out.runs[0]!;
      expect(run.connections.ready).toBe(20);
      expect(run.totals.resumed).toBe(20);
      expect(run.resumeMs?.count).toBe(20);
      // 2 rooms × 10 subscriptions, each stream followed to its room's last seq, no hole, no repeat, no reset.
      expect(run.seqTail).toEqual({ subscriptions: 20, behind: 0 });
      expect(run.totals.gaps).toBe(0);
      expect(run.totals.resets).toBe(0);
      expect(run.totals.duplicates).toBe(0);
      expect(run.totals.received).toBeGreaterThan(0);
      expect(out.checks.every((c) => c.ok !== false)).toBe(true);
      expect(out.options.drop).toBe(drop);
    },
    30_000,
  );

  test("an unknown drop mode is refused before anything starts", async () => {
    await expect(
      stormScenario.run({ values: { drop: "fin" }, placement: UNPINNED, status: () => {} }),
    ).rejects.toThrow("--drop must be reset or close");
  });
});

describe("storm verdict when the generator saturates", () => {
  const point = (t: number, generatorCpu: number): SeriesPoint => ({
    t,
    rate: 1,
    deliveriesPerSec: 0,
    p50Ms: 0,
    p99Ms: 0,
    serverCpu: 0.3,
    generatorCpu,
    serverRssBytes: 0,
  });
  // Storm at second 5 of the step; the generator is busy in series seconds 8 and 9 (indexes 7, 8) only.
  const series = [0.1, 0.1, 0.1, 0.1, 0.5, 0.6, 0.7, 0.99, 1.0, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1].map((c, i) =>
    point(i + 1, c),
  );
  const run = (lastResumeAfterMs: number): RunResult =>
    ({
      target: "parley",
      series,
      lastResumeAt: 1_000_000 + lastResumeAfterMs,
      totals: { resumed: 10, gaps: 0, resets: 0, duplicates: 0, received: 1, expected: 1 },
      connections: { requested: 10, opened: 10, ready: 10, failed: 0 },
      seqTail: { subscriptions: 10, behind: 0 },
      resumeMs: { count: 10, p50: 1, p95: 1, p99: 1, max: 1 },
    }) as unknown as RunResult;
  const start = { at: 1_000_000, second: 5, generatorCores: 1 };
  const resumeCheck = (r: RunResult) => stormChecks(r, start).find((c) => c.name.includes("last resume"))!;

  test("counts the saturated seconds between the storm and the last resume", () => {
    expect(generatorBoundSeconds(run(2_000), start, 2_000)).toBe(0);
    expect(generatorBoundSeconds(run(4_000), start, 4_000)).toBe(2);
    expect(generatorBoundSeconds(run(12_000), start, 12_000)).toBe(2);
  });

  test("a late resume behind a saturated generator is neither met nor failed", () => {
    const c = resumeCheck(run(12_000));
    expect(c.ok).toBeNull();
    expect(c.value).toContain("generator-bound");
  });

  test("a late resume with an idle generator fails; a timely one passes even if the generator was busy", () => {
    const idle = { ...start, second: 12 };
    expect(stormChecks(run(11_000), idle).find((c) => c.name.includes("last resume"))!.ok).toBe(false);
    const c = resumeCheck(run(4_000));
    expect(c.ok).toBe(true);
    expect(c.value).toContain("saturated in 2 s");
  });
});
