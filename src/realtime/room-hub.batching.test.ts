import { describe, expect, test } from "bun:test";
import pino from "pino";
import { messageEvent, ROOM } from "../../test/support/room-events.ts";
import type { RoomEvent } from "../domain/message.ts";
import type { Connection, RoomSubscription } from "./connection.ts";
import { FlushScheduler } from "./frame-batcher.ts";
import { type HubEvent, hubEventFromStore } from "./hub-event.ts";
import { replayThenGoLive } from "./resume.ts";
import { BATCH_MAX_CHARS, RoomHub } from "./room-hub.ts";
import { StompDecoder } from "./stomp/decoder.ts";
import { header } from "./stomp/frame.ts";
import { UserNames } from "./user-names.ts";

const nextTurn = () => new Promise((r) => setImmediate(r));

function leftEvent(seq: number, userId: string): RoomEvent {
  return {
    roomId: ROOM,
    seq,
    type: "member.left",
    at: 1000 + seq,
    actorId: userId,
    member: { userId, role: "member" },
    message: null,
  };
}

/** Seqs of the MESSAGE frames in one WebSocket message, decoded with the project's decoder. */
function decodeSeqs(data: string, subscriptionId: string): number[] {
  const result = new StompDecoder({}, "1.2", "server").push(data);
  if (!result.ok) throw new Error(`undecodable: ${result.error.message}`);
  return result.frames.map((f) => {
    expect(f.command).toBe("MESSAGE");
    expect(header(f, "subscription")).toBe(subscriptionId);
    return Number(header(f, "seq"));
  });
}

/**
 * A hub with a scheduler and a tiny model of Bun's topics: sockets subscribe to topics and receive every
 * message published to them afterwards (and direct sends), in order.
 */
function setup(windowMs = 0, coalesceMinSubscribers = 0, taskFlushes?: FlushScheduler) {
  const stored: RoomEvent[] = [];
  const published: Array<{ topic: string; data: string }> = [];
  const topics = new Map<string, Set<string[]>>();
  const log: string[] = [];
  const flushes = new FlushScheduler(windowMs, (err) => {
    throw err;
  });
  const names = new UserNames({ users: { findById: async () => null }, now: () => 0 });
  const hub = new RoomHub(ROOM, {
    messages: {
      async listEvents(_roomId, afterSeq, limit) {
        // Sometimes the read completes in a later turn, like a real store.
        if (Math.random() < 0.5) await nextTurn();
        return stored.filter((e) => e.seq > afterSeq).slice(0, limit);
      },
    },
    names,
    publisher: {
      publish(topic, data) {
        published.push({ topic, data });
        log.push(`publish ${topic}`);
        for (const socket of topics.get(topic) ?? []) socket.push(data);
      },
    },
    logger: pino({ level: "silent" }),
    ephemeralId: () => "e",
    onMemberLeft: (_roomId, userId) => log.push(`left ${userId}`),
    flushes,
    coalesceMinSubscribers,
    taskFlushes,
  });
  const subscribe = (socket: string[], topic: string) => {
    const set = topics.get(topic) ?? new Set<string[]>();
    topics.set(topic, set);
    set.add(socket);
  };
  const live = (e: RoomEvent) => hub.receive(hubEventFromStore(e, "u1"));
  /** Commits an event to the store and announces it, like BrokerEvents does. */
  const commitAndAnnounce = (seq: number) => {
    const e = messageEvent(seq);
    stored.push(e);
    live(e);
  };
  return { hub, stored, published, log, subscribe, live, commitAndAnnounce, names, flushes };
}

