/** The document a scenario produces; the JSON result is exactly this object. */
import type { RunResult } from "../runner/run-load.ts";
import type { MachineInfo } from "./machine.ts";

export interface Check {
  readonly name: string;
  readonly value: string;
  readonly goal: string;
  /**
   * null when there is no verdict: the check could not be measured in this run (its value is "–"), or its figure is
   * informational or a bound that does not decide the goal.
   */
  readonly ok: boolean | null;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly title: string;
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly placement: string;
  readonly options: Record<string, unknown>;
  readonly runs: readonly RunResult[];
  readonly checks: readonly Check[];
  /** Free-form measurements that are not a load run (generator capacity, store commit latency). */
  readonly measurements: Record<string, unknown>;
  readonly notes: readonly string[];
}
