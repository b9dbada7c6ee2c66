/**
 * The bench's reading of single samples from Parley's metrics: exact series only, and no figure at all (null)
 * when a process does not answer or lacks the series, rather than a partial sum.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { sampleOf, scrapeAll, scrapeRateLimited } from "../../bench/metrics/prom-text.ts";
import { PromMetrics } from "../../src/adapters/metrics/prom-metrics.ts";

/** A stand-in for one Parley process's metrics listener, serving what the server's metrics code renders. */
function serve(metrics: PromMetrics | null): { url: string; stop: () => void } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch() {
      if (metrics === null) return new Response("nothing here", { status: 404 });
      const { body, contentType } = await metrics.render();
      return new Response(body, { headers: { "content-type": contentType } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/metrics`, stop: () => server.stop(true) };
}

const servers: { stop: () => void }[] = [];
afterAll(() => {
  for (const s of servers) s.stop();
});

describe("prom-text", () => {
  test("a sample is read by its exact series, labels included", () => {
    const text = [
      "# HELP x_total help",
      'x_total{scope="room"} 7',
      'x_total{scope="sender"} 2',
      "x_total_extra 9",
      "x 3",
    ].join("\n");
    expect(sampleOf(text, 'x_total{scope="room"}')).toBe(7);
    expect(sampleOf(text, 'x_total{scope="sender"}')).toBe(2);
    expect(sampleOf(text, "x")).toBe(3);
    expect(sampleOf(text, "x_total")).toBeNull();
    expect(sampleOf("x NaN\n", "x")).toBeNull();
  });

  test("refusals summed over processes by scope; a silent process or one without the counter gives null", async () => {
    const one = new PromMetrics();
    const two = new PromMetrics();
    one.sendRateLimited("room");
    one.sendRateLimited("room");
    two.sendRateLimited("sender");
    const a = serve(one);
    const b = serve(two);
    const missing = serve(null);
    servers.push(a, b, missing);
    expect(await scrapeRateLimited([a.url, b.url])).toBe(3);
    expect(await scrapeRateLimited([a.url])).toBe(2);
    expect(await scrapeRateLimited([a.url, missing.url])).toBeNull();
    expect(await scrapeRateLimited([a.url, "http://127.0.0.1:9/metrics"])).toBeNull();
    expect(await scrapeRateLimited([])).toBeNull();
    expect(await scrapeAll([a.url, b.url])).toHaveLength(2);
    // Nothing refused yet still reads 0, not null: both series exist from the start.
    const fresh = serve(new PromMetrics());
    servers.push(fresh);
    expect(await scrapeRateLimited([fresh.url])).toBe(0);
  });
});
