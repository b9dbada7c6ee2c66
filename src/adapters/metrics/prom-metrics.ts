import { Counter, Gauge, Histogram, Registry } from "prom-client";
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

/**
 * One server's metrics, in a registry of its own (several servers may share a process, as in the tests): the
 * process's figures (process-metrics.ts) and Parley's. A scrape reads a few counters (well under a millisecond);
 * on the message path there is one histogram observation per message.
 */
export class PromMetrics implements ServiceMetrics {
  readonly #registry = new Registry();
  readonly #append: Histogram;
  readonly #rateLimited: Counter<"scope">;

  constructor() {
    registerProcessMetrics(this.#registry);
    this.#append = new Histogram({
      name: APPEND_SECONDS_METRIC,
      help: "Time from handing a message to the store until it was committed (successful appends).",
      buckets: [...APPEND_SECONDS_BUCKETS],
      registers: [this.#registry],
    });
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
