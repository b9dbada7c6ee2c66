/**
 * CPU and memory of a process from /proc (Linux): cumulative CPU seconds from /proc/<pid>/stat (utime + stime, all
 * threads) and resident memory from /proc/<pid>/status. A rate is the difference of two samples.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Linux reports stat times in clock ticks of 1/100 s on every mainstream architecture (USER_HZ). */
const USER_HZ = 100;

export interface ProcSample {
  readonly pid: number;
  readonly at: number;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return {
      pid,
      at: performance.now(),
      cpuSeconds: ticks / USER_HZ,
      rssBytes: rss ? Number(rss[1]) * 1024 : 0,
    };
  } catch {
    return null;
  }
}

/** Share of one core used between two samples (1 = one full core). */
export function cpuShare(a: ProcSample, b: ProcSample): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? (b.cpuSeconds - a.cpuSeconds) / wall : 0;
}

/** Sums several processes' samples (e.g. all server processes, or all generator workers). */
export function sampleMany(pids: readonly number[]): ProcSample[] {
  const out: ProcSample[] = [];
  for (const pid of pids) {
    const s = sampleProc(pid);
    if (s) out.push(s);
  }
  return out;
}

export function cpuShareMany(a: readonly ProcSample[], b: readonly ProcSample[]): number {
  let total = 0;
  for (const sb of b) {
    const sa = a.find((s) => s.pid === sb.pid);
    if (sa) total += cpuShare(sa, sb);
  }
  return total;
}

/** CPU seconds the processes have used so far, summed (one that cannot be read, ended say, counts nothing). */
export function cpuSecondsOf(pids: readonly number[]): number {
  let total = 0;
  for (const s of sampleMany(pids)) total += s.cpuSeconds;
  return total;
}

/** This machine's processes named `name` (/proc/<pid>/comm), e.g. "postgres": the server and its backends. */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}