describe("RoomHub coalescing", () => {
  test("a room that falls below the size threshold publishes at once, after what it had batched, in order", async () => {
    const { hub, published, live } = setup(0, 2);
    hub.start(0);
    hub.addSubscriber("sub-0");
    live(messageEvent(1));
    // One subscriber, threshold 2: published as it is accepted.
    expect(published).toHaveLength(1);
    hub.addSubscriber("sub-0");
    live(messageEvent(2));
    live(messageEvent(3));
    expect(published).toHaveLength(1);
    expect(hub.lastSeq).toBe(1);
    hub.removeSubscriber("sub-0");
    live(messageEvent(4));
    // Below the threshold again: the batch (2, 3) and the new event go out together, now.
    expect(published).toHaveLength(2);
    expect(decodeSeqs(published[1]?.data ?? "", "sub-0")).toEqual([2, 3, 4]);
    expect(hub.lastSeq).toBe(4);
    await nextTurn();
    expect(published).toHaveLength(2);
    // Removing a subscription that is not there changes no count.
    hub.removeSubscriber("nobody");
    hub.addSubscriber("sub-0");
    live(messageEvent(5));
    expect(published).toHaveLength(2);
    await nextTurn();
    expect(decodeSeqs(published[2]?.data ?? "", "sub-0")).toEqual([5]);
  });

  test("below the minimum, a task's events share one message published before the next task", async () => {
    const taskFlushes = new FlushScheduler(0, (err) => {
      throw err;
    });
    const { hub, published, live } = setup(40, 2, taskFlushes);
    hub.start(0);
    hub.addSubscriber("sub-0");
    live(messageEvent(1));
    live(messageEvent(2));
    expect(published).toHaveLength(0);
    await Promise.resolve();
    expect(published.map((p) => decodeSeqs(p.data, "sub-0"))).toEqual([[1, 2]]);
    expect(hub.lastSeq).toBe(2);
    // Another task's event is another message.
    await nextTurn();
    live(messageEvent(3));
    await Promise.resolve();
    expect(published.map((p) => decodeSeqs(p.data, "sub-0"))).toEqual([[1, 2], [3]]);
    // At the minimum the window holds the room's events across tasks…
    hub.addSubscriber("sub-0");
    live(messageEvent(4));
    await nextTurn();
    expect(published).toHaveLength(2);
    // …until it falls below: its next event goes out at the end of its task with what was held, in order.
    hub.removeSubscriber("sub-0");
    live(messageEvent(5));
    await Promise.resolve();
    expect(published.map((p) => decodeSeqs(p.data, "sub-0"))).toEqual([[1, 2], [3], [4, 5]]);
    await new Promise((r) => setTimeout(r, 60));
    expect(published).toHaveLength(3);
    expect(hub.lastSeq).toBe(5);
  });

  test("events of one window go out as one message per subscription id, frames back to back in seq order", async () => {
    const { hub, published, live } = setup();
    hub.start(0);
    hub.addSubscriber("sub-0");
    hub.addSubscriber("sub-1");
    for (let seq = 1; seq <= 5; seq++) live(messageEvent(seq));
    // Accepted, not yet published: lastSeq is what the topics have seen.
    expect(published).toHaveLength(0);
    expect(hub.lastSeq).toBe(0);
    await nextTurn();
    expect(published.map((p) => p.topic)).toEqual([`r:${ROOM}:sub-0`, `r:${ROOM}:sub-1`]);
    expect(decodeSeqs(published[0]?.data ?? "", "sub-0")).toEqual([1, 2, 3, 4, 5]);
    expect(decodeSeqs(published[1]?.data ?? "", "sub-1")).toEqual([1, 2, 3, 4, 5]);
    expect(hub.lastSeq).toBe(5);
    // A duplicate of an accepted seq is dropped even before its batch was published.
    live(messageEvent(6));
    live(messageEvent(6));
    await nextTurn();
    expect(
      published.slice(2).map((p) => decodeSeqs(p.data, p.topic.endsWith(":sub-0") ? "sub-0" : "sub-1")),
    ).toEqual([[6], [6]]);
  });

  test("whenDelivered and listeners run only after the frames were published", async () => {
    const { hub, log, live } = setup();
    hub.start(0);
    hub.addSubscriber("s");
    hub.listeners.add((e: HubEvent) => log.push(`listener ${e.seq}`));
    const waited = hub.whenDelivered(2, 5000).then(() => log.push("receipt"));
    live(messageEvent(1));
    live(messageEvent(2));
    expect(log).toEqual([]);
    await waited;
    expect(log).toEqual([`publish r:${ROOM}:s`, "listener 1", "listener 2", "receipt"]);
  });

  test("a batch reaching the size cap is published at once; every message stays near the cap", async () => {
    const { hub, published, live } = setup();
    hub.start(0);
    hub.addSubscriber("s");
    const body = "x".repeat(20_000);
    for (let seq = 1; seq <= 10; seq++) live(messageEvent(seq, body));
    // Every 4 bodies of 20,000 characters pass 64 KiB: 1..4 and 5..8 went out synchronously.
    expect(published.map((p) => decodeSeqs(p.data, "s"))).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    await nextTurn();
    expect(published.map((p) => decodeSeqs(p.data, "s"))).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10],
    ]);
    for (const p of published) expect(p.data.length).toBeLessThan(BATCH_MAX_CHARS + body.length + 1024);
  });

  test("a member.left closes its batch: published with what preceded it, then the subscriptions end", async () => {
    const { hub, published, log, live } = setup();
    hub.start(0);
    hub.addSubscriber("s");
    live(messageEvent(1));
    live(leftEvent(2, "u9"));
    live(messageEvent(3));
    expect(log).toEqual([`publish r:${ROOM}:s`, "left u9"]);
    expect(decodeSeqs(published[0]?.data ?? "", "s")).toEqual([1, 2]);
    expect(hub.lastSeq).toBe(2);
    await nextTurn();
    expect(published.map((p) => decodeSeqs(p.data, "s"))).toEqual([[1, 2], [3]]);
  });

  test("a subscription id added before the flush receives the pending batch", async () => {
    const { hub, published, live } = setup();
    hub.start(0);
    live(messageEvent(1));
    hub.addSubscriber("late");
    await nextTurn();
    expect(published.map((p) => p.topic)).toEqual([`r:${ROOM}:late`]);
    expect(decodeSeqs(published[0]?.data ?? "", "late")).toEqual([1]);
  });

  test("window above 0: events from several turns share one message", async () => {
    const { hub, published, live } = setup(30);
    hub.start(0);
    hub.addSubscriber("s");
    live(messageEvent(1));
    await nextTurn();
    live(messageEvent(2));
    await nextTurn();
    expect(published).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(published).toHaveLength(1);
    expect(decodeSeqs(published[0]?.data ?? "", "s")).toEqual([1, 2]);
  });

  test("close drops a pending batch", async () => {
    const { hub, published, live } = setup();
    hub.start(0);
    hub.addSubscriber("s");
    live(messageEvent(1));
    hub.close();
    await nextTurn();
    expect(published).toHaveLength(0);
  });

  test("events still in the batch are not served from memory: it follows lastSeq, moved by the flush", async () => {
    const { hub, live } = setup();
    hub.start(0);
    hub.addSubscriber("s");
    live(messageEvent(1));
    live(messageEvent(2));
    expect(hub.lastSeq).toBe(0);
    expect(hub.recentAfter(0)).toEqual([]);
    await nextTurn();
    expect(hub.lastSeq).toBe(2);
    expect(hub.recentAfter(0)?.map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe("resume seam with coalesced live batches", () => {
  /**
   * Live events are committed and announced at random points (same turn, next turn, later) while a client
   * resumes from `since`; its socket must end up with every seq after `since` exactly once, in order, whether
   * the replay reaches the hub's head before, during or after a pending batch.
   */
  async function scenario(
    since: number,
    before: number,
    during: number,
    windowMs: number,
  ): Promise<{ seqs: number[]; last: number }> {
    const { hub, stored, subscribe, commitAndAnnounce, names } = setup(windowMs);
    for (let seq = 1; seq <= before; seq++) stored.push(messageEvent(seq));
    hub.start(before);
    // Another socket already follows the room, so batches are really published during the replay.
    hub.addSubscriber("sub-0");
    const socket: string[] = [];
    const conn = {
      isOpen: true,
      send(frame: string): boolean {
        socket.push(frame);
        return true;
      },
    } as unknown as Connection;
    const sub = { kind: "room", id: "sub-0", roomId: ROOM, cancelled: false } as RoomSubscription;
    let next = before + 1;
    const producer = (async () => {
      while (next <= before + during) {
        const burst = 1 + Math.floor(Math.random() * 3);
        for (let i = 0; i < burst && next <= before + during; i++) commitAndAnnounce(next++);
        const pause = Math.random();
        if (pause < 0.3) await Promise.resolve();
        else if (pause < 0.8) await nextTurn();
        else await new Promise((r) => setTimeout(r, 1));
      }
    })();
    if (Math.random() < 0.5) commitAndAnnounce(next++);
    const live = await replayThenGoLive(
      {
        messages: {
          listEvents: async (_roomId, after, limit) => {
            if (Math.random() < 0.5) await nextTurn();
            return stored.filter((e) => e.seq > after).slice(0, limit);
          },
        },
        names,
        backlog: 10_000,
        ephemeralId: () => "e",
      },
      hub,
      since,
      conn,
      sub,
      () => subscribe(socket, `r:${ROOM}:sub-0`),
    );
    expect(live).toBe(true);
    await producer;
    await new Promise((r) => setTimeout(r, windowMs + 20));
    return { seqs: socket.flatMap((data) => decodeSeqs(data, "sub-0")), last: next - 1 };
  }

  test("every seq after since-seq exactly once, in order, across random interleavings", async () => {
    for (let run = 0; run < 60; run++) {
      const before = Math.floor(Math.random() * 6);
      const since = Math.floor(Math.random() * (before + 1));
      const during = 1 + Math.floor(Math.random() * 12);
      const windowMs = run % 3 === 2 ? 5 : 0;
      const { seqs, last } = await scenario(since, before, during, windowMs);
      const expected = Array.from({ length: last - since }, (_, i) => since + 1 + i);
      expect({ run, seqs }).toEqual({ run, seqs: expected });
    }
  });
});
