/** Pieces shared by the load scenarios: room layouts, starting targets, and running a list of them in turn. */
import type { NotificationsMode } from "../protocol/dialect.ts";
import { type RunOptions, type RunResult, runLoad } from "../runner/run-load.ts";
import { startParley } from "../targets/parley.ts";
import { DEFAULT_PG_URL, DEFAULT_REDIS_URL, startParleyCluster } from "../targets/parley-cluster.ts";
import { startBarePeer, startRabbitPeer, startSocketIoPeer } from "../targets/peers.ts";
import type { Layout, Target, TargetName } from "../targets/target.ts";
import { num, schedule } from "./options.ts";
import type { BenchOptions } from "./scenario.ts";

/** `rooms` rooms of `size` connections each, every connection in exactly one room. */
export function roomsOf(rooms: number, size: number): Layout {
  return { rooms, connRooms: Array.from({ length: rooms * size }, (_, i) => [Math.floor(i / size)]) };
}

/** The first connection of each room sends. */
export function oneSenderPerRoom(layout: Layout): number[] {
  const seen = new Set<number>();
  return layout.connRooms.map((rooms) => {
    const r = rooms[0];
    if (r === undefined || seen.has(r)) return -1;
    seen.add(r);
    return r;
  });
}

/** Every connection sends to its (first) room. */
export function everyoneSends(layout: Layout): number[] {
  return layout.connRooms.map((rooms) => rooms[0] ?? -1);
}

/**
 * The load of the chat-shaped scenarios (seed, afreeca-rooms, afreeca-one-room): every connection sends to its room
 * once per `interval` seconds on the `--schedule` (schedule.ts), messages of `--size` bytes, from `workers`
 * generator workers on the generator's cores.
 */
export function everyoneEvery(
  o: BenchOptions,
  layout: Layout,
  interval: number,
  workers: number,
): Pick<
  RunOptions,
  "sendRooms" | "messageSize" | "workers" | "generatorCpus" | "generatorCores" | "rates" | "schedule"
> {
  return {
    sendRooms: everyoneSends(layout),
    messageSize: num(o, "size", 64),
    workers,
    generatorCpus: o.placement.generatorCpus,
    generatorCores: o.placement.generatorCores,
    rates: [1 / interval],
    schedule: schedule(o),
  };
}

/** `--notifications` as `--help` shows it, for every scenario that offers it. */
export const NOTIFICATIONS_OPTION =
  "off (--notifications: every client also follows /user/queue/notifications, as one with a room list; --notifications skip-followed: with skip-followed:true, as one with its rooms open)";

/**
 * `--notifications` (or `--notifications on`): every Parley client also subscribes to /user/queue/notifications
 * on each of its connections; `--notifications skip-followed` does so with the header `skip-followed:true`. Any
 * other value is refused rather than read as off, so a typo cannot quietly measure the lighter workload.
 */
export function notificationsMode(o: BenchOptions): NotificationsMode {
  const v = o.values.notifications;
  if (v === undefined || v === "off") return "off";
  if (v === true || v === "on") return "on";
  if (v === "skip-followed") return "skip-followed";
  throw new Error(`--notifications takes no value (or on / off / skip-followed), got ${String(v)}`);
}

/**
 * The most notification frames a run's clients can get when every room holds `roomSize` of them: one per
 * accepted message for each member of its room but the sender (a sender is not notified of its own message).
 */
export function notificationsCeiling(r: RunResult, roomSize: number): number {
  return (r.totals.sent - r.totals.rejected) * (roomSize - 1);
}

export async function startTarget(
  name: TargetName,
  o: BenchOptions,
  layout: Layout,
  parleyEnv: Record<string, string> = {},
): Promise<Target> {
  const cpus = o.placement.serverCpus;
  switch (name) {
    case "parley": {
      // --processes N (N > 1: PostgreSQL + Redis on one shared port) or --store postgres (one process).
      const processes = Math.max(1, Math.floor(num(o, "processes", 1)));
      if (processes > 1 || o.values.store === "postgres") {
        const pg = o.values["database-url"];
        const redis = o.values["redis-url"];
        return startParleyCluster({
          processes,
          cpus,
          pgUrl: typeof pg === "string" ? pg : DEFAULT_PG_URL,
          redisUrl: typeof redis === "string" ? redis : DEFAULT_REDIS_URL,
          env: parleyEnv,
          fresh: o.values.fresh === true,
        });
      }
      return startParley(layout, {
        cpus,
        env: parleyEnv,
        fresh: o.values.fresh === true,
        ephemeral: o.values.ephemeral === true,
      });
    }
    case "bare":
      return startBarePeer(cpus);
    case "socketio":
      return startSocketIoPeer(cpus);
    case "rabbitmq":
      return startRabbitPeer();
  }
}

export interface TargetRuns {
  readonly runs: RunResult[];
  readonly notes: string[];
}

/**
 * Runs the same load against each target in turn, one at a time, stopping each before the next starts. A target
 * that cannot start or fails mid-run is reported in a note (and in its run's `error`), never silently dropped.
 */
export async function runEach(
  names: readonly TargetName[],
  o: BenchOptions,
  layout: Layout,
  load: Omit<RunOptions, "target" | "layout" | "status">,
  parleyEnv: Record<string, string> = {},
): Promise<TargetRuns> {
  const runs: RunResult[] = [];
  const notes: string[] = [];
  for (const name of names) {
    let target: Target | null = null;
    try {
      target = await startTarget(name, o, layout, parleyEnv);
      runs.push(await runLoad({ ...load, target, layout, status: o.status }));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      notes.push(`${name}: skipped — ${reason.split("\n")[0]}`);
      o.status(`[${name}] skipped: ${reason.split("\n")[0]}`);
    } finally {
      await target?.stop();
    }
  }
  return { runs, notes };
}
