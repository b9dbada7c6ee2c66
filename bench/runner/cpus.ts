/**
 * Core placement. With two or more cores the server side gets the lower half and the generator the upper half
 * (`taskset`), so each side's CPU use is measurable and a saturated generator is detectable rather than silently
 * stealing the server's core.
 */
import { availableParallelism } from "node:os";

export interface Placement {
  readonly pinned: boolean;
  /** taskset cpu list for servers/peers, or null when not pinned. */
  readonly serverCpus: string | null;
  readonly generatorCpus: string | null;
  readonly generatorCores: number;
}

export function placement(pin: boolean): Placement {
  const cores = availableParallelism();
  const tasksetOk = Bun.which("taskset") !== null;
  if (!pin || cores < 2 || !tasksetOk) {
    return { pinned: false, serverCpus: null, generatorCpus: null, generatorCores: cores };
  }
  const half = Math.floor(cores / 2);
  const list = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  return {
    pinned: true,
    serverCpus: list(0, half - 1),
    generatorCpus: list(half, cores - 1),
    generatorCores: cores - half,
  };
}

/** Pins every thread of `pid` to `cpus`; a no-op when cpus is null. */
export async function pin(pid: number, cpus: string | null): Promise<void> {
  if (cpus === null) return;
  const p = Bun.spawn(["taskset", "-a", "-p", "-c", cpus, String(pid)], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0)
    throw new Error(`taskset failed for pid ${pid}: ${await new Response(p.stderr).text()}`);
}
