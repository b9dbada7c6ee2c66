/**
 * One measured run against one target: open every connection, then apply each send rate for a step, sampling
 * once a second (deliveries, latency, server and generator CPU/RSS), stop at the first step that breaks the
 * criteria, drain, and count what was lost or duplicated. The first second of each step (or `warmupSeconds`) is
 * warm-up and excluded from the step's figures (it still appears in the time series).
 */
import { Histogram } from "../metrics/histogram.ts";
import { cpuShare, cpuShareMany, type ProcSample, sampleMany } from "../metrics/proc-stats.ts";
import { type StoreCommit, storeCommitOf } from "../metrics/prom-histogram.ts";
import { scrapeRateLimited } from "../metrics/prom-text.ts";
import { type GroupCommits, groupCommitsOf, scrapeStore } from "../metrics/store-metrics.ts";
import type { NotificationsMode } from "../protocol/dialect.ts";
import type { Layout, Target } from "../targets/target.ts";
import type { ConnSpec } from "../worker/messages.ts";
import { LOCAL_ADDRESSES, type SeqTail, type Totals, WorkerPool } from "./pool.ts";
import { generatorSaturated } from "./saturation.ts";
import { phaseOf, type Schedule } from "./schedule.ts";
import type { Status } from "./status.ts";

export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** One server process over a step's measured seconds. */
export interface ProcessFigures {
  readonly pid: number;
  /** Cores used on average (1 = one full core). */
  readonly cpu: number;
  readonly peakRssBytes: number;
}

export interface StepResult {
  /** Messages per second per sending connection. */
  readonly rate: number;
  readonly seconds: number;
  readonly sentPerSec: number;
  readonly deliveriesPerSec: number;
  /** Deliveries received ÷ deliveries expected from the sends of the same window. */
  readonly delivered: number;
  readonly latencyMs: Latency;
  /** Cores used by all server processes (1 = one full core). */
  readonly serverCpu: number;
  readonly serverRssBytes: number;
  readonly generatorCpu: number;
  /** The busiest second of the step for the generator (cores). */
  readonly generatorCpuMax: number;
  /** The generator's cores were ≥ 95 % busy in some second of the step: its throughput is a lower bound. */
  readonly generatorSaturated: boolean;
  /** Null for targets without a store or metrics (the peers), or when a scrape failed. */
  readonly storeCommitMs: StoreCommit | null;
  /** The store's group commits: their own time and their lateness (null as for storeCommitMs). */
  readonly groupCommits: GroupCommits | null;
  /** Each server process, in the order of the target's pids. */
  readonly serverProcesses: readonly ProcessFigures[];
  readonly passed: boolean;
}

export interface SeriesPoint {
  readonly t: number;
  readonly rate: number;
  readonly deliveriesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverCpu: number;
  readonly generatorCpu: number;
  readonly serverRssBytes: number;
}

export interface RunResult {
  readonly target: string;
  readonly placement: string;
  readonly connections: {
    readonly requested: number;
    readonly opened: number;
    readonly ready: number;
    readonly failed: number;
  };
  readonly openSeconds: number;
  /** Server RSS growth from before the connections to after they were all open, per ready connection. */
  readonly rssPerConnectionBytes: number | null;
  /**
   * The same growth at the end of the last step, per ready connection. In a run that sends nothing (idle) it is
   * what the connections hold once the connect burst's garbage is collected and its pages returned, which the
   * runtime does on its own within seconds of the burst.
   */
  readonly rssPerConnectionAtEndBytes: number | null;
  readonly steps: StepResult[];
  /** The passing step with the most deliveries per second. */
  readonly peak: StepResult | null;
  readonly totals: Totals & { readonly accepted: number; readonly lost: number };
  readonly latencyMs: Latency;
  readonly series: SeriesPoint[];
  readonly failures: string[];
  /** Where each subscription's stream ended after the drain (room-seq dialects; null when not asked for). */
  readonly seqTail: SeqTail | null;
  /** Drop-to-resubscribed time of every resume (reconnect storms), or null when nothing resumed. */
  readonly resumeMs: Latency | null;
  /** Wall-clock ms of the last completed resume (0 if none). */
  readonly lastResumeAt: number;
  /**
   * Sends the servers refused with RATE_LIMITED in this run, by their own count (GET /metrics, read after the
   * drain; the processes start afresh for each run), to set beside the clients' `totals.rejected`. Null for
   * targets without metrics, or when a process did not answer.
   */
  readonly serverRateLimited: number | null;
  /**
   * Notification frames received on sockets opened by a reconnect (each from the SUBSCRIBE sent anew on it).
   * Only in runs whose connections followed notifications and in which some resumed (storm --notifications), so
   * every other run's result stays as it was.
   */
  readonly notificationsAfterReconnect?: number;
  readonly error?: string;
}

