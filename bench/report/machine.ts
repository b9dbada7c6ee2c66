/** What a result is stamped with: the machine, the runtimes, the exact command, and when. */
import { cpus, totalmem } from "node:os";
import { benchEnv } from "../targets/bench-env.ts";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly bun: string;
  readonly node: string | null;
  readonly rabbitmq: string | null;
  readonly openFilesLimit: string;
}

async function output(cmd: string[]): Promise<string | null> {
  try {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore" });
    const text = (await new Response(p.stdout).text()).trim();
    return (await p.exited) === 0 ? text : null;
  } catch {
    return null;
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const c = cpus();
  const node = Bun.which("node") ? await output(["node", "--version"]) : null;
  const rabbit = Bun.which("rabbitmqctl") ? await output(["rabbitmqctl", "version"]) : null;
  return {
    cpuModel: c[0]?.model ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: (await output(["uname", "-sr"])) ?? "unknown",
    bun: Bun.version,
    node,
    rabbitmq: rabbit,
    openFilesLimit: (await output(["sh", "-c", "ulimit -n"])) ?? "unknown",
  };
}

/**
 * The command as a user would retype it, preceded by the settings of the environment that the processes the bench
 * starts inherit, so they are part of what was measured: Parley's (PARLEY_*, but those the bench sets itself,
 * benchEnv) and the runtime's (BUN_JSC_* engine options, BUN_OPTIONS).
 */
const OWN = benchEnv("", 0, 0);

const inherited = (name: string): boolean =>
  name.startsWith("PARLEY_") || name.startsWith("BUN_JSC_") || name === "BUN_OPTIONS";

export function commandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const quote = (a: string): string => (/^[\w./:=,-]+$/.test(a) ? a : JSON.stringify(a));
  const settings = Object.entries(env)
    .filter((e): e is [string, string] => inherited(e[0]) && e[1] !== undefined && !(e[0] in OWN))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${quote(v)} `)
    .join("");
  return `${settings}npm run bench -- ${argv.map(quote).join(" ")}`.trim();
}
