/**
 * The generator's worker processes, seen from the coordinator: spawning (pinned to the generator's cores), handing
 * each a share of the connections, and folding their cumulative counters and latency deltas into one view.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Histogram } from "../metrics/histogram.ts";
import type { DialectKind, NotificationsMode } from "../protocol/dialect.ts";
import type { ConnSpec, FromWorker, ToWorker, WorkerTick } from "../worker/messages.ts";
import { pin } from "./cpus.ts";
import { onInterrupt } from "./interrupt.ts";

/**
 * Generator workers never hand freed memory back to the OS (mimalloc's purge, 10 ms by default). Each read of a
 * socket is copied into a fresh buffer; with the purge, those buffers land on pages the kernel must fault in and
 * zero again, which was a fifth of a worker's CPU in fan-out by `perf` (docs/benchmarks/optimizations.md, "The
 * generator's receive buffers"). A worker is short-lived and its peak memory is small, so nothing is lost. Servers
 * under test run with the environment they are given.
 */
const WORKER_ENV = { ...process.env, MIMALLOC_PURGE_DELAY: "-1" };

export interface PoolOptions {
  readonly workers: number;
  readonly cpus: string | null;
  readonly host: string;
  readonly port: number;
  readonly dialect: DialectKind;
  readonly conns: readonly ConnSpec[];
  readonly roomIds: readonly string[];
  readonly roomSize: readonly number[];
  readonly messageSize: number;
  /** Whether (and how) each Parley connection also subscribes to /user/queue/notifications. */
  readonly notifications?: NotificationsMode;
  readonly localAddresses: readonly string[];
  readonly openConcurrency?: number;
}

export interface Totals {
  opened: number;
  failed: number;
  ready: number;
  closed: number;
  sent: number;
  rejected: number;
  received: number;
  duplicates: number;
  expected: number;
  noProbe: number;
  notifications: number;
  gaps: number;
  resets: number;
  resumed: number;
}

/** Where every subscription's stream ended, against the last seq any subscriber of the same room saw. */
export interface SeqTail {
  /** Subscriptions that received at least one seq-carrying event. */
  readonly subscriptions: number;
  /** Σ over those subscriptions of (highest seq seen in their room − their own last seq): events they never got. */
  readonly behind: number;
}

const COUNTERS: (keyof Totals)[] = [
  "opened",
  "failed",
  "ready",
  "closed",
  "sent",
  "rejected",
  "received",
  "duplicates",
  "expected",
  "noProbe",
  "notifications",
  "gaps",
  "resets",
  "resumed",
];

export const LOCAL_ADDRESSES = [
  "127.0.0.2",
  "127.0.0.3",
  "127.0.0.4",
  "127.0.0.5",
  "127.0.0.6",
  "127.0.0.7",
  "127.0.0.8",
  "127.0.0.9",
];

export class WorkerPool {
  private readonly latest = new Map<number, WorkerTick>();
  /** Latency of deliveries reported since the last `takeLatency`. */
  private readonly pendingLatency = new Histogram();
  /** Every resume's drop-to-resubscribed time since the pool started. */
  readonly resumeLatency = new Histogram();
  /** Wall-clock ms of the latest completed resume in any worker (0 if none). */
  lastResumeAt = 0;
  private readonly seqs = new Map<number, NonNullable<WorkerTick["roomSeqs"]>>();
  /** Ids of `flush` requests made so far. */
  private flushes = 0;
  /** The latest `flush` each worker answered (kept apart: a periodic tick may follow the answer at once). */
  private readonly flushed = new Map<number, number>();
  readonly failures: string[] = [];
  private readonly closedWaiters = new Map<number, () => void>();

  private constructor(private readonly procs: Subprocess[]) {}

  get pids(): number[] {
    return this.procs.map((p) => p.pid);
  }

