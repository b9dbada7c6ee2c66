/** The IPC contract between the coordinator and its generator worker processes (JSON over Bun's IPC channel). */
import type { DialectKind, NotificationsMode } from "../protocol/dialect.ts";

export interface ConnSpec {
  /** Parley access token; absent for peers without auth. */
  readonly token?: string;
  /** Room indexes this connection subscribes to. */
  readonly rooms: readonly number[];
  /** Room index this connection sends to, or -1 for a pure receiver. */
  readonly sendRoom: number;
  /** When in each period of the rate it sends, as a fraction of the period in [0, 1) (schedule.ts). */
  readonly phase: number;
}

export interface WorkerPlan {
  readonly workerIndex: number;
  readonly host: string;
  readonly port: number;
  readonly dialect: DialectKind;
  /** Source addresses to spread connections over (127.0.0.2–9), so ephemeral ports do not run out. */
  readonly localAddresses: readonly string[];
  readonly conns: readonly ConnSpec[];
  /** Opaque room id per room index (Parley ids, peer room names). */
  readonly roomIds: readonly string[];
  /** Subscribers per room index, to count expected deliveries per accepted send. */
  readonly roomSize: readonly number[];
  readonly messageSize: number;
  /** Whether (and how) each Parley connection also subscribes to /user/queue/notifications. */
  readonly notifications: NotificationsMode;
  /** Upgrades in flight at once in this worker. */
  readonly openConcurrency: number;
}

export type ToWorker =
  | { readonly t: "init"; readonly plan: WorkerPlan }
  | { readonly t: "open" }
  /** Messages per second per sending connection; 0 stops sending. */
  | { readonly t: "rate"; readonly perSender: number }
  /**
   * Every ready connection drops within `spreadMs` and reconnects, resuming with since-seq. `reset`: the socket is
   * aborted (TCP RST, as when a network drops a client); otherwise closed (TCP FIN).
   */
  | { readonly t: "storm"; readonly spreadMs: number; readonly reset: boolean }
  /** Asks for a tick that carries `roomSeqs` (after a drain). */
  | { readonly t: "seqs" }
  /**
   * Asks for a tick now, answered with `flush` set to `id`: as messages are handled in order, it counts every send
   * made before it (a "rate" 0 sent first means every send of the run).
   */
  | { readonly t: "flush"; readonly id: number }
  | { readonly t: "close" };

export interface WorkerTick {
  readonly t: "tick";
  readonly worker: number;
  /** Cumulative counters since the worker started. */
  readonly opened: number;
  readonly failed: number;
  readonly ready: number;
  readonly closed: number;
  readonly sent: number;
  readonly rejected: number;
  readonly received: number;
  readonly duplicates: number;
  readonly expected: number;
  readonly noProbe: number;
  /** Frames received on /user/queue/notifications. */
  readonly notifications: number;
  /** Of those, the ones received on a socket opened by a reconnect (after a storm's drop). */
  readonly notificationsAfterReconnect: number;
  readonly gaps: number;
  readonly resets: number;
  readonly resumed: number;
  /** Wall-clock ms of the latest completed resume (0 if none). */
  readonly lastResumeAt: number;
  /** Drop-to-resubscribed times of resumes since the previous tick. */
  readonly resumeLatency: { readonly pairs: number[]; readonly max: number };
  /**
   * Per room index, over this worker's subscriptions that received anything: how many, the sum of their last
   * seqs and the highest. Only in ticks asked for with "seqs" and in the last one.
   */
  readonly roomSeqs: { readonly subs: number[]; readonly sum: number[]; readonly max: number[] } | null;
  /** The id of the "flush" this tick answers, or null for a periodic tick. */
  readonly flush: number | null;
  /** Latency histogram of deliveries since the previous tick. */
  readonly latency: { readonly pairs: number[]; readonly max: number };
  readonly failures: readonly string[];
}

export type FromWorker =
  | { readonly t: "inited"; readonly worker: number }
  | WorkerTick
  | { readonly t: "closed"; readonly worker: number };
