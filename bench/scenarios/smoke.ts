/**
 * Smoke: a tiny fan-out (default 2 rooms × 10 connections, 2 s at 20 msg/s per sender) that exercises every part
 * of the tool — upgrade, login, subscribe with receipt, patched sends, scanning, drain, loss and duplicate
 * accounting — in a few seconds. The test suite runs it so the generator cannot rot.
 */
import { oneSenderPerRoom, roomsOf, runEach } from "./common.ts";
import { num, targets } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

export const smokeScenario: Scenario = {
  name: "smoke",
  summary:
    "a few seconds against the bare peer (and Parley with --targets bare,parley): the tool still works",
  options: { rooms: "2", "room-size": "10", rate: "20", seconds: "2", targets: "bare" },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const layout = roomsOf(num(o, "rooms", 2), num(o, "room-size", 10));
    const names = targets(o, ["bare"]);
    const { runs, notes } = await runEach(names, o, layout, {
      sendRooms: oneSenderPerRoom(layout),
      messageSize: 64,
      workers: num(o, "workers", 1),
      generatorCpus: null,
      generatorCores: o.placement.generatorCores,
      rates: [num(o, "rate", 20)],
      stepSeconds: num(o, "seconds", 2),
      maxP99Ms: Number.POSITIVE_INFINITY,
      minDelivered: 0,
      drainSeconds: 5,
    });
    return {
      title: "Smoke",
      options: { connections: layout.connRooms.length, rooms: layout.rooms, targets: names },
      runs,
      checks: runs.map((r) => ({
        name: `${r.target}: all delivered once`,
        value: `${r.totals.received}/${r.totals.expected}, ${r.totals.duplicates} dup`,
        goal: "received = expected, 0 dup",
        ok: r.totals.expected > 0 && r.totals.received === r.totals.expected && r.totals.duplicates === 0,
      })),
      measurements: {},
      notes,
    };
  },
};
