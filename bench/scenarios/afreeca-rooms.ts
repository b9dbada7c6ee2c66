/**
 * Afreeca rooms: many users in rooms of 100, each sending once a minute, served by several Parley processes on
 * one port with Redis and PostgreSQL (default 70k users, 4 processes). Goals: p99 ≤ 100 ms, 0 lost, 0 duplicated.
 */
import type { Check } from "../report/result.ts";
import type { RunResult } from "../runner/run-load.ts";
import { scheduleNote } from "../runner/schedule.ts";
import { everyoneEvery, roomsOf, runEach } from "./common.ts";
import { num, SCHEDULE_OPTION, schedule, workerCount } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

/** Loss as the generator sees it: expected probes missing, holes in a room's seq stream, streams ending early. */
export function lossChecks(r: RunResult): Check[] {
  const holes = r.totals.gaps + (r.seqTail?.behind ?? 0);
  return [
    {
      name: `${r.target}: lost (probes missing after drain / seq holes + streams ending early)`,
      value: `${r.totals.lost.toLocaleString("en")} / ${holes.toLocaleString("en")}`,
      goal: "0 / 0",
      ok: r.totals.expected === 0 ? null : r.totals.lost === 0 && holes === 0,
    },
    {
      name: `${r.target}: duplicates`,
      value: r.totals.duplicates.toLocaleString("en"),
      goal: "0",
      ok: r.totals.duplicates === 0,
    },
  ];
}

export const afreecaRoomsScenario: Scenario = {
  name: "afreeca-rooms",
  summary:
    "70k users, rooms of 100, once a minute, ≥ 4 server processes + Redis on one port: p99 ≤ 100 ms, 0 lost",
  options: {
    users: "70000",
    "room-size": "100",
    interval: "60",
    seconds: "75",
    warmup: "15 (seconds after connecting left out of the figures)",
    processes: "4",
    "room-send-rate":
      "0 (the servers' PARLEY_ROOM_SEND_RATE, burst twice that; 0 = no room cap, Parley's own default is 100)",
    schedule: SCHEDULE_OPTION,
  },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const users = num(o, "users", 70_000);
    const roomSize = num(o, "room-size", 100);
    const interval = num(o, "interval", 60);
    const seconds = num(o, "seconds", 75);
    const warmup = num(o, "warmup", 15);
    const processes = num(o, "processes", 4);
    // With a room cap each send also takes a room token (on Redis, in the same script as the sender's).
    const roomSendRate = num(o, "room-send-rate", 0);
    const parleyEnv: Record<string, string> =
      roomSendRate > 0
        ? { PARLEY_ROOM_SEND_RATE: String(roomSendRate), PARLEY_ROOM_SEND_BURST: String(2 * roomSendRate) }
        : {};
    const layout = roomsOf(Math.max(1, Math.floor(users / roomSize)), roomSize);
    const workers = workerCount(o, layout.connRooms.length);
    const opts: BenchOptions = { ...o, values: { ...o.values, processes: String(processes) } };
    const { runs, notes } = await runEach(
      ["parley"],
      opts,
      layout,
      {
        ...everyoneEvery(o, layout, interval, workers),
        stepSeconds: seconds,
        warmupSeconds: warmup,
        maxP99Ms: Number.POSITIVE_INFINITY,
        minDelivered: 0,
        drainSeconds: 15,
        seqTail: true,
      },
      parleyEnv,
    );
    const checks: Check[] = runs.flatMap((r) => {
      const s = r.steps[0];
      return [
        {
          name: `${r.target}: p99`,
          value: s
            ? `${s.latencyMs.p99} ms${s.generatorSaturated ? " (generator saturated: upper bound)" : ""}`
            : "–",
          goal: "≤ 100 ms",
          ok: s ? s.latencyMs.p99 <= 100 : null,
        },
        ...lossChecks(r),
        {
          name: `${r.target}: connections ready`,
          value: `${r.connections.ready.toLocaleString("en")} of ${r.connections.requested.toLocaleString("en")}`,
          goal: "all",
          ok: r.connections.ready === r.connections.requested,
        },
      ];
    });
    return {
      title: `Afreeca rooms: ${layout.connRooms.length.toLocaleString("en")} users in rooms of ${roomSize}, one message each per ${interval} s, ${processes} Parley processes`,
      options: {
        users: layout.connRooms.length,
        roomSize,
        interval,
        seconds,
        warmup,
        processes,
        workers,
        roomSendRate,
        schedule: schedule(o),
      },
      runs,
      checks,
      measurements: {},
      notes: [
        ...notes,
        `${processes} \`parley start\` processes share one port (PARLEY_REUSE_PORT=true) with the Redis broker and one PostgreSQL schema created for the run and dropped after; the kernel spreads the connections over them.`,
        `The step's figures leave out its first ${warmup} s: right after ${layout.connRooms.length.toLocaleString("en")} connections have subscribed, the servers are still busy with the subscriptions' presence events (see the per-second chart). The lost/duplicate counts cover the whole step.`,
        scheduleNote(schedule(o)),
      ],
    };
  },
};