/** What a scenario may do at the end of each second of a step (e.g. start a reconnect storm). */
export type OnSecond = (at: {
  readonly rate: number;
  readonly second: number;
  readonly pool: WorkerPool;
}) => void;

export interface RunOptions {
  readonly target: Target;
  readonly layout: Layout;
  /** Room each connection sends to, or -1. */
  readonly sendRooms: readonly number[];
  readonly messageSize: number;
  /** Whether (and how) each Parley connection also subscribes to /user/queue/notifications. */
  readonly notifications?: NotificationsMode;
  readonly workers: number;
  readonly generatorCpus: string | null;
  readonly generatorCores: number;
  readonly rates: readonly number[];
  /**
   * When in each period the senders send (schedule.ts). Default `in-turn`, which with one sender per room only
   * spreads the rooms' sends evenly; scenarios where a room has many senders choose (`--schedule`).
   */
  readonly schedule?: Schedule;
  readonly stepSeconds: number;
  /** Stop after a step whose p99 exceeds this (ms) or whose delivered share is below `minDelivered`. */
  readonly maxP99Ms: number;
  readonly minDelivered: number;
  readonly drainSeconds: number;
  readonly status: Status;
  readonly onSecond?: OnSecond;
  /** Seconds at the start of each step excluded from its figures (default 1; they stay in the time series). */
  readonly warmupSeconds?: number;
  /** Ask the workers where every subscription's stream ended, after the drain. */
  readonly seqTail?: boolean;
}

function latencyOf(h: Histogram): Latency {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    count: h.count,
    p50: ms(h.quantile(0.5)),
    p95: ms(h.quantile(0.95)),
    p99: ms(h.quantile(0.99)),
    max: ms(h.max),
  };
}

/** How long a step's second waits for the workers' counters before it takes their last periodic report. */
const FLUSH_EACH_SECOND_MS = 250;

/** pool.flush, and a failure in the result when a worker did not answer (its totals are then a second old). */
async function flushTotals(pool: WorkerPool): Promise<void> {
  if (!(await pool.flush())) pool.failures.push("a generator worker did not report its counters when asked");
}

function rss(samples: readonly ProcSample[]): number {
  return samples.reduce((a, s) => a + s.rssBytes, 0);
}

