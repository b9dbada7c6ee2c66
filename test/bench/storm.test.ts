/**
 * The reconnect storm end to end, tiny: 2 rooms × 10 connections against a real Parley process; every connection
 * drops and resumes with since-seq while each room's sender keeps sending. A resume that skipped or repeated an
 * event, a connection that never came back, or broken seq accounting fails here. With --notifications, every
 * connection follows /user/queue/notifications and must get notifications again on its reconnected socket.
 */
import { describe, expect, test } from "bun:test";
import type { RunResult, SeriesPoint } from "../../bench/runner/run-load.ts";
import { notificationsMode } from "../../bench/scenarios/common.ts";
import type { BenchOptions } from "../../bench/scenarios/scenario.ts";
import { generatorBoundSeconds, stormChecks, stormScenario } from "../../bench/scenarios/storm.ts";
import { UNPINNED } from "../support/unpinned.ts";

/** 2 rooms × 10 connections, 20 msg/s per room's sender, the storm at second 2 spread over 300 ms. */
const TINY = {
  users: "20",
  "room-size": "10",
  rate: "20",
  "storm-at": "2",
  spread: "300",
  ephemeral: true,
  workers: "1",
} as const;

describe("bench storm", () => {
  test.each(["reset", "close"])(
    "Parley, drop by %s: every connection resumes, nothing lost or duplicated",
    async (drop) => {
      const out = await stormScenario.run({
        values: { ...TINY, seconds: "4", drop },
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
      // Without the option nothing about notifications is asked for or reported.
      expect(run.totals.notifications).toBe(0);
      expect(run.notificationsAfterReconnect).toBeUndefined();
      expect(out.options).not.toHaveProperty("notifications");
      expect(out.checks.map((c) => c.name).join()).not.toContain("notifications");
      expect(out.notes.join()).not.toContain("notifications");
    },
    30_000,
  );

  test("Parley with --notifications: notifications resubscribed on every reconnect, the storm goals unchanged", async () => {
    const out = await stormScenario.run({
      values: { ...TINY, seconds: "5", notifications: true },
      placement: UNPINNED,
      status: () => {},
    });
    expect(out.notes.filter((n) => n.includes("skipped"))).toEqual([]);
    const run = out.runs[0]!;
    expect(run.connections.ready).toBe(20);
    expect(run.totals.resumed).toBe(20);
    expect(run.seqTail).toEqual({ subscriptions: 20, behind: 0 });
    expect(run.totals.gaps + run.totals.resets + run.totals.duplicates).toBe(0);
    // Only a SUBSCRIBE sent on the new socket can bring these: about 2 s of 2 senders × 9 other members × 20/s.
    expect(run.notificationsAfterReconnect).toBeGreaterThan(0);
    expect(run.totals.notifications).toBeGreaterThan(run.notificationsAfterReconnect!);
    // Never more than one per accepted message per other member (9 in each room of 10).
    expect(run.totals.notifications).toBeLessThanOrEqual((run.totals.sent - run.totals.rejected) * 9);
    const check = out.checks.find((c) => c.name.includes("notifications received"))!;
    expect(check.ok).toBeNull();
    expect(check.value).toContain(
      `${run.notificationsAfterReconnect!.toLocaleString("en")} of them on reconnected sockets`,
    );
    // The storm's own checks are the same ones as without the option, all met.
    expect(out.checks.filter((c) => c.ok !== null).map((c) => c.name)).toEqual([
      "parley: resumed",
      "parley: last resume after the storm began",
      "parley: lost events (holes inside streams + streams ending early)",
      "parley: duplicates",
    ]);
    expect(out.checks.every((c) => c.ok !== false)).toBe(true);
    expect(out.options.notifications).toBe("on");
    expect(out.notes.some((n) => n.includes("again on each reconnect"))).toBe(true);
  }, 30_000);

  test("--notifications is on as a bare flag or `on`, skip-followed as such, off when absent or `off`; anything else is refused", async () => {
    const with_ = (notifications?: string | boolean): BenchOptions => ({
      values: notifications === undefined ? {} : { notifications },
      placement: UNPINNED,
      status: () => {},
    });
    expect(notificationsMode(with_(true))).toBe("on");
    expect(notificationsMode(with_("on"))).toBe("on");
    expect(notificationsMode(with_("skip-followed"))).toBe("skip-followed");
    expect(notificationsMode(with_())).toBe("off");
    expect(notificationsMode(with_("off"))).toBe("off");
    expect(() => notificationsMode(with_("yes"))).toThrow("--notifications takes no value");
    // Refused before any server or generator starts.
    await expect(stormScenario.run(with_("1000"))).rejects.toThrow("--notifications takes no value");
    expect(stormScenario.options.notifications).toContain("again on every reconnect");
  });

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
