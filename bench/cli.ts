/**
 * `npm run bench -- <scenario> [--option value ...]`, `--list`, `<scenario> --help`.
 * Runs one scenario, shows a live status line per phase, then prints the JSON result path and writes the JSON and
 * a Markdown report with SVG charts under docs/benchmarks/ (or --out DIR; --no-report writes nothing).
 * Common options: --no-pin (do not split cores between server and generator), --quiet, --fresh (rebuild the
 * Parley fixture), --workers N.
 * Exit codes: 0 done (whatever the checks say), 1 the run failed, 2 bad usage.
 */
import { join } from "node:path";
import { placement } from "./runner/cpus.ts";
import { endStatus, statusLine } from "./runner/status.ts";
import { commandLine, machineInfo } from "./report/machine.ts";
import type { ScenarioResult } from "./report/result.ts";
import { writeReport } from "./report/write.ts";
import { findScenario, SCENARIOS } from "./scenarios/registry.ts";

function parse(argv: readonly string[]): { positional: string[]; values: Record<string, string | boolean> } {
  const positional: string[] = [];
  const values: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    if (eq > 0) {
      values[a.slice(2, eq)] = a.slice(eq + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      values[a.slice(2)] = next;
      i++;
    } else values[a.slice(2)] = true;
  }
  return { positional, values };
}

function listing(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`).join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { positional, values } = parse(argv);
  if (values.list === true || positional.length === 0) {
    console.log(`usage: npm run bench -- <scenario> [options]\n\nscenarios:\n${listing()}`);
    return positional.length === 0 && values.list !== true ? 2 : 0;
  }
  const name = positional[0]!;
  const scenario = findScenario(name);
  if (!scenario) {
    console.error(`unknown scenario: ${name}\n\nscenarios:\n${listing()}`);
    return 2;
  }
  if (values.help === true) {
    const opts = Object.entries(scenario.options).map(([k, v]) => `  --${k} (default ${v})`);
    console.log(
      `${scenario.name}: ${scenario.summary}\n\noptions:\n${opts.join("\n")}\n  --no-pin --quiet --fresh --out DIR --no-report`,
    );
    return 0;
  }
  if (!scenario.implemented) {
    console.error(`${scenario.name}: ${scenario.summary}`);
    await scenario.run({ values, placement: placement(false), status: () => {} }).catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
    });
    return 2;
  }
  const place = placement(values["no-pin"] !== true);
  const status = statusLine(values.quiet === true);
  const startedAt = new Date().toISOString();
  const machine = await machineInfo();
  status(
    `${scenario.name}: ${machine.cores} cores, ${place.pinned ? `server on cpus ${place.serverCpus}, generator on cpus ${place.generatorCpus}` : "not pinned"}`,
  );
  const out = await scenario.run({ values, placement: place, status });
  endStatus();
  const result: ScenarioResult = {
    scenario: scenario.name,
    startedAt,
    command: commandLine(argv),
    machine,
    placement: place.pinned
      ? `taskset: server processes on cpus ${place.serverCpus}, generator workers on cpus ${place.generatorCpus}`
      : "not pinned (server and generator share all cores)",
    ...out,
  };
  for (const c of result.checks) {
    console.log(`${c.ok === null ? "·" : c.ok ? "✓" : "✗"} ${c.name}: ${c.value} (goal ${c.goal})`);
  }
  for (const n of result.notes) console.log(`  note: ${n}`);
  if (values["no-report"] === true) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  const dir = typeof values.out === "string" ? values.out : join(import.meta.dir, "../docs/benchmarks");
  const files = writeReport(result, dir);
  console.log(`result: ${files.json}\nreport: ${files.markdown}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    endStatus();
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