export async function runLoad(o: RunOptions): Promise<RunResult> {
  const { target, layout, status } = o;
  const name = target.name;
  status(`[${name}] preparing ${layout.connRooms.length} connections in ${layout.rooms} rooms`);
  const prepared = await target.prepare(layout, (l) => status(`[${name}] ${l}`));
  const roomSize = Array.from({ length: layout.rooms }, () => 0);
  for (const rooms of layout.connRooms) for (const r of rooms) roomSize[r]!++;
  const conns: ConnSpec[] = layout.connRooms.map((rooms, i) => ({
    rooms,
    sendRoom: o.sendRooms[i] ?? -1,
    phase: phaseOf(o.schedule ?? "in-turn", i, layout.connRooms.length),
    ...(prepared.tokens ? { token: prepared.tokens[i] ?? "" } : {}),
  }));
  const rssBefore = rss(sampleMany(target.pids));
  const pool = await WorkerPool.start({
    workers: o.workers,
    cpus: o.generatorCpus,
    host: target.host,
    port: target.port,
    dialect: target.dialect,
    conns,
    roomIds: prepared.roomIds,
    roomSize,
    messageSize: o.messageSize,
    ...(o.notifications === undefined ? {} : { notifications: o.notifications }),
    localAddresses: LOCAL_ADDRESSES,
  });
  try {
    const openStart = performance.now();
    pool.open();
    const opened = await pool.waitOpen(conns.length, (t) =>
      status(`[${name}] connecting: ${t.ready}/${conns.length} ready, ${t.failed} failed`),
    );
    const openSeconds = (performance.now() - openStart) / 1000;
    await Bun.sleep(500);
    const rssOpen = rss(sampleMany(target.pids));
    const perReady = (rssNow: number): number | null =>
      opened.ready > 0 && target.pids.length > 0 ? Math.round((rssNow - rssBefore) / opened.ready) : null;
    const steps: StepResult[] = [];
    const series: SeriesPoint[] = [];
    const all = new Histogram();
    const t0 = performance.now();
    let prevTotals = pool.totals();
    let prevServer = sampleMany(target.pids);
    let prevGen = sampleMany(pool.pids);
    pool.takeLatency();
    const genLimit = Math.min(o.workers, o.generatorCores);
    // Seconds at the start of each step left out of its figures (never the whole step).
    const warmup = Math.min(Math.max(0, o.warmupSeconds ?? 1), o.stepSeconds - 1);

    if (opened.ready > 0) {
      for (const rate of o.rates) {
        pool.setRate(rate);
        const stepHist = new Histogram();
        let sentN = 0;
        let recvN = 0;
        let expN = 0;
        let serverCpu = 0;
        let genCpu = 0;
        let rssPeak = 0;
        let measured = 0;
        const perProcess = new Map<number, { cpu: number; peakRssBytes: number }>();
        const metricsUrls = target.metricsUrls ?? [];
        // The store's histograms at the start of the measured seconds and at the end of the step.
        let commitsBefore = warmup === 0 ? await scrapeStore(metricsUrls) : null;
        // Every second of the step, warm-up included: a saturated first second still delays what follows.
        const genPerSecond: number[] = [];
        for (let s = 0; s < o.stepSeconds; s++) {
          await Bun.sleep(1000);
          // The workers' counters as of now, not as of their last periodic report (up to a second old): a step's
          // rates cover its own seconds. A worker too busy to answer soon leaves its last report in the figures.
          await pool.flush(FLUSH_EACH_SECOND_MS);
          const tot = pool.totals();
          const lat = pool.takeLatency();
          const server = sampleMany(target.pids);
          const gen = sampleMany(pool.pids);
          const sc = cpuShareMany(prevServer, server);
          const gc = cpuShareMany(prevGen, gen);
          const dt = (gen[0]?.at ?? performance.now()) - (prevGen[0]?.at ?? performance.now() - 1000);
          const perSec = 1000 / Math.max(1, dt);
          const dRecv = tot.received - prevTotals.received;
          genPerSecond.push(gc);
          series.push({
            t: Math.round((performance.now() - t0) / 100) / 10,
            rate,
            deliveriesPerSec: Math.round(dRecv * perSec),
            p50Ms: latencyOf(lat).p50,
            p99Ms: latencyOf(lat).p99,
            serverCpu: Math.round(sc * 100) / 100,
            generatorCpu: Math.round(gc * 100) / 100,
            serverRssBytes: rss(server),
          });
          all.merge(lat);
          if (s >= warmup) {
            stepHist.merge(lat);
            sentN += tot.sent - prevTotals.sent;
            recvN += dRecv;
            expN += tot.expected - prevTotals.expected;
            serverCpu += sc;
            genCpu += gc;
            rssPeak = Math.max(rssPeak, rss(server));
            measured += dt / 1000;
            for (const now of server) {
              const prev = prevServer.find((p) => p.pid === now.pid);
              const figures = perProcess.get(now.pid) ?? { cpu: 0, peakRssBytes: 0 };
              if (prev) figures.cpu += cpuShare(prev, now);
              figures.peakRssBytes = Math.max(figures.peakRssBytes, now.rssBytes);
              perProcess.set(now.pid, figures);
            }
          }
          if (s === warmup - 1) commitsBefore = await scrapeStore(metricsUrls);
          prevTotals = tot;
          prevServer = server;
          prevGen = gen;
          o.onSecond?.({ rate, second: s, pool });
          const l = latencyOf(lat);
          status(
            `[${name}] rate ${rate}/s/sender  ${Math.round(dRecv * perSec).toLocaleString("en")} deliveries/s  ` +
              `p50 ${l.p50} ms  p99 ${l.p99} ms  server cpu ${sc.toFixed(2)}  gen cpu ${gc.toFixed(2)}`,
          );
        }
        const n = Math.max(1, o.stepSeconds - warmup);
        const commitsAfter = await scrapeStore(metricsUrls);
        const latency = latencyOf(stepHist);
        const delivered = expN > 0 ? recvN / expN : 1;
        const step: StepResult = {
          rate,
          seconds: Math.round(measured * 10) / 10,
          sentPerSec: Math.round(sentN / Math.max(0.001, measured)),
          deliveriesPerSec: Math.round(recvN / Math.max(0.001, measured)),
          delivered: Math.round(delivered * 10000) / 10000,
          latencyMs: latency,
          serverCpu: Math.round((serverCpu / n) * 100) / 100,
          serverRssBytes: rssPeak,
          generatorCpu: Math.round((genCpu / n) * 100) / 100,
          generatorCpuMax: Math.round(Math.max(0, ...genPerSecond) * 100) / 100,
          generatorSaturated: generatorSaturated(genPerSecond, genLimit),
          storeCommitMs: storeCommitOf(commitsBefore?.append ?? null, commitsAfter?.append ?? null),
          groupCommits: groupCommitsOf(commitsBefore, commitsAfter),
          serverProcesses: target.pids.map((pid) => {
            const f = perProcess.get(pid);
            return {
              pid,
              cpu: Math.round(((f?.cpu ?? 0) / n) * 100) / 100,
              peakRssBytes: f?.peakRssBytes ?? 0,
            };
          }),
          // A step that should have sent but delivered nothing measured nothing: it cannot pass.
          passed: latency.p99 <= o.maxP99Ms && delivered >= o.minDelivered && (rate === 0 || expN > 0),
        };
        steps.push(step);
        if (!step.passed) break;
      }
      pool.setRate(0);
      // Every send of the run counted before the drain: the expected deliveries are final from here on.
      await flushTotals(pool);
      // Drain: until every expected delivery is in, or nothing arrived for two seconds, or the drain time is up.
      let last = pool.totals().received;
      let quietMs = 0;
      for (let waited = 0; waited < o.drainSeconds * 1000 && quietMs < 2000; waited += 250) {
        await Bun.sleep(250);
        const now = pool.totals();
        status(
          `[${name}] draining: ${now.received.toLocaleString("en")}/${now.expected.toLocaleString("en")}`,
        );
        if (now.received - now.duplicates >= now.expected) break;
        quietMs = now.received === last ? quietMs + 250 : 0;
        last = now.received;
      }
    }
    // Every delivery received by the end of the drain counted, not only those of the workers' last periodic report.
    await flushTotals(pool);
    const serverRateLimited = await scrapeRateLimited(target.metricsUrls ?? []);
    all.merge(pool.takeLatency());
    const seqTail = o.seqTail && opened.ready > 0 ? await pool.seqTail() : null;
    const totals = pool.totals();
    const peak =
      steps.filter((s) => s.passed).sort((a, b) => b.deliveriesPerSec - a.deliveriesPerSec)[0] ?? null;
    return {
      target: name,
      placement: target.placement,
      connections: {
        requested: conns.length,
        opened: opened.opened,
        ready: opened.ready,
        failed: opened.failed,
      },
      openSeconds: Math.round(openSeconds * 10) / 10,
      rssPerConnectionBytes: perReady(rssOpen),
      rssPerConnectionAtEndBytes: perReady(rss(prevServer)),
      steps,
      peak,
      totals: {
        ...totals,
        accepted: totals.sent - totals.rejected,
        lost: Math.max(0, totals.expected - (totals.received - totals.duplicates)),
      },
      latencyMs: latencyOf(all),
      series,
      failures: pool.failures,
      seqTail,
      resumeMs: pool.resumeLatency.count > 0 ? latencyOf(pool.resumeLatency) : null,
      lastResumeAt: pool.lastResumeAt,
      serverRateLimited,
      ...(o.notifications !== undefined && o.notifications !== "off" && totals.resumed > 0
        ? { notificationsAfterReconnect: pool.notificationsAfterReconnect() }
        : {}),
    };
  } finally {
    await pool.close();
  }
}
