/**
 * Writes a scenario's JSON result, its Markdown report and SVG charts (latency over time, deliveries/s per step)
 * under docs/benchmarks/, named `<scenario>-<UTC timestamp>`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult, StepResult } from "../runner/run-load.ts";
import type { Check, ScenarioResult } from "./result.ts";
import { type LineSeries, lineChart } from "./svg.ts";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

const n = (v: number) => v.toLocaleString("en");
/** A rate per sender to four significant digits: once a minute is 0.01667, not 0.016666666666666666. */
const rateText = (v: number) => String(Number(v.toPrecision(4)));
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

function runTable(runs: readonly RunResult[]): string {
  let t =
    "| target | connections ready/failed | peak deliveries/s | at rate/sender | p50 / p95 / p99 / max ms | delivered | server cpu | server RSS | generator cpu |\n" +
    "|---|---|---|---|---|---|---|---|---|\n";
  for (const r of runs) {
    const p = r.peak;
    const lb = p?.generatorSaturated ? " (lower bound: generator saturated)" : "";
    t += `| ${r.target} | ${n(r.connections.ready)}/${n(r.connections.failed)} | ${p ? n(p.deliveriesPerSec) + lb : "–"} | ${p ? rateText(p.rate) : "–"} | ${
      p ? `${p.latencyMs.p50} / ${p.latencyMs.p95} / ${p.latencyMs.p99} / ${p.latencyMs.max}` : "–"
    } | ${p ? `${(p.delivered * 100).toFixed(1)} %` : "–"} | ${p ? p.serverCpu : "–"} | ${p ? mib(p.serverRssBytes) : "–"} | ${p ? p.generatorCpu : "–"} |\n`;
  }
  return t;
}

/** The store's append latency in a step: "p50 / p99 (n commits)", or – for a target without a store. */
function commitCell(s: StepResult): string {
  const c = s.storeCommitMs;
  return c ? `${c.p50} / ${c.p99} (${n(c.count)})` : "–";
}

/**
 * The store's group commits in a step: "run p99 / ≤ slowest · late p99 / ≤ slowest (n)", or – for a target without
 * a store. A slowest commit past the histogram's last bound reads "> 30000".
 */
function groupCommitCell(s: StepResult): string {
  const g = s.groupCommits;
  if (!g) return "–";
  const slowest = (v: number | null) => (v === null ? "> 30000" : `≤ ${v}`);
  return `${g.runP99} / ${slowest(g.runMax)} · ${g.lateP99} / ${slowest(g.lateMax)} (${n(g.count)})`;
}

/** Each server process's cores and peak RSS, when there are several (one process is the server cpu column). */
function processesCell(s: StepResult): string {
  const ps = s.serverProcesses ?? [];
  return ps.length > 1 ? ps.map((p) => `${p.cpu} (${mib(p.peakRssBytes)})`).join(" · ") : "–";
}

function stepTable(r: RunResult): string {
  let t =
    "| rate/sender | sent/s | deliveries/s | delivered | p50 | p95 | p99 | max (ms) | store commit p50 / p99 ms (commits) | group commits: run · late, p99 / slowest ms (commits) | server cpu | per process: cpu (peak RSS) | gen cpu (busiest second) | verdict |\n" +
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const s of r.steps) {
    t += `| ${rateText(s.rate)} | ${n(s.sentPerSec)} | ${n(s.deliveriesPerSec)}${s.generatorSaturated ? " ≥" : ""} | ${(s.delivered * 100).toFixed(1)} % | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.latencyMs.max} | ${commitCell(s)} | ${groupCommitCell(s)} | ${s.serverCpu} | ${processesCell(s)} | ${s.generatorCpu} (${s.generatorCpuMax ?? "–"}) | ${s.passed ? "pass" : "**stop**"} |\n`;
  }
  return t;
}

