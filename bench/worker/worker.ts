/**
 * A generator worker process. It opens its share of the connections (at most `openConcurrency` upgrades at a
 * time, source addresses round-robin), sends at the rate the coordinator sets, and reports cumulative counters plus
 * a latency-histogram delta once a second. One process per core at most; each holds < 20,000 sockets.
 */
import { Histogram } from "../metrics/histogram.ts";
import { dialectFor } from "../protocol/dialect.ts";
import { type ConnContext, type Counters, connectionHandler, GenConnection } from "./connection.ts";
import type { FromWorker, ToWorker, WorkerPlan } from "./messages.ts";

const SEND_TICK_MS = 5;
const READY_TIMEOUT_MS = 60_000;

function send(msg: FromWorker): void {
  process.send?.(msg);
}

class Worker {
  private readonly conns: GenConnection[] = [];
  private readonly senders: GenConnection[] = [];
  private readonly counters: Counters;
  private readonly ctx: ConnContext;
  private nextToOpen = 0;
  private inFlight = 0;
  /** Dropped connections waiting for an opening slot. */
  private readonly reopen: GenConnection[] = [];
  private rate = 0;
  private rateSince = 0;
  /** Sends per sender since the rate was last set. */
  private readonly sentByRate: Float64Array;
  /** Each sender's phase, in `senders` order. */
  private readonly phases: Float64Array;
  private readonly timers: ReturnType<typeof setInterval>[] = [];

  constructor(private readonly plan: WorkerPlan) {
    this.counters = {
      opened: 0,
      failed: 0,
      ready: 0,
      closed: 0,
      sent: 0,
      rejected: 0,
      received: 0,
      duplicates: 0,
      expected: 0,
      noProbe: 0,
      notifications: 0,
      notificationsAfterReconnect: 0,
      gaps: 0,
      resets: 0,
      resumed: 0,
      resumeLatency: new Histogram(),
      lastResumeAt: 0,
      latency: new Histogram(),
      failures: [],
    };
    this.ctx = {
      plan,
      dialect: dialectFor(plan.dialect),
      counters: this.counters,
      now: 0,
      settled: () => {
        this.inFlight--;
        this.openMore();
      },
      reconnect: (conn) => {
        this.reopen.push(conn);
        this.openMore();
      },
    };
    plan.conns.forEach((spec, i) => {
      const conn = new GenConnection(spec, i, this.ctx);
      this.conns.push(conn);
      if (conn.sending) this.senders.push(conn);
    });
    this.sentByRate = new Float64Array(this.senders.length);
    this.phases = Float64Array.from(this.senders, (s) => s.spec.phase);
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.timers.push(setInterval(() => this.sendDue(), SEND_TICK_MS));
    this.timers.push(setInterval(() => this.expireStuck(), 5000));
  }

  open(): void {
    this.openMore();
  }

  private openMore(): void {
    const { plan } = this;
    while (
      this.inFlight < plan.openConcurrency &&
      (this.reopen.length > 0 || this.nextToOpen < this.conns.length)
    ) {
      const conn = this.reopen.shift() ?? this.conns[this.nextToOpen++]!;
      // A connection keeps its source address across reconnects.
      const localAddress = plan.localAddresses[conn.index % Math.max(1, plan.localAddresses.length)];
      this.inFlight++;
      const options: Bun.TCPSocketConnectOptions<GenConnection> & { localAddress?: string } = {
        hostname: plan.host,
        port: plan.port,
        data: conn,
        socket: connectionHandler,
        ...(localAddress ? { localAddress } : {}),
      };
      Bun.connect(options).catch((e: unknown) => conn.failed(`connect failed: ${String(e)}`));
    }
  }

  /**
   * A reconnect storm: every ready connection drops at a uniformly random moment within `spreadMs` and reconnects
   * at once, resuming its rooms with since-seq (traffic keeps going meanwhile).
   */
  storm(spreadMs: number, reset: boolean): void {
    for (const c of this.conns) {
      if (!c.isReady) continue;
      setTimeout(() => c.drop(reset), Math.random() * spreadMs);
    }
  }

