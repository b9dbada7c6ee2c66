/**
 * Seed: the workload of the system Parley replaces — 15k users in rooms of 50, each sending once every 5 s
 * (3,000 msg/s, 150,000 deliveries/s) for a fixed time. Goals: p99 ≤ 50 ms, server ≤ 50 % of a core, 0 lost.
 */
import { scheduleNote } from "../runner/schedule.ts";
import {
  everyoneEvery,
  NOTIFICATIONS_OPTION,
  notificationsCeiling,
  notificationsMode,
  roomsOf,
  runEach,
} from "./common.ts";
import { num, SCHEDULE_OPTION, schedule, targets, workerCount } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

export const seedScenario: Scenario = {
  name: "seed",
  summary: "15k users, rooms of 50, each sends every 5 s: p99 ≤ 50 ms, server ≤ 50 % of a core, 0 lost",
  options: {
    users: "15000",
    "room-size": "50",
    interval: "5",
    seconds: "30",
    targets: "parley",
    notifications: NOTIFICATIONS_OPTION,
    schedule: SCHEDULE_OPTION,
  },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const users = num(o, "users", 15_000);
    const roomSize = num(o, "room-size", 50);
    const interval = num(o, "interval", 5);
    const seconds = num(o, "seconds", 30);
    const layout = roomsOf(Math.max(1, Math.floor(users / roomSize)), roomSize);
    const names = targets(o, ["parley"]);
    const workers = workerCount(o, layout.connRooms.length);
    const notifications = notificationsMode(o);
    const { runs, notes } = await runEach(names, o, layout, {
      ...everyoneEvery(o, layout, interval, workers),
      notifications,
      stepSeconds: seconds,
      maxP99Ms: Number.POSITIVE_INFINITY,
      minDelivered: 0,
      // A saturated server can be seconds behind (p99 8–10 s on the hosts where seed is ✗): the drain ends as soon
      // as everything is in or nothing arrives for 2 s, and otherwise waits up to a minute, so that "lost" counts
      // deliveries that never came rather than those still queued when a 10 s drain ended.
      drainSeconds: 60,
    });
    const checks = runs.flatMap((r) => {
      const s = r.steps[0];
      return [
        {
          name: `${r.target}: p99`,
          value: s ? `${s.latencyMs.p99} ms` : "–",
          goal: "≤ 50 ms",
          ok: s ? s.latencyMs.p99 <= 50 : null,
        },
        {
          name: `${r.target}: server cpu`,
          value: s ? `${Math.round(s.serverCpu * 100)} % of a core` : "–",
          goal: "≤ 50 %",
          ok: s ? s.serverCpu <= 0.5 : null,
        },
        {
          name: `${r.target}: lost after drain`,
          value: String(r.totals.lost),
          goal: "0",
          ok: r.totals.expected > 0 && r.totals.lost === 0,
        },
        {
          name: `${r.target}: duplicates`,
          value: String(r.totals.duplicates),
          goal: "0",
          ok: r.totals.duplicates === 0,
        },
        ...(notifications === "on"
          ? [
              {
                name: `${r.target}: notifications received ÷ others' accepted messages × (room size − 1)`,
                value: `${r.totals.notifications.toLocaleString("en")} / ${notificationsCeiling(r, roomSize).toLocaleString("en")}`,
                goal: "about all (one per message of another member)",
                ok: null,
              },
            ]
          : []),
        // Every client follows its room's stream, so with skip-followed no message notice is owed to anyone.
        ...(notifications === "skip-followed"
          ? [
              {
                name: `${r.target}: notifications received (skip-followed, every client follows its room)`,
                value: r.totals.notifications.toLocaleString("en"),
                goal: "0",
                ok: r.totals.notifications === 0,
              },
            ]
          : []),
      ];
    });
    return {
      title: `Seed workload: ${layout.connRooms.length.toLocaleString("en")} users, rooms of ${roomSize}, one message per user every ${interval} s`,
      options: {
        users: layout.connRooms.length,
        roomSize,
        interval,
        seconds,
        workers,
        targets: names,
        notifications,
        schedule: schedule(o),
      },
      runs,
      checks,
      measurements: {},
      notes: [
        ...notes,
        scheduleNote(schedule(o)),
        ...(notifications === "on"
          ? [
              "Every client also subscribed to /user/queue/notifications: each message of another member of its room comes with a notification frame (unread count), as for a client that shows a room list.",
            ]
          : []),
        ...(notifications === "skip-followed"
          ? [
              "Every client also subscribed to /user/queue/notifications with skip-followed:true, as a client with its room open does: the server leaves out message notices of rooms the connection follows, so none is owed here (the room's stream brings each message).",
            ]
          : []),
      ],
    };
  },
};
