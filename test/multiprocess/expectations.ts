/**
 * The exact-count checks every multi-process test ends with: the store holds each planned message once under
 * seqs 1..N, and each subscriber received exactly that stream, in order, once. Failures are reported as a
 * summary (missing, duplicated, out of order) plus the processes' output, not as a 4,000-line diff.
 */
import { expect } from "bun:test";
import { type Account, type Client, fullHistory } from "../integration/helpers.ts";
import type { RoomLog } from "./room-log.ts";
import type { Committed, Subscriber } from "./traffic.ts";

/** Extra wait after the last expected event, so a late duplicate is caught rather than missed. */
const SETTLE_MS = 300;

export interface StreamSummary {
  readonly log: string;
  readonly received: number;
  readonly missing: number[];
  readonly duplicated: number[];
  readonly outOfOrder: number;
  readonly resets: number[];
  readonly anomalies: string[];
}

/**
 * Checks the RECEIPTs: one per planned message, seqs exactly 1..N, distinct message ids. Returns them by seq.
 */
export function expectGapFreeCommits(committed: readonly Committed[], planned: number): Committed[] {
  const sorted = [...committed].sort((a, b) => a.seq - b.seq);
  expect(sorted.map((c) => c.seq)).toEqual(Array.from({ length: planned }, (_, i) => i + 1));
  expect(new Set(sorted.map((c) => c.messageId)).size).toBe(planned);
  expect(new Set(sorted.map((c) => c.clientMsgId)).size).toBe(planned);
  return sorted;
}

export function expectedLines(sorted: readonly Committed[]): string[] {
  return sorted.map((c) => `${c.seq} message ${c.messageId} ${c.text}`);
}

export function summarize(log: RoomLog, expectedCount: number): StreamSummary {
  const seen = new Map<number, number>();
  let outOfOrder = 0;
  let previous = 0;
  for (const e of log.events) {
    seen.set(e.seq, (seen.get(e.seq) ?? 0) + 1);
    if (e.seq <= previous) outOfOrder++;
    previous = e.seq;
  }
  const missing: number[] = [];
  for (let s = 1; s <= expectedCount; s++) if (!seen.has(s)) missing.push(s);
  return {
    log: `${log.label} room ${log.roomId}`,
    received: log.events.length,
    missing: missing.slice(0, 20),
    duplicated: [...seen]
      .filter(([, n]) => n > 1)
      .map(([s]) => s)
      .slice(0, 20),
    outOfOrder,
    resets: log.resets,
    anomalies: log.anomalies.slice(0, 5),
  };
}

function clean(s: StreamSummary, expectedCount: number): boolean {
  return (
    s.received === expectedCount &&
    s.missing.length === 0 &&
    s.duplicated.length === 0 &&
    s.outOfOrder === 0 &&
    s.resets.length === 0 &&
    s.anomalies.length === 0
  );
}

/**
 * Waits (up to `timeoutMs` overall) for every subscriber to reach the last seq of each of its rooms, lets late
 * frames arrive, then requires each room's stream to be exactly the committed one: same seqs, ids and texts,
 * once each, in order, with no reset.
 */
export async function expectEveryStreamExact(
  subscribers: readonly Subscriber[],
  expected: ReadonlyMap<string, readonly Committed[]>,
  timeoutMs: number,
  diagnostics: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const sub of subscribers) {
    for (const log of sub.logs.values()) {
      const last = expected.get(log.roomId)?.length ?? 0;
      await log.waitForSeq(last, Math.max(0, deadline - Date.now()));
    }
  }
  await Bun.sleep(SETTLE_MS);
  const bad: StreamSummary[] = [];
  for (const sub of subscribers) {
    for (const log of sub.logs.values()) {
      const n = expected.get(log.roomId)?.length ?? 0;
      const s = summarize(log, n);
      if (!clean(s, n)) bad.push(s);
    }
  }
  if (bad.length > 0) {
    const resumes = subscribers.map((s) => ({
      subscriber: s.label,
      resumes: s.resumes.map((r) => ({ node: r.node, sinceSeq: Object.fromEntries(r.sinceSeq) })),
      failoverErrors: s.failoverErrors,
    }));
    throw new Error(
      `${bad.length} stream(s) not exact:\n${JSON.stringify(bad.slice(0, 10), null, 1)}\n` +
        `subscribers: ${JSON.stringify(resumes)}\n${diagnostics()}`,
    );
  }
  for (const sub of subscribers) {
    for (const log of sub.logs.values()) {
      expect({ log: `${sub.label}/${log.roomId}`, lines: log.lines() }).toEqual({
        log: `${sub.label}/${log.roomId}`,
        lines: expectedLines(expected.get(log.roomId) ?? []),
      });
    }
  }
}

/** The room's stored history (read over REST, following the cursor) is exactly the committed messages. */
export async function expectHistoryMatches(
  api: Client,
  reader: Account,
  roomId: string,
  sorted: readonly Committed[],
): Promise<void> {
  const stored = await fullHistory(api, reader, roomId);
  expect(stored.map((m) => `${m.seq} ${m.id} ${m.clientMsgId} ${m.message}`)).toEqual(
    sorted.map((c) => `${c.seq} ${c.messageId} ${c.clientMsgId} ${c.text}`),
  );
}
