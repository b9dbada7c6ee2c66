/** Every scenario the CLI knows, including those the issue lists that are not built yet. */
import { capacityScenario } from "./capacity.ts";
import { fanoutScenario } from "./fanout.ts";
import { idleScenario } from "./idle.ts";
import type { Scenario } from "./scenario.ts";
import { seedScenario } from "./seed.ts";
import { smokeScenario } from "./smoke.ts";
import { storeScenario } from "./store.ts";

function planned(name: string, summary: string, missing: string): Scenario {
  return {
    name,
    summary: `${summary} [not built yet]`,
    options: {},
    implemented: false,
    run: () => Promise.reject(new Error(`${name} is not built yet: ${missing}`)),
  };
}

export const SCENARIOS: readonly Scenario[] = [
  smokeScenario,
  capacityScenario,
  fanoutScenario,
  seedScenario,
  idleScenario,
  storeScenario,
  planned(
    "afreeca-rooms",
    "70k users, rooms of 100, once a minute, ≥ 4 server processes + Redis: p99 ≤ 100 ms",
    "needs several Parley processes on one port (PARLEY_REUSE_PORT with the Redis broker) started by the bench",
  ),
  planned(
    "afreeca-one-room",
    "70k users in ONE room: bounded memory, per-room rate cap",
    "needs the multi-process launcher of afreeca-rooms and a 70k-member fixture",
  ),
  planned(
    "storm",
    "15k connections reconnect within 10 s resuming with since-seq: 0 lost, 0 duplicates",
    "needs reconnect-with-since-seq in the generator connection",
  ),
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
