/** What a result is stamped with: the machine, the runtimes, the exact command, and when. */
import { cpus, totalmem } from "node:os";

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

/** The command as a user would retype it. */
export function commandLine(argv: readonly string[]): string {
  return `npm run bench -- ${argv.map((a) => (/^[\w./:=,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}`.trim();
}
