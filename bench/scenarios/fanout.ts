/**
 * Fan-out: N connections in rooms of M, one sender per room, the send rate ramped in steps until p99 > 200 ms or
 * fewer than 95 % of deliveries arrive. Parley and the peers run one after another in the same invocation (same
 * machine state, same generator), preceded by a generator-capacity measurement, and the report gives each ratio
 * Parley ÷ peer.
 */
import type { Check } from "../report/result.ts";
import type { RunResult } from "../runner/run-load.ts";
import { measureCapacity } from "./capacity.ts";
import { oneSenderPerRoom, roomsOf, runEach } from "./common.ts";
import { list, num, targets, workerCount } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

/**
 * Messages per second per sender, step by step. The ramp starts at 0.2 because RabbitMQ Web-STOMP at full size
 * (10,000 connections) breaks at 1 (p99 0.3–1.3 s at 1.5–1.7 cores): without the lower steps it has no passing
 * step, and its ratio only a bound.
 */
const DEFAULT_RATES = [0.2, 0.5, 1, 2, 5, 10, 20, 40, 80, 120, 160, 200, 250, 300, 400, 500];

function peakOf(runs: readonly RunResult[], name: string): RunResult["peak"] {
  return runs.find((r) => r.target === name)?.peak ?? null;
}

/**
 * Parley ÷ each peer, from the passing step with the most deliveries per second of each. A peer that ran but passed
 * no step (RabbitMQ at full size breaks at its first) still bounds the ratio from below: whatever it can sustain is
 * less than what its first step offered, so the ratio is above Parley's peak ÷ that offer. Such a ratio is met when
 * even the bound reaches the goal, and otherwise has no verdict.
 */
export function ratioChecks(runs: readonly RunResult[]): Check[] {
  const parley = peakOf(runs, "parley");
  const goals: [string, number][] = [
    ["bare", 0.8],
    ["socketio", 30],
    ["rabbitmq", 100],
  ];
  return goals.map(([peer, goal]) => {
    const name = `parley ÷ ${peer} (peak deliveries/s)`;
    const p = peakOf(runs, peer);
    const first = runs.find((r) => r.target === peer)?.steps[0];
    if (parley && !p && first && first.delivered > 0) {
      const offered = first.deliveriesPerSec / first.delivered;
      const bound = parley.deliveriesPerSec / offered;
      return {
        name,
        value: `> ${bound.toFixed(2)}× (${peer} passed no step: it broke at its first, ${Math.round(offered).toLocaleString("en")} deliveries/s offered)`,
        goal: `≥ ${goal}×`,
        ok: bound >= goal ? true : null,
      };
    }
    if (!parley || !p || p.deliveriesPerSec === 0) return { name, value: "–", goal: `≥ ${goal}×`, ok: null };
    const ratio = parley.deliveriesPerSec / p.deliveriesPerSec;
    const bound =
      parley.generatorSaturated || p.generatorSaturated ? " (a side hit the generator ceiling)" : "";
    return { name, value: `${ratio.toFixed(2)}×${bound}`, goal: `≥ ${goal}×`, ok: ratio >= goal };
  });
}

export const fanoutScenario: Scenario = {
  name: "fanout",
  summary:
    "10k connections, 100 rooms × 100, one sender per room, ramped until p99 > 200 ms or < 95 % delivered; Parley vs peers",
  options: {
    connections: "10000",
    "room-size": "100",
    rates: DEFAULT_RATES.join(","),
    "step-seconds": "3",
    size: "64",
    targets: "parley,bare,socketio,rabbitmq",
    "max-p99": "200",
    "min-delivered": "0.95",
    workers: "max(generator cores, connections/15000)",
  },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const connections = num(o, "connections", 10_000);
    const roomSize = num(o, "room-size", 100);
    const rooms = Math.max(1, Math.floor(connections / roomSize));
    const layout = roomsOf(rooms, roomSize);
    const size = num(o, "size", 64);
    const names = targets(o, ["parley", "bare", "socketio", "rabbitmq"]);
    const workers = workerCount(o, layout.connRooms.length);
    const capacity =
      o.values["skip-capacity"] === true
        ? null
        : await measureCapacity(o.placement, o.status, {
            connections: 100,
            seconds: 4,
            messageSize: size,
            workers: 1,
          });
    const { runs, notes } = await runEach(names, o, layout, {
      sendRooms: oneSenderPerRoom(layout),
      messageSize: size,
      workers,
      generatorCpus: o.placement.generatorCpus,
      generatorCores: o.placement.generatorCores,
      rates: list(o, "rates", DEFAULT_RATES),
      stepSeconds: num(o, "step-seconds", 3),
      maxP99Ms: num(o, "max-p99", 200),
      minDelivered: num(o, "min-delivered", 0.95),
      drainSeconds: 10,
    });
    const parley = peakOf(runs, "parley");
    const checks: Check[] = [
      {
        name: "parley peak deliveries/s",
        value: parley
          ? parley.deliveriesPerSec.toLocaleString("en") + (parley.generatorSaturated ? " (lower bound)" : "")
          : "–",
        goal: "≥ 1,500,000",
        ok: parley ? parley.deliveriesPerSec >= 1_500_000 : null,
      },
      ...ratioChecks(runs),
      {
        name: "generator capacity (deliveries/s per core, blast peer)",
        value: capacity ? capacity.perCore.toLocaleString("en") : "–",
        goal: "well over 2,000,000",
        ok: capacity ? capacity.perCore > 2_000_000 : null,
      },
      ...runs.map((r) => ({
        name: `${r.target}: lost / duplicates after drain`,
        value: `${r.totals.lost} / ${r.totals.duplicates}`,
        goal: "0 / 0 below the breaking step",
        ok: null,
      })),
    ];
    return {
      title: `Fan-out: ${layout.connRooms.length.toLocaleString("en")} connections, ${rooms} rooms × ${roomSize}`,
      options: { connections: layout.connRooms.length, rooms, roomSize, size, workers, targets: names },
      runs,
      checks,
      measurements: capacity
        ? {
            generatorCapacity: {
              deliveriesPerSec: capacity.deliveriesPerSec,
              generatorCpu: capacity.generatorCpu,
              perCore: capacity.perCore,
            },
          }
        : {},
      notes: [
        ...notes,
        "Deliveries/s and latency of a step exclude its first second (warm-up). A step marked ≥ had the generator's cores ≥ 95 % busy in at least one second: its throughput is a lower bound.",
        "Lost deliveries after a breaking step are expected: the servers drop slow consumers at their buffer limits.",
      ],
    };
  },
};