  static async start(opts: PoolOptions): Promise<WorkerPool> {
    const n = Math.max(1, Math.min(opts.workers, opts.conns.length || 1));
    const procs: Subprocess[] = [];
    let pool: WorkerPool | null = null;
    const inited = new Set<number>();
    let initedAll: () => void = () => {};
    const allInited = new Promise<void>((r) => {
      initedAll = r;
    });
    for (let w = 0; w < n; w++) {
      const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../worker/worker.ts")], {
        stdin: "ignore",
        env: WORKER_ENV,
        stdout: "inherit",
        stderr: "inherit",
        serialization: "json",
        ipc(raw) {
          const msg = raw as FromWorker;
          if (msg.t === "inited") {
            inited.add(msg.worker);
            if (inited.size === n) initedAll();
          } else pool?.onMessage(msg);
        },
      });
      procs.push(proc);
      const unregister = onInterrupt(() => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      });
      void proc.exited.then(unregister);
      await pin(proc.pid, opts.cpus);
    }
    pool = new WorkerPool(procs);
    procs.forEach((proc, w) => {
      const conns = opts.conns.filter((_, i) => i % n === w);
      const msg: ToWorker = {
        t: "init",
        plan: {
          workerIndex: w,
          host: opts.host,
          port: opts.port,
          dialect: opts.dialect,
          // Each worker starts on a different address so no two workers crowd one source address's port range.
          localAddresses: opts.localAddresses.map((_, i, a) => a[(i + w) % a.length]!),
          conns,
          roomIds: opts.roomIds,
          roomSize: opts.roomSize,
          messageSize: opts.messageSize,
          notifications: opts.notifications ?? "off",
          openConcurrency: opts.openConcurrency ?? 200,
        },
      };
      proc.send(msg);
    });
    await Promise.race([
      allInited,
      Bun.sleep(20_000).then(() => {
        throw new Error("generator workers did not start");
      }),
    ]);
    return pool;
  }

  private onMessage(msg: FromWorker): void {
    if (msg.t === "tick") {
      this.latest.set(msg.worker, msg);
      if (msg.flush !== null) this.flushed.set(msg.worker, msg.flush);
      this.pendingLatency.addSparse(msg.latency);
      this.resumeLatency.addSparse(msg.resumeLatency);
      this.lastResumeAt = Math.max(this.lastResumeAt, msg.lastResumeAt);
      if (msg.roomSeqs) this.seqs.set(msg.worker, msg.roomSeqs);
      for (const f of msg.failures) if (this.failures.length < 20) this.failures.push(f);
    } else if (msg.t === "closed") {
      this.closedWaiters.get(msg.worker)?.();
    }
  }

  private broadcast(msg: ToWorker): void {
    for (const p of this.procs) p.send(msg);
  }

  open(): void {
    this.broadcast({ t: "open" });
  }

  setRate(perSender: number): void {
    this.broadcast({ t: "rate", perSender });
  }

  /** Starts a reconnect storm in every worker (see the worker's `storm`). */
  storm(spreadMs: number, reset: boolean): void {
    this.broadcast({ t: "storm", spreadMs, reset });
  }

  /**
   * Brings `totals()` up to date: every worker reports its counters now, counting every send it made before this
   * call (after `setRate(0)`, every send of the run). Workers otherwise report once a second, so without this the
   * last second's sends would be missing from the totals, and from the loss check built on them. False when a
   * worker did not answer within `timeoutMs`.
   */
  async flush(timeoutMs = 5000): Promise<boolean> {
    const id = ++this.flushes;
    this.broadcast({ t: "flush", id });
    const answered = () => this.procs.every((_, i) => (this.flushed.get(i) ?? 0) >= id);
    const until = Date.now() + timeoutMs;
    while (!answered() && Date.now() < until) await Bun.sleep(20);
    return answered();
  }

  /** Asks every worker where its subscriptions' streams end and folds the answers; null if one did not answer. */
  async seqTail(timeoutMs = 5000): Promise<SeqTail | null> {
    this.seqs.clear();
    this.broadcast({ t: "seqs" });
    const until = Date.now() + timeoutMs;
    while (this.seqs.size < this.procs.length && Date.now() < until) await Bun.sleep(50);
    if (this.seqs.size < this.procs.length) return null;
    const parts = [...this.seqs.values()];
    const rooms = parts[0]?.max.length ?? 0;
    let subscriptions = 0;
    let behind = 0;
    for (let r = 0; r < rooms; r++) {
      let max = -1;
      let subs = 0;
      let sum = 0;
      for (const p of parts) {
        max = Math.max(max, p.max[r] ?? -1);
        subs += p.subs[r] ?? 0;
        sum += p.sum[r] ?? 0;
      }
      subscriptions += subs;
      behind += subs * max - sum;
    }
    return { subscriptions, behind };
  }

  /**
   * Notification frames received on sockets opened by a reconnect, over every worker. Kept out of `totals()`,
   * whose every counter goes into each run's result: only a run that needs it reports it (see `runLoad`).
   */
  notificationsAfterReconnect(): number {
    let n = 0;
    for (const tick of this.latest.values()) n += tick.notificationsAfterReconnect;
    return n;
  }

  totals(): Totals {
    const t = Object.fromEntries(COUNTERS.map((k) => [k, 0])) as unknown as Totals;
    for (const tick of this.latest.values()) for (const k of COUNTERS) t[k] += tick[k];
    return t;
  }

  /** The latency histogram of deliveries reported since the previous call. */
  takeLatency(): Histogram {
    const h = new Histogram();
    h.merge(this.pendingLatency);
    this.pendingLatency.reset();
    return h;
  }

  /** Waits until every connection is ready or failed, reporting progress about once a second. */
  async waitOpen(total: number, progress: (t: Totals) => void, timeoutMs = 180_000): Promise<Totals> {
    const until = Date.now() + timeoutMs;
    for (let k = 0; ; k++) {
      await Bun.sleep(250);
      const t = this.totals();
      if (k % 4 === 3) progress(t);
      if (t.ready + t.failed >= total || Date.now() > until) return t;
    }
  }

  async close(): Promise<void> {
    const waits = this.procs.map(
      (_, w) =>
        new Promise<void>((r) => {
          this.closedWaiters.set(w, r);
        }),
    );
    this.broadcast({ t: "close" });
    await Promise.race([Promise.all(waits), Bun.sleep(5000)]);
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    }
    await Promise.race([Promise.all(this.procs.map((p) => p.exited)), Bun.sleep(3000)]);
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
}
