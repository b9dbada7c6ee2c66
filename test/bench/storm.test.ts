/**
 * The reconnect storm end to end, tiny: 2 rooms × 10 connections against a real Parley process; every connection
 * drops and resumes with since-seq while each room's sender keeps sending. A resume that skipped or repeated an
 * event, a connection that never came back, or broken seq accounting fails here.
 */
import { describe, expect, test } from "bun:test";
import { stormScenario } from "../../bench/scenarios/storm.ts";

const UNPINNED = { pinned: false, serverCpus: null, generatorCpus: null, generatorCores: 1 } as const;

describe("bench storm", () => {
  test("Parley: every connection resumes, nothing lost or duplicated", async () => {
    const out = await stormScenario.run({
      values: {
        users: "20",
        "room-size": "10",
        rate: "20",
        seconds: "4",
        "storm-at": "2",
        spread: "300",
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
  }, 30_000);
});
