/**
 * Afreeca, one room: every user in ONE room, each sending once a minute. Fan-out is users² / 60 deliveries per
 * second, so the server caps each room's accepted sends (PARLEY_ROOM_SEND_RATE, a token bucket; excess sends get
 * RATE_LIMITED on /user/queue/errors). The scenario restarts the processes with each cap in turn (same port,
 * same PostgreSQL schema and fixture), reconnects everyone and measures; it reports the highest cap whose p99
 * stays ≤ 1 s, and the servers' memory.
 */
import type { Check } from "../report/result.ts";
import { type RunResult, runLoad } from "../runner/run-load.ts";
import { scheduleNote } from "../runner/schedule.ts";
import type { Target } from "../targets/target.ts";
import { lossChecks } from "./afreeca-rooms.ts";
import { everyoneEvery, roomsOf, startTarget } from "./common.ts";
import { list, num, SCHEDULE_OPTION, schedule, workerCount } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

const DEFAULT_CAPS = [5, 10, 20, 50, 100, 200];
const P99_GOAL_MS = 1000;

/**
 * Server settings for one cap: the bucket holds one second's worth, so the cap applies from the first second.
 * `coalesceMs` sets PARLEY_WS_COALESCE_MS (null: the server's default): the window in which a large room's events
 * share one WebSocket message per subscriber — in a room this large the per-socket write, not the message, is the
 * unit of cost.
 */
function capEnv(cap: number, coalesceMs: number | null): Record<string, string> {
  return {
    PARLEY_ROOM_SEND_RATE: String(cap),
    PARLEY_ROOM_SEND_BURST: String(Math.max(1, cap)),
    ...(coalesceMs === null ? {} : { PARLEY_WS_COALESCE_MS: String(coalesceMs) }),
  };
}

