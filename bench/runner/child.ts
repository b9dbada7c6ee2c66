/**
 * Starting a server-side child process (peer or Parley) and waiting for the line that says it listens. The child
 * is always stopped by its own pid (SIGTERM, then SIGKILL after a grace period).
 */
import type { Subprocess } from "bun";
import { onInterrupt } from "./interrupt.ts";

/** How long a child gets after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 20_000;

export interface Child {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/**
 * Spawns `cmd` and resolves once stdout has a line matching `ready` (its first capture group is the port), or
 * once `ready.probe(pid)` answers true.
 * Stderr is kept (last 4 KB) to explain a failure to start.
 */
export async function spawnChild(
  cmd: string[],
  ready: RegExp | { readonly port: number; readonly probe: (pid: number) => Promise<boolean> },
  opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<Child> {
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(cmd, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let stderr = "";
  const stderrRead = (async () => {
    for await (const chunk of chunks(proc.stderr))
      stderr = (stderr + new TextDecoder().decode(chunk)).slice(-4096);
  })();
  /** Stderr to the end once the child has exited (its stdout can end first), so a failure names its cause. */
  const stderrOfExit = async (): Promise<string> => {
    await Promise.race([stderrRead, Bun.sleep(1000)]);
    return stderr;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${cmd.join(" ")} did not start: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    if (!(ready instanceof RegExp)) {
      void (async () => {
        while (proc.exitCode === null && !(await ready.probe(proc.pid))) await Bun.sleep(100);
        clearTimeout(timer);
        if (proc.exitCode === null) resolve(ready.port);
        else reject(new Error(`${cmd.join(" ")} exited before listening: ${await stderrOfExit()}`));
      })();
    }
    void (async () => {
      let out = "";
      let found = !(ready instanceof RegExp);
      for await (const chunk of chunks(proc.stdout)) {
        if (found || !(ready instanceof RegExp)) continue; // keep draining so the child never blocks on a full pipe
        out += new TextDecoder().decode(chunk);
        const m = ready.exec(out);
        if (m) {
          found = true;
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }
      if (!found && ready instanceof RegExp) {
        clearTimeout(timer);
        reject(new Error(`${cmd.join(" ")} exited before listening: ${(await stderrOfExit()) || out}`));
      }
    })();
  });
  const stop = async (): Promise<void> => {
    unregister();
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    // Long enough for a server holding thousands of sockets to close them and write a requested CPU profile.
    const killed = await Promise.race([
      proc.exited.then(() => true),
      Bun.sleep(STOP_GRACE_MS).then(() => false),
    ]);
    if (!killed) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  const unregister = onInterrupt(stop);
  return { pid: proc.pid, port, stop };
}
