/**
 * Generator capacity: how many deliveries per second the generator can receive and scan on its cores when the
 * server side costs (almost) nothing — the blast peer streams pre-built MESSAGE frames. A load run whose generator
 * is saturated can only be read as a lower bound; this number says where that ceiling is.
 */
import type { RunResult } from "../runner/run-load.ts";
import { runLoad } from "../runner/run-load.ts";
import { startBlastPeer } from "../targets/peers.ts";
import type { Placement } from "../runner/cpus.ts";
import type { Status } from "../runner/status.ts";
import { roomsOf } from "./common.ts";
import { num } from "./options.ts";
import type { BenchOptions, Scenario } from "./scenario.ts";

export interface Capacity {
  readonly deliveriesPerSec: number;
  readonly generatorCpu: number;
  /** Deliveries per second per fully used generator core. */
  readonly perCore: number;
  readonly workers: number;
  readonly connections: number;
  readonly run: RunResult;
}

export async function measureCapacity(
  placement: Placement,
  status: Status,
  opts: { connections: number; seconds: number; messageSize: number; workers: number },
): Promise<Capacity> {
  const target = await startBlastPeer(placement.serverCpus, opts.messageSize);
  try {
    const layout = roomsOf(1, opts.connections);
    const run = await runLoad({
      target,
      layout,
      sendRooms: [],
      messageSize: opts.messageSize,
      workers: opts.workers,
      generatorCpus: placement.generatorCpus,
      generatorCores: placement.generatorCores,
      // Nobody sends: the peer streams on its own. One "step" of the requested length measures the intake.
      rates: [0],
      stepSeconds: opts.seconds,
      maxP99Ms: Number.POSITIVE_INFINITY,
      minDelivered: 0,
      drainSeconds: 0,
      status,
    });
    const step = run.steps[0];
    const rate = step?.deliveriesPerSec ?? 0;
    const cpu = step?.generatorCpu ?? 0;
    return {
      deliveriesPerSec: rate,
      generatorCpu: cpu,
      perCore: cpu > 0 ? Math.round(rate / Math.max(cpu, 0.01)) : 0,
      workers: opts.workers,
      connections: opts.connections,
      run,
    };
  } finally {
    await target.stop();
  }
}

export const capacityScenario: Scenario = {
  name: "capacity",
  summary:
    "generator ceiling: deliveries/s one generator core can receive and scan (blast peer, no server work)",
  options: { connections: "100", seconds: "6", size: "64", workers: "1" },
  implemented: true,
  async run(o: BenchOptions) {
    const c = await measureCapacity(o.placement, o.status, {
      connections: num(o, "connections", 100),
      seconds: num(o, "seconds", 6),
      messageSize: num(o, "size", 64),
      workers: num(o, "workers", 1),
    });
    return {
      title: "Generator capacity (blast peer)",
      options: { connections: c.connections, workers: c.workers },
      runs: [],
      checks: [
        {
          name: "generator deliveries/s per core",
          value: c.perCore.toLocaleString("en"),
          goal: "well over 2,000,000",
          ok: c.perCore > 2_000_000,
        },
      ],
      measurements: {
        deliveriesPerSec: c.deliveriesPerSec,
        generatorCpu: c.generatorCpu,
        perCore: c.perCore,
      },
      notes: [
        "Latency and duplicates are meaningless here (the peer replays one frame); only the intake rate counts.",
      ],
    };
  },
};
