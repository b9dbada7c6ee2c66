import { describe, expect, test } from "bun:test";
import type { CommitTiming } from "../../../ports/commit-timing.ts";
import { GroupCommit, type Outcome } from "./group-commit.ts";

/** A GroupCommit whose commit answers each input with itself after `commitMs`, recording every batch's timing. */
function harness(opts: { commitMs?: number; fail?: boolean; maxInFlight?: number } = {}) {
  const seen: CommitTiming[] = [];
  const group = new GroupCommit<number, number>(
    async (batch) => {
      await Bun.sleep(opts.commitMs ?? 0);
      if (opts.fail === true) throw new Error("connection lost");
      return batch.map((value): Outcome<number> => ({ ok: true, value }));
    },
    { maxBatch: 4, maxInFlight: opts.maxInFlight ?? 2, onCommit: (t) => seen.push(t) },
  );
  return { group, seen };
}

describe("GroupCommit timing", () => {
  test("a batch the event loop reached late reports it as late, before its calls resolve", async () => {
    const { group, seen } = harness();
    const calls = [group.submit(1), group.submit(2), group.submit(3)];
    Bun.sleepSync(60);
    const first = calls[0]?.then(() => seen.length);
    expect(await Promise.all(calls)).toEqual([1, 2, 3]);
    expect(await first).toBe(1);
    const t = seen[0] as CommitTiming;
    expect(t).toMatchObject({ calls: 3, committed: true });
    expect(t.lateMs).toBeGreaterThanOrEqual(55);
    expect(t.queuedMs).toBeGreaterThanOrEqual(t.lateMs);
  });

  test("the commit's round trip is its executeMs; a batch waiting for a free slot is queued, not late", async () => {
    const { group, seen } = harness({ commitMs: 50, maxInFlight: 1 });
    const first = group.submit(1);
    await Bun.sleep(5);
    // Waits for the one slot, which the first batch holds for its 50 ms.
    const second = group.submit(2);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(seen.length).toBe(2);
    expect(seen[0]?.executeMs).toBeGreaterThanOrEqual(45);
    const waited = seen[1] as CommitTiming;
    expect(waited.queuedMs).toBeGreaterThanOrEqual(35);
    expect(waited.lateMs + 20).toBeLessThanOrEqual(waited.queuedMs);
    expect(waited.executeMs).toBeGreaterThanOrEqual(45);
  });

  test("a batch whose commit rejects is reported as not committed", async () => {
    const { group, seen } = harness({ fail: true });
    const results = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(seen).toMatchObject([{ calls: 2, committed: false }]);
  });

  test("an observer that throws changes no outcome", async () => {
    const group = new GroupCommit<number, number>(
      async (batch) => batch.map((value): Outcome<number> => ({ ok: true, value })),
      {
        maxBatch: 4,
        maxInFlight: 1,
        onCommit: () => {
          throw new Error("observer fault");
        },
      },
    );
    expect(await Promise.all([group.submit(7), group.submit(8)])).toEqual([7, 8]);
    await group.idle();
  });
});
