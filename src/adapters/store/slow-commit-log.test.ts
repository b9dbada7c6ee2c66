import { describe, expect, test } from "bun:test";
import type { CommitTiming } from "../../ports/commit-timing.ts";
import { SlowCommitLog } from "./slow-commit-log.ts";

type Line = { fields: Record<string, unknown>; msg: string };

function harness(thresholdMs = 100, intervalMs = 1000) {
  const lines: Line[] = [];
  let now = 10_000;
  const log = new SlowCommitLog(
    { warn: (fields, msg) => lines.push({ fields, msg }) },
    { thresholdMs, intervalMs, now: () => now },
  );
  return {
    lines,
    log,
    advance(ms: number) {
      now += ms;
    },
  };
}

const timing = (over: Partial<CommitTiming>): CommitTiming => ({
  calls: 1,
  queuedMs: 0,
  lateMs: 0,
  executeMs: 0,
  committed: true,
  ...over,
});

describe("SlowCommitLog", () => {
  test("a commit under the threshold is not logged; at the threshold it is, with where its time went", () => {
    const { lines, log } = harness(100);
    log.observe(timing({ queuedMs: 60, executeMs: 39.9 }));
    expect(lines).toEqual([]);
    log.observe(timing({ calls: 7, queuedMs: 80.04, lateMs: 75.26, executeMs: 20, committed: false }));
    expect(lines).toEqual([
      {
        msg: "slow store commit",
        fields: {
          calls: 7,
          totalMs: 100,
          queuedMs: 80,
          lateMs: 75.3,
          executeMs: 20,
          committed: false,
          slowCommits: 1,
          thresholdMs: 100,
        },
      },
    ]);
  });

  test("within the interval the slow commits are held, then logged as one line: the slowest, and how many", async () => {
    const { lines, log, advance } = harness(10, 40);
    log.observe(timing({ executeMs: 12 }));
    expect(lines.length).toBe(1);
    advance(5);
    log.observe(timing({ executeMs: 30, calls: 3 }));
    log.observe(timing({ queuedMs: 900, lateMs: 880, executeMs: 1, calls: 2 }));
    log.observe(timing({ executeMs: 11 }));
    expect(lines.length).toBe(1);
    advance(40);
    await Bun.sleep(80);
    expect(lines.length).toBe(2);
    expect(lines[1]?.fields).toMatchObject({ calls: 2, totalMs: 901, lateMs: 880, slowCommits: 3 });
    // Nothing more is held: no further line without another slow commit.
    await Bun.sleep(80);
    expect(lines.length).toBe(2);
  });

  test("the first slow commit after a quiet interval is logged at once", () => {
    const { lines, log, advance } = harness(10, 1000);
    log.observe(timing({ executeMs: 50 }));
    advance(1000);
    log.observe(timing({ executeMs: 60 }));
    expect(lines.map((l) => l.fields.executeMs)).toEqual([50, 60]);
    expect(lines.map((l) => l.fields.slowCommits)).toEqual([1, 1]);
  });

  test("close logs what is held at once, and only once", () => {
    const { lines, log, advance } = harness(10, 60_000);
    log.observe(timing({ executeMs: 50 }));
    advance(1);
    log.observe(timing({ executeMs: 70 }));
    log.observe(timing({ executeMs: 20 }));
    log.close();
    expect(lines.map((l) => [l.fields.executeMs, l.fields.slowCommits])).toEqual([
      [50, 1],
      [70, 2],
    ]);
    log.close();
    expect(lines.length).toBe(2);
  });

  test("a threshold of 0 or less is refused: 0 means off, and off is not having the log", () => {
    for (const thresholdMs of [0, -1, Number.NaN]) {
      expect(() => new SlowCommitLog({ warn() {} }, { thresholdMs })).toThrow(RangeError);
    }
  });
});