function totalsLine(r: RunResult): string {
  const t = r.totals;
  return (
    `connections: ${n(r.connections.requested)} requested, ${n(r.connections.opened)} opened, ${n(r.connections.ready)} ready, ` +
    `${n(r.connections.failed)} failed (open took ${r.openSeconds} s); messages: ${n(t.sent)} sent, ${n(t.accepted)} accepted, ` +
    `${n(t.rejected)} rejected; deliveries: ${n(t.received)} received of ${n(t.expected)} expected, **${n(t.lost)} lost**, ` +
    `**${n(t.duplicates)} duplicates**; overall latency p50 ${r.latencyMs.p50} / p99 ${r.latencyMs.p99} / max ${r.latencyMs.max} ms` +
    (r.rssPerConnectionBytes !== null ? `; server RSS per connection ${n(r.rssPerConnectionBytes)} B` : "")
  );
}

function verdict(c: Check): string {
  if (c.ok === null) return c.value === "–" ? "not measured" : "no verdict";
  return c.ok ? "met" : "**not met**";
}

export function renderMarkdown(res: ScenarioResult, charts: { latency: string; steps: string }): string {
  const m = res.machine;
  let md = `# ${res.title}\n\n`;
  md += `- command: \`${res.command}\`\n- started: ${res.startedAt}\n`;
  md += `- machine: ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.kernel}; open files ${m.openFilesLimit}\n`;
  md += `- runtimes: Bun ${m.bun}, Node ${m.node ?? "absent"}, RabbitMQ ${m.rabbitmq ?? "absent"}\n`;
  md += `- placement: ${res.placement}\n`;
  md += `- options: \`${JSON.stringify(res.options)}\`\n\n`;
  if (res.checks.length > 0) {
    md += "## Checks\n\n| check | measured | goal | result |\n|---|---|---|---|\n";
    for (const c of res.checks) md += `| ${c.name} | ${c.value} | ${c.goal} | ${verdict(c)} |\n`;
    md += "\n";
  }
  if (res.runs.length > 0) {
    md += `## Runs\n\n${runTable(res.runs)}\n`;
    md += `![latency over time](${charts.latency})\n\n![deliveries per step](${charts.steps})\n\n`;
    for (const r of res.runs) {
      md += `### ${r.target} (${r.placement})\n\n${totalsLine(r)}\n\n`;
      if (r.error) md += `error: ${r.error}\n\n`;
      if (r.steps.length > 0) md += `${stepTable(r)}\n`;
      if (r.failures.length > 0)
        md += `first failures: ${r.failures
          .slice(0, 5)
          .map((f) => `\`${f}\``)
          .join(", ")}\n\n`;
    }
  }
  if (Object.keys(res.measurements).length > 0) {
    md += `## Measurements\n\n\`\`\`json\n${JSON.stringify(res.measurements, null, 2)}\n\`\`\`\n\n`;
  }
  if (res.notes.length > 0) md += `## Notes\n\n${res.notes.map((x) => `- ${x}`).join("\n")}\n`;
  return md;
}

export function writeReport(res: ScenarioResult, outDir: string): { json: string; markdown: string } {
  mkdirSync(outDir, { recursive: true });
  const stamp = res.startedAt.replace(/[:.]/g, "-").replace(/-\d{3}Z$/, "Z");
  const base = `${res.scenario}-${stamp}`;
  const latencySeries: LineSeries[] = res.runs.map((r, i) => ({
    name: `${r.target} p99`,
    color: COLORS[i % COLORS.length]!,
    points: r.series.map((p) => [p.t, p.p99Ms] as const),
  }));
  const stepSeries: LineSeries[] = res.runs.map((r, i) => ({
    name: r.target,
    color: COLORS[i % COLORS.length]!,
    points: r.steps.map((s, k) => [k + 1, s.deliveriesPerSec] as const),
  }));
  const latencyFile = `${base}-latency.svg`;
  const stepsFile = `${base}-steps.svg`;
  writeFileSync(
    join(outDir, latencyFile),
    lineChart("p99 latency over time (per second)", "seconds", "ms", latencySeries),
  );
  writeFileSync(
    join(outDir, stepsFile),
    lineChart("deliveries/s per step", "step", "deliveries/s", stepSeries),
  );
  const json = join(outDir, `${base}.json`);
  const markdown = join(outDir, `${base}.md`);
  writeFileSync(json, `${JSON.stringify(res, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(res, { latency: latencyFile, steps: stepsFile }));
  return { json, markdown };
}
