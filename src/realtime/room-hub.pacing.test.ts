import { describe, expect, test } from "bun:test";
import pino from "pino";
import { messageEvent, ROOM } from "../../test/support/room-events.ts";
import type { RoomEvent } from "../domain/message.ts";
import { FlushScheduler } from "./frame-batcher.ts";
import { hubEventFromStore } from "./hub-event.ts";
import { PublishPacing } from "./publish-pacing.ts";
import { RoomHub } from "./room-hub.ts";
import { StompDecoder } from "./stomp/decoder.ts";
import { header } from "./stomp/frame.ts";
import { UserNames } from "./user-names.ts";

const endOfTask = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fail = (err: unknown) => {
  throw err;
};

/** Seqs of the MESSAGE frames in one published WebSocket message. */
function seqsOf(data: string): number[] {
  const result = new StompDecoder({}, "1.2", "server").push(data);
  if (!result.ok) throw new Error(`undecodable: ${result.error.message}`);
  return result.frames.map((f) => Number(header(f, "seq")));
}

/**
 * A hub below the coalescing minimum with the end-of-task scheduler and a pace of `intervalMs` after `burst`
 * publishes, on a clock the test moves. The pacing scheduler's timer is real; its window is the interval unless
 * `timerMs` says otherwise (a test then fires it itself).
 */
function setup(intervalMs: number, burst: number, timerMs = intervalMs) {
  let clock = 0;
  const published: number[][] = [];
  const taskFlushes = new FlushScheduler(0, fail);
  const pacing = new PublishPacing(intervalMs, burst, new FlushScheduler(timerMs, fail), () => clock);
  const hub = new RoomHub(ROOM, {
    messages: { listEvents: async () => [] },
    names: new UserNames({ users: { findById: async () => null }, now: () => 0 }),
    publisher: { publish: (_topic, data) => published.push(seqsOf(data)) },
    logger: pino({ level: "silent" }),
    ephemeralId: () => "e",
    onMemberLeft: () => {},
    taskFlushes,
    pacing,
  });
  hub.start(0);
  hub.addSubscriber("sub-0");
  const live = (e: RoomEvent) => hub.receive(hubEventFromStore(e, "u1"));
  return {
    hub,
    published,
    pacing,
    live,
    setClock: (ms: number) => {
      clock = ms;
    },
  };
}

describe("PublishPacing", () => {
  test("a burst of publishes at once, then one per interval; a quiet room is allowed again", () => {
    const pacing = new PublishPacing(10, 3, new FlushScheduler(10, fail), () => 0);
    let tat = 0;
    const allowedAt = (now: number) => {
      const ok = pacing.allows(tat, now);
      if (ok) tat = pacing.next(tat, now);
      return ok;
    };
    expect([allowedAt(0), allowedAt(0), allowedAt(0), allowedAt(0)]).toEqual([true, true, true, false]);
    expect(allowedAt(9)).toBe(false);
    expect(allowedAt(10)).toBe(true);
    expect(allowedAt(11)).toBe(false);
    // After a quiet spell of burst × interval the whole burst is available again, and no more.
    expect([allowedAt(100), allowedAt(100), allowedAt(100), allowedAt(100)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    pacing.flushes.close();
  });

  test("no debt: after a flood of publishes a room may publish at once one interval after its last one", () => {
    const pacing = new PublishPacing(10, 3, new FlushScheduler(10, fail), () => 0);
    let tat = 0;
    // Fifty publishes at 1 ms apart (paced ones included: every publish moves the room's time).
    for (let now = 0; now < 50; now++) tat = pacing.next(tat, now);
    expect(pacing.allows(tat, 55)).toBe(false);
    expect(pacing.allows(tat, 59)).toBe(true);
    pacing.flushes.close();
  });

  test("an interval of 0 or a burst below 1 is refused", () => {
    const flushes = new FlushScheduler(10, fail);
    expect(() => new PublishPacing(0, 1, flushes)).toThrow(RangeError);
    expect(() => new PublishPacing(10, 0, flushes)).toThrow(RangeError);
    expect(() => new PublishPacing(10, 1.5, flushes)).toThrow(RangeError);
  });
});

describe("RoomHub with a pace", () => {
  test("a room whose events come less often than the pace publishes each at the end of its task", async () => {
    const { hub, published, pacing, live, setClock } = setup(30, 1);
    for (let seq = 1; seq <= 6; seq++) {
      setClock(seq * 30);
      live(messageEvent(seq));
      await endOfTask();
      expect(published).toHaveLength(seq);
      expect(hub.lastSeq).toBe(seq);
    }
    expect(published).toEqual([[1], [2], [3], [4], [5], [6]]);
    pacing.flushes.close();
  });

  test("after its burst a busy room waits for the pace, and what it accepts meanwhile shares one message", async () => {
    const { hub, published, pacing, live, setClock } = setup(40, 3);
    for (let seq = 1; seq <= 3; seq++) {
      live(messageEvent(seq));
      await endOfTask();
    }
    expect(published).toEqual([[1], [2], [3]]);
    live(messageEvent(4));
    await endOfTask();
    live(messageEvent(5));
    await endOfTask();
    // Held: not published, not delivered, so a RECEIPT waiting on it waits too.
    expect(published).toHaveLength(3);
    expect(hub.lastSeq).toBe(3);
    let delivered = false;
    void hub.whenDelivered(5, 5000).then(() => {
      delivered = true;
    });
    await sleep(60);
    expect(published).toEqual([[1], [2], [3], [4, 5]]);
    expect(hub.lastSeq).toBe(5);
    expect(delivered).toBe(true);
    // Quiet for longer than burst × interval: published at the end of the task again.
    setClock(1000);
    live(messageEvent(6));
    await endOfTask();
    expect(published.at(-1)).toEqual([6]);
    pacing.flushes.close();
  });

  test("a member.left is published at once with the paced events before it", async () => {
    const { hub, published, pacing, live } = setup(1000, 1);
    live(messageEvent(1));
    await endOfTask();
    live(messageEvent(2));
    await endOfTask();
    expect(published).toEqual([[1]]);
    live({
      roomId: ROOM,
      seq: 3,
      type: "member.left",
      at: 1003,
      actorId: "u2",
      member: { userId: "u2", role: "member" },
      message: null,
    });
    expect(published).toEqual([[1], [2, 3]]);
    expect(hub.lastSeq).toBe(3);
    pacing.flushes.close();
  });

  test("one event per millisecond for a simulated second: every seq once, in order, in at most burst + 1 s ÷ interval publishes", async () => {
    const intervalMs = 20;
    const burst = 5;
    // The pacing timer never fires by itself: the test fires it once per interval of the simulated clock.
    const { hub, published, pacing, live, setClock } = setup(intervalMs, burst, 60_000);
    const timer = pacing.flushes;
    for (let ms = 0; ms < 1000; ms++) {
      setClock(ms);
      live(messageEvent(ms + 1));
      await Promise.resolve();
      if (ms % intervalMs === intervalMs - 1) timer.flushAll();
    }
    timer.flushAll();
    await endOfTask();
    expect(published.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(hub.lastSeq).toBe(1000);
    expect(published.length).toBeLessThanOrEqual(burst + 1000 / intervalMs + 1);
    // Paced, not starved: the room still published about once per interval.
    expect(published.length).toBeGreaterThanOrEqual(1000 / intervalMs);
    timer.close();
  });
});
