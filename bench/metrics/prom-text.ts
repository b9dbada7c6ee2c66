/**
 * Reading Parley's processes at GET /metrics (PARLEY_METRICS_PORT) from the bench: fetch every process's scrape, and
 * read one sample of a scrape by its exact series (`name` or `name{labels}` as the server writes it). Only what the
 * bench needs; nothing here parses the format in general.
 */

/** Every process's scrape, in order; null when any of them does not answer (its figures would be partial). */
export async function scrapeAll(urls: readonly string[]): Promise<string[] | null> {
  if (urls.length === 0) return null;
  try {
    return await Promise.all(
      urls.map(async (u) => {
        const res = await fetch(u, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`${u}: ${res.status}`);
        return res.text();
      }),
    );
  } catch {
    return null;
  }
}

/** The value of one sample, or null when the scrape does not have that series. */
export function sampleOf(text: string, series: string): number | null {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) {
      const v = Number(line.slice(series.length + 1));
      return Number.isFinite(v) ? v : null;
    }
  }
  return null;
}

/**
 * Members' sends the servers refused with RATE_LIMITED (room cap and sender budget together), summed over the
 * processes since they started; null when a process does not answer or lacks the counter.
 */
export async function scrapeRateLimited(urls: readonly string[]): Promise<number | null> {
  const texts = await scrapeAll(urls);
  if (texts === null) return null;
  let total = 0;
  for (const t of texts) {
    const room = sampleOf(t, 'parley_sends_rate_limited_total{scope="room"}');
    const sender = sampleOf(t, 'parley_sends_rate_limited_total{scope="sender"}');
    if (room === null || sender === null) return null;
    total += room + sender;
  }
  return total;
}
