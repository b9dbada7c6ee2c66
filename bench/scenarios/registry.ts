/** Every scenario the CLI knows. */
import { afreecaOneRoomScenario } from "./afreeca-one-room.ts";
import { afreecaRoomsScenario } from "./afreeca-rooms.ts";
import { capacityScenario } from "./capacity.ts";
import { fanoutScenario } from "./fanout.ts";
import { idleScenario } from "./idle.ts";
import type { Scenario } from "./scenario.ts";
import { seedScenario } from "./seed.ts";
import { smokeScenario } from "./smoke.ts";
import { storeScenario } from "./store.ts";
import { stormScenario } from "./storm.ts";

export const SCENARIOS: readonly Scenario[] = [
  smokeScenario,
  capacityScenario,
  fanoutScenario,
  seedScenario,
  idleScenario,
  storeScenario,
  stormScenario,
  afreecaRoomsScenario,
  afreecaOneRoomScenario,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
