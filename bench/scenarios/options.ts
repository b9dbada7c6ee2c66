/** Reading typed scenario options from the raw `--name value` map, with defaults. */
import { SCHEDULES, type Schedule } from "../runner/schedule.ts";
import type { TargetName } from "../targets/target.ts";
import { TARGET_NAMES } from "../targets/target.ts";
import type { BenchOptions } from "./scenario.ts";

export function num(o: BenchOptions, name: string, def: number): number {
  const v = o.values[name];
  if (v === undefined || typeof v === "boolean") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

export function list(o: BenchOptions, name: string, def: readonly number[]): number[] {
  const v = o.values[name];
  if (typeof v !== "string") return [...def];
  const out = v.split(",").map(Number);
  if (out.some((x) => !Number.isFinite(x) || x < 0))
    throw new Error(`--${name} must be comma-separated numbers`);
  return out;
}

export function targets(o: BenchOptions, def: readonly TargetName[]): TargetName[] {
  const v = o.values.targets;
  if (typeof v !== "string") return [...def];
  const out = v.split(",").map((s) => s.trim());
  for (const t of out) {
    if (!(TARGET_NAMES as readonly string[]).includes(t))
      throw new Error(`unknown target ${t}; known: ${TARGET_NAMES.join(", ")}`);
  }
  return out as TargetName[];
}

/** Generator worker processes: at least one per generator core, and enough that none holds over 15,000 sockets. */
export function workerCount(o: BenchOptions, connections: number): number {
  return num(o, "workers", Math.max(o.placement.generatorCores, Math.ceil(connections / 15_000)));
}

/** `--schedule` (schedule.ts): `independent` unless given; any other value is refused, not read as the default. */
export function schedule(o: BenchOptions): Schedule {
  const v = o.values.schedule;
  if (v === undefined) return "independent";
  if ((SCHEDULES as readonly unknown[]).includes(v)) return v as Schedule;
  throw new Error(`--schedule must be one of ${SCHEDULES.join(", ")}, got ${String(v)}`);
}

/** `--schedule` as `--help` shows it. */
export const SCHEDULE_OPTION =
  "independent (each sender at its own fixed pseudo-random phase; in-turn: a room's members one after another, so each room's messages come in a burst, the schedule of earlier rounds)";
