/** What every scenario declares and returns; the CLI adds the machine, the command and the timestamp. */
import type { Placement } from "../runner/cpus.ts";
import type { Status } from "../runner/status.ts";
import type { ScenarioResult } from "../report/result.ts";

export interface BenchOptions {
  /** Raw `--name value` options; each scenario reads its own with defaults. */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly placement: Placement;
  readonly status: Status;
}

export type ScenarioOutput = Pick<
  ScenarioResult,
  "title" | "options" | "runs" | "checks" | "measurements" | "notes"
>;

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** Options this scenario reads, with their defaults, for `--list` and `--help`. */
  readonly options: Readonly<Record<string, string>>;
  /** false for scenarios listed in the issue that are not built yet; running one explains what is missing. */
  readonly implemented: boolean;
  run(opts: BenchOptions): Promise<ScenarioOutput>;
}
