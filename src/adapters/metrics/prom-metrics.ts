import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CommitObserver } from "../../ports/commit-timing.ts";
import type { ServiceMetrics } from "../../ports/metrics.ts";
import { registerProcessMetrics } from "./process-metrics.ts";

/**
 * Bucket bounds (seconds) of the store's append latency: fine below 20 ms, where SQLite's group commit and a
 * PostgreSQL batch normally land, and up to 30 s, so an overloaded store still shows where it is (a saturated
 * seed server's commits wait 5–10 s: with 5 s as the top bound they all read "over 5 s").
 */
export const APPEND_SECONDS_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2, 5,
  10, 30,
];

/** The histogram the benchmarks read (bench/metrics/prom-histogram.ts imports this name). */
export const APPEND_SECONDS_METRIC = "parley_store_append_seconds";
/** Per group commit: its own time (CommitTiming.executeMs), and how late the process got to it (lateMs). */
export const COMMIT_EXECUTE_SECONDS_METRIC = "parley_store_commit_execute_seconds";
export const COMMIT_LATE_SECONDS_METRIC = "parley_store_commit_late_seconds";

/**
 * One server's metrics, in a registry of its own (several servers may share a process, as in the tests): the
 * process's figures (process-metrics.ts) and Parley's. A scrape reads a few counters (well under a millisecond);
 * on the message path there is one histogram observation per message.
 */
export class PromMetrics implements ServiceMetrics {
  readonly #registry = new Registry();
  readonly #append: Histogram;
  readonly #rateLimited: Counter<"scope">;
  readonly #commitExecute: Histogram;
  readonly #commitLate: Histogram;

  constructor() {
    registerProcessMetrics(this.#registry);
    // The store's timings share one set of bounds, so the bench reads them all the same way.
    const seconds = (name: string, help: string) =>
      new Histogram({ name, help, buckets: [...APPEND_SECONDS_BUCKETS], registers: [this.#registry] });
    this.#append = seconds(
      APPEND_SECONDS_METRIC,
      "Time from handing a message to the store until it was committed (successful appends).",
    );
    this.#commitExecute = seconds(
      COMMIT_EXECUTE_SECONDS_METRIC,
      "Per group commit of the store: its own time (SQLite: statements, COMMIT and fsync on the serving thread; PostgreSQL: a pooled connection, the round trip and COMMIT).",
    );
    this.#commitLate = seconds(
      COMMIT_LATE_SECONDS_METRIC,
      "Per group commit of the store: how long after it was due the process started it (busy elsewhere, or not run).",
    );
    this.#rateLimited = new Counter({
      name: "parley_sends_rate_limited_total",
      help: "Members' sends refused with RATE_LIMITED, nothing stored: by the room's cap (scope=room) or the sender's own budget (scope=sender).",
      labelNames: ["scope"],
      registers: [this.#registry],
    });
    // Both series from the start, so a rate over them reads 0 rather than nothing before the first refusal.
    this.#rateLimited.inc({ scope: "room" }, 0);
    this.#rateLimited.inc({ scope: "sender" }, 0);
  }

  messageAppended(seconds: number): void {
    this.#append.observe(seconds);
  }

  sendRateLimited(scope: "room" | "sender"): void {
    this.#rateLimited.inc({ scope });
  }

  /** Hand to a store's `onCommit`: two observations per group commit, none per message. */
  readonly storeCommitted: CommitObserver = (timing) => {
    this.#commitExecute.observe(timing.executeMs / 1000);
    this.#commitLate.observe(timing.lateMs / 1000);
  };

  /** Reports `count()` as `name` at every scrape (e.g. open WebSocket connections); nothing is kept meanwhile. */
  gauge(name: string, help: string, count: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.#registry],
      collect() {
        this.set(count());
      },
    });
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async render(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }
}
