/** Store contract part: every group commit of appends is reported with its timing (ports/commit-timing.ts). */
import { describe, expect, test } from "bun:test";
import type { StoreFixture } from "./fixtures.ts";

export function commitTimingContract(fx: StoreFixture): void {
  const { commits, user, room, send } = fx;
  describe("commit timing", () => {
    test("every append is carried by a reported commit, reported before the append resolves", async () => {
      const ann = await user();
      const r = await room([ann]);
      const before = commits().length;
      const first = send(r.id, ann, "one").then(() => commits().length);
      const rest = [2, 3, 4, 5].map((i) => send(r.id, ann, `m${i}`));
      expect(await first).toBeGreaterThan(before);
      await Promise.all(rest);
      const since = commits().slice(before);
      expect(since.reduce((n, t) => n + t.calls, 0)).toBeGreaterThanOrEqual(5);
      for (const t of since) {
        expect(t.committed).toBe(true);
        expect(t.calls).toBeGreaterThanOrEqual(1);
        for (const ms of [t.queuedMs, t.lateMs, t.executeMs]) {
          expect(Number.isFinite(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
        }
        expect(t.lateMs).toBeLessThanOrEqual(t.queuedMs);
      }
    });

    test("a commit the event loop reached late reports the delay as lateMs", async () => {
      const ann = await user();
      const r = await room([ann]);
      const before = commits().length;
      const sent = send(r.id, ann, "late");
      Bun.sleepSync(60);
      await sent;
      const lateness = commits()
        .slice(before)
        .map((t) => t.lateMs);
      expect(Math.max(...lateness)).toBeGreaterThanOrEqual(55);
    });
  });
}