export const afreecaOneRoomScenario: Scenario = {
  name: "afreeca-one-room",
  summary: "70k users in ONE room, once a minute each, per-room send cap ramped: highest cap with p99 ≤ 1 s",
  options: {
    users: "70000",
    interval: "60",
    caps: DEFAULT_CAPS.join(","),
    seconds: "30",
    warmup: "10 (seconds after connecting left out of each cap's figures)",
    processes: "4",
    "coalesce-ms":
      "the server's default (PARLEY_WS_COALESCE_MS for every process; 0 = each event its own WebSocket message)",
    schedule: SCHEDULE_OPTION,
  },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const users = num(o, "users", 70_000);
    const interval = num(o, "interval", 60);
    const caps = list(o, "caps", DEFAULT_CAPS);
    const seconds = num(o, "seconds", 30);
    const warmup = num(o, "warmup", 10);
    const processes = num(o, "processes", 4);
    const coalesceMs = o.values["coalesce-ms"] === undefined ? null : num(o, "coalesce-ms", 0);
    const coalescing = coalesceMs === null ? "the server's default" : `${coalesceMs} ms`;
    const layout = roomsOf(1, users);
    const workers = workerCount(o, users);
    const opts: BenchOptions = { ...o, values: { ...o.values, processes: String(processes) } };
    const runs: RunResult[] = [];
    const perCap: { cap: number; run: RunResult }[] = [];
    const notes: string[] = [];
    let target: Target | null = null;
    try {
      for (const cap of caps) {
        if (target === null) target = await startTarget("parley", opts, layout, capEnv(cap, coalesceMs));
        else if (target.restart) await target.restart(capEnv(cap, coalesceMs));
        else throw new Error("the target cannot restart with another cap");
        o.status(
          `[cap ${cap}/s] ${processes} processes with PARLEY_ROOM_SEND_RATE=${cap}, coalescing window ${coalescing}`,
        );
        const run = await runLoad({
          target,
          layout,
          ...everyoneEvery(o, layout, interval, workers),
          stepSeconds: seconds,
          warmupSeconds: warmup,
          maxP99Ms: P99_GOAL_MS,
          minDelivered: 0,
          drainSeconds: 15,
          seqTail: true,
          status: (l) => o.status(`[cap ${cap}/s] ${l}`),
        });
        const named: RunResult = { ...run, target: `${run.target} cap ${cap}/s` };
        runs.push(named);
        perCap.push({ cap, run: named });
        const step = run.steps[0];
        if (!step?.passed) break;
      }
    } catch (e) {
      notes.push(`stopped: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    } finally {
      await target?.stop();
    }
    // A cap at or above the offered rate rejects nothing: it measured the offered load, not the cap.
    const passing = perCap.filter((c) => c.run.steps[0]?.passed === true && c.run.totals.rejected > 0);
    const best = passing[passing.length - 1] ?? null;
    const bestStep = best?.run.steps[0];
    const checks: Check[] = [
      {
        name: "highest per-room cap with p99 ≤ 1 s",
        value: best
          ? `${best.cap} msg/s (p99 ${bestStep?.latencyMs.p99} ms, ${bestStep?.deliveriesPerSec.toLocaleString("en")} deliveries/s${bestStep?.generatorSaturated ? ", generator saturated: lower bound" : ""})`
          : "none of the caps tried both limited the room and kept p99 ≤ 1 s",
        goal: "reported",
        ok: best !== null,
      },
      ...perCap.flatMap(({ cap, run }) => {
        const s = run.steps[0];
        const offered = users / interval;
        return [
          {
            name: `cap ${cap}/s: accepted / rejected (RATE_LIMITED) sends`,
            value: `${(run.totals.sent - run.totals.rejected).toLocaleString("en")} / ${run.totals.rejected.toLocaleString("en")} of ${run.totals.sent.toLocaleString("en")} (offered ${offered.toFixed(1)}/s)`,
            goal: `≈ ${cap}/s accepted, the rest rejected`,
            ok: null,
          },
          {
            // Never silently: every refusal the servers counted reached its sender as an error frame.
            name: `cap ${cap}/s: RATE_LIMITED counted by the servers / received by the clients`,
            value:
              run.serverRateLimited === null
                ? "–"
                : `${run.serverRateLimited.toLocaleString("en")} / ${run.totals.rejected.toLocaleString("en")}`,
            goal: "equal",
            ok: run.serverRateLimited === null ? null : run.serverRateLimited === run.totals.rejected,
          },
          {
            name: `cap ${cap}/s: server RSS (all processes)`,
            value: s ? `${Math.round(s.serverRssBytes / 2 ** 20)} MiB` : "–",
            goal: "bounded",
            ok: null,
          },
          ...lossChecks(run),
        ];
      }),
    ];
    return {
      title: `Afreeca one room: ${users.toLocaleString("en")} users in one room, one message each per ${interval} s, ${processes} Parley processes, coalescing window ${coalescing}`,
      options: {
        users,
        interval,
        caps,
        seconds,
        warmup,
        processes,
        workers,
        coalesceMs,
        schedule: schedule(o),
      },
      runs,
      checks,
      measurements: {
        caps: perCap.map(({ cap, run }) => ({
          cap,
          p99Ms: run.steps[0]?.latencyMs.p99 ?? null,
          deliveriesPerSec: run.steps[0]?.deliveriesPerSec ?? null,
          rejected: run.totals.rejected,
          sent: run.totals.sent,
        })),
      },
      notes: [
        ...notes,
        `Each cap is a restart of every process with PARLEY_ROOM_SEND_RATE=cap, PARLEY_ROOM_SEND_BURST=cap, coalescing window ${coalescing}; all clients reconnect, then the step runs. The ramp stops at the first cap whose p99 exceeds 1 s.`,
        `Each cap's figures leave out the first ${warmup} s after everyone reconnected: the mass connect's own work (every handshake and subscription; and where a process has no more than PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS of the room's subscriptions, presence events to every member) would otherwise count against the first messages.`,
        "Expected deliveries count only accepted sends: a RATE_LIMITED rejection removes its room's deliveries from the expected total.",
        scheduleNote(schedule(o)),
      ],
    };
  },
};
