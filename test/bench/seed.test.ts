/**
 * The seed scenario end to end, tiny, against a real Parley process, with and without clients that follow
 * /user/queue/notifications: every message reaches every member, and with notifications on, each member gets
 * one notification per message of another member (the count the report compares against).
 */
import { describe, expect, test } from "bun:test";
import { seedScenario } from "../../bench/scenarios/seed.ts";
import { UNPINNED } from "../support/unpinned.ts";

describe("bench seed", () => {
  test.each(["off", "on", "skip-followed"] as const)(
    "Parley, notifications %p: nothing lost, notifications counted",
    async (notifications) => {
      const out = await seedScenario.run({
        values: {
          users: "12",
          "room-size": "4",
          interval: "0.5",
          seconds: "3",
          ephemeral: true,
          workers: "1",
          ...(notifications === "off"
            ? {}
            : { notifications: notifications === "on" ? true : notifications }),
        },
        placement: UNPINNED,
        status: () => {},
      });
      const run = out.runs[0]!;
      expect(run.connections.ready).toBe(12);
      expect(run.totals.lost).toBe(0);
      expect(run.totals.duplicates).toBe(0);
      expect(run.totals.sent).toBeGreaterThan(0);
      expect(out.options.notifications).toBe(notifications);
      // Independent senders unless --schedule says otherwise, and the report says which.
      expect(out.options.schedule).toBe("independent");
      expect(out.notes.some((n) => n.includes("--schedule independent"))).toBe(true);
      if (notifications === "off") {
        expect(run.totals.notifications).toBe(0);
        return;
      }
      if (notifications === "skip-followed") {
        // Every client follows its room: the server owes it no message notice, and the check says so.
        expect(run.totals.notifications).toBe(0);
        expect(out.checks.find((c) => c.name.includes("skip-followed"))?.ok).toBe(true);
        return;
      }
      // One per message of each of the 3 other members, for every accepted message (all drained).
      expect(run.totals.notifications).toBe((run.totals.sent - run.totals.rejected) * 3);
      expect(out.checks.some((c) => c.name.includes("notifications received"))).toBe(true);
    },
    60_000,
  );
});
