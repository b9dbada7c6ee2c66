/**
 * Idle: many connected, subscribed, silent connections on ONE server process; the server's RSS growth per
 * connection must stay ≤ 4 KB. (A process may hold at most 20,000 open files here, hence 19k by default.)
 *
 * The check reads the growth after the connections have been idle for the step (`--seconds`, default 20): that
 * is what an idle server holds per connection. The figure half a second after the last connection opened is
 * reported beside it: it also holds the garbage of 19,000 handshakes (upgrades, token checks, CONNECT and
 * SUBSCRIBE), which the runtime collects and returns on its own within about ten seconds of the burst
 * (docs/benchmarks/optimizations.md, "Idle: measured once idle").
 */
import type { RunResult } from "../runner/run-load.ts";
import { roomsOf, runEach } from "./common.ts";
import { num, targets, workerCount } from "./options.ts";
import type { BenchOptions, Scenario, ScenarioOutput } from "./scenario.ts";

export const idleScenario: Scenario = {
  name: "idle",
  summary:
    "19k idle (connected, subscribed) connections on one server process: ≤ 4 KB server memory per connection",
  options: { connections: "19000", "room-size": "100", seconds: "20", targets: "parley" },
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
      stepSeconds: num(o, "seconds", 20),
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
        value: idleValue(r),
        goal: "≤ 4,096 B",
        ok:
          r.rssPerConnectionAtEndBytes === null
            ? null
            : r.rssPerConnectionAtEndBytes <= 4096 && r.connections.failed === 0,
      })),
      measurements: {},
      notes: [
        ...notes,
        "RSS per idle connection = (server RSS at the end of the idle step − RSS before the connections) ÷ ready connections; " +
          "in brackets the same half a second after the last connection was ready (the connect burst's garbage still held).",
      ],
    };
  },
};

function idleValue(r: RunResult): string {
  const bytes = (b: number | null) => (b === null ? "–" : `${b.toLocaleString("en")} B`);
  if (r.rssPerConnectionAtEndBytes === null) return "–";
  return (
    `${bytes(r.rssPerConnectionAtEndBytes)} (${r.connections.ready.toLocaleString("en")} ready; ` +
    `${bytes(r.rssPerConnectionBytes)} right after they opened)`
  );
}
