/**
 * Idle: many connected, subscribed, silent connections on ONE server process; the server's RSS growth per
 * connection must stay ≤ 4 KB. (A process may hold at most 20,000 open files here, hence 19k by default.)
 */
import { roomsOf, runEach } from "./common.ts";
import { num, targets, workerCount } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

export const idleScenario: Scenario = {
  name: "idle",
  summary:
    "19k idle (connected, subscribed) connections on one server process: ≤ 4 KB server memory per connection",
  options: { connections: "19000", "room-size": "100", seconds: "5", targets: "parley" },
  implemented: true,
  async run(o: BenchOptions): Promise<ScenarioOutput> {
    const connections = num(o, "connections", 19_000);
    const roomSize = num(o, "room-size", 100);
    const layout = roomsOf(Math.max(1, Math.ceil(connections / roomSize)), roomSize);
    const names = targets(o, ["parley"]);
    const workers = workerCount(o, layout.connRooms.length);
    const { runs, notes } = await runEach(names, o, layout, {
      sendRooms: [],
      messageSize: 64,
      workers,
      generatorCpus: o.placement.generatorCpus,
      generatorCores: o.placement.generatorCores,
      rates: [0],
      stepSeconds: num(o, "seconds", 5),
      maxP99Ms: Number.POSITIVE_INFINITY,
      minDelivered: 0,
      drainSeconds: 0,
    });
    return {
      title: `Idle: ${layout.connRooms.length.toLocaleString("en")} connections on one server process`,
      options: { connections: layout.connRooms.length, roomSize, workers, targets: names },
      runs,
      checks: runs.map((r) => ({
        name: `${r.target}: server RSS per idle connection`,
        value:
          r.rssPerConnectionBytes === null
            ? "–"
            : `${r.rssPerConnectionBytes.toLocaleString("en")} B (${r.connections.ready.toLocaleString("en")} ready)`,
        goal: "≤ 4,096 B",
        ok:
          r.rssPerConnectionBytes === null
            ? null
            : r.rssPerConnectionBytes <= 4096 && r.connections.failed === 0,
      })),
      measurements: {},
      notes: [
        ...notes,
        "RSS per connection = (server RSS after all connections are open and subscribed − RSS before) ÷ ready connections.",
      ],
    };
  },
};