  /** Per room index: subscriptions that received something, the sum of their last seqs, and the highest one. */
  private roomSeqs(): { subs: number[]; sum: number[]; max: number[] } {
    const n = this.plan.roomIds.length;
    const subs = new Array<number>(n).fill(0);
    const sum = new Array<number>(n).fill(0);
    const max = new Array<number>(n).fill(-1);
    for (const c of this.conns) {
      c.spec.rooms.forEach((room, i) => {
        const seq = c.lastSeq[i]!;
        if (seq < 0) return;
        subs[room]!++;
        sum[room]! += seq;
        if (seq > max[room]!) max[room] = seq;
      });
    }
    return { subs, sum, max };
  }

  private expireStuck(): void {
    const limit = Date.now() - READY_TIMEOUT_MS;
    for (let i = 0; i < this.nextToOpen; i++) {
      const c = this.conns[i]!;
      if (!c.isSettled && c.openedAt < limit) c.failed("not ready within 60 s");
    }
  }

  setRate(perSender: number): void {
    this.rate = perSender;
    this.rateSince = performance.now();
    this.sentByRate.fill(0);
  }

  /**
   * Keeps each sender on its own schedule, shifted by its phase (ConnSpec.phase, from the run's schedule) so a low
   * rate is spread over the period instead of every sender firing at once; what is due since the rate was set is
   * sent, so timer jitter does not lose sends, but never more than a second's worth at once after a stall.
   */
  private sendDue(): void {
    const rate = this.rate;
    const senders = this.senders;
    if (rate <= 0 || senders.length === 0) return;
    const elapsed = ((performance.now() - this.rateSince) / 1000) * rate;
    const cap = Math.max(1, Math.ceil(rate));
    const sent = this.sentByRate;
    const phases = this.phases;
    for (let k = 0; k < senders.length; k++) {
      const due = Math.floor(elapsed + phases[k]!);
      let n = due - sent[k]!;
      if (n <= 0) continue;
      if (n > cap) {
        sent[k] = due - cap;
        n = cap;
      }
      const s = senders[k]!;
      for (let j = 0; j < n; j++) s.sendProbe();
      sent[k]! += n;
    }
  }

  tick(final = false, flush: number | null = null): void {
    const c = this.counters;
    send({
      t: "tick",
      worker: this.plan.workerIndex,
      opened: c.opened,
      failed: c.failed,
      ready: c.ready,
      closed: c.closed,
      sent: c.sent,
      rejected: c.rejected,
      received: c.received,
      duplicates: c.duplicates,
      expected: c.expected,
      noProbe: c.noProbe,
      notifications: c.notifications,
      notificationsAfterReconnect: c.notificationsAfterReconnect,
      gaps: c.gaps,
      resets: c.resets,
      resumed: c.resumed,
      lastResumeAt: c.lastResumeAt,
      resumeLatency: c.resumeLatency.toSparse(),
      roomSeqs: final ? this.roomSeqs() : null,
      flush,
      latency: c.latency.toSparse(),
      failures: c.failures,
    });
    c.latency.reset();
    c.resumeLatency.reset();
    c.failures = [];
  }

  async close(): Promise<void> {
    this.tick(true);
    for (const t of this.timers) clearInterval(t);
    // Aborted, not closed: a client-side close leaves every socket in TIME_WAIT on this machine for a minute, and
    // tens of thousands of those make the next run's binds to the same source addresses slow (the kernel checks
    // each candidate port against them), which a run started right after this one would measure.
    for (const c of this.conns) c.abort();
    await Bun.sleep(200);
    send({ t: "closed", worker: this.plan.workerIndex });
  }
}

let worker: Worker | null = null;
process.on("message", (raw: unknown) => {
  const msg = raw as ToWorker;
  switch (msg.t) {
    case "init":
      worker = new Worker(msg.plan);
      send({ t: "inited", worker: msg.plan.workerIndex });
      break;
    case "open":
      worker?.open();
      break;
    case "rate":
      worker?.setRate(msg.perSender);
      break;
    case "storm":
      worker?.storm(msg.spreadMs, msg.reset);
      break;
    case "seqs":
      worker?.tick(true);
      break;
    case "flush":
      worker?.tick(false, msg.id);
      break;
    case "close":
      void worker?.close().then(() => process.exit(0));
      break;
  }
});
process.on("disconnect", () => process.exit(0));
