import { Hono } from "hono";
import type { Logger } from "pino";
import { AppError } from "../domain/errors.ts";
import { localUrl } from "../lib/local-url.ts";
import { errorResponse } from "./errors.ts";
import { createFallbackHandler } from "./fallback.ts";

export const METRICS_PATH = "/metrics";

export interface MetricsSource {
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * `GET /metrics` (Prometheus text format) on a listener of its own: operators keep it off the public port, and
 * every process of a deployment that shares the public port (PARLEY_REUSE_PORT) is still scraped on its own
 * address. Never reuses its port: two processes asking for the same one is a configuration error, not a
 * split of scrapes between them. Anything else answers with the API's error shape (404 NOT_FOUND,
 * 405 METHOD_NOT_ALLOWED).
 */
export async function serveMetrics(opts: {
  readonly host: string;
  readonly port: number;
  readonly metrics: MetricsSource;
  readonly logger: Logger;
}): Promise<MetricsServer> {
  // One render before anyone scrapes, so the first scrape does not pay for loading and compiling the collectors in
  // the middle of traffic (with prom-client's default collectors that first scrape stalled a process serving
  // 5,000 sockets for about 300 ms; docs/benchmarks/optimizations.md, "Metrics that cost nothing between scrapes").
  await opts.metrics.render();
  const app = new Hono();
  app.get(METRICS_PATH, async (c) => {
    const { contentType, body } = await opts.metrics.render();
    return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  });
  app.notFound(createFallbackHandler([{ method: "GET", path: METRICS_PATH }]));
  app.onError((err, c) => {
    opts.logger.error({ err }, "metrics scrape failed");
    return errorResponse(c, new AppError("INTERNAL"));
  });
  const server = Bun.serve({ hostname: opts.host, port: opts.port, reusePort: false, fetch: app.fetch });
  const port = server.port ?? opts.port;
  return {
    url: localUrl(opts.host, port, METRICS_PATH),
    port,
    async stop() {
      await server.stop(true);
    },
  };
}
