import { describe, expect, test } from "bun:test";
import pino from "pino";
import { messageEvent, ROOM } from "../../test/support/room-events.ts";
import type { RoomEvent } from "../domain/message.ts";
import { hubEventFromStore, hubEventFromWire } from "./hub-event.ts";
import { RECENT_MAX_EVENTS } from "./recent-events.ts";
import { RoomHub } from "./room-hub.ts";
import { UserNames } from "./user-names.ts";

function setup(typingMaxSubscribers?: number) {
  const stored: RoomEvent[] = [];
  const published: Array<{ topic: string; seq: number }> = [];
  /** The event type of each published message, in order. */
  const types: string[] = [];
  let reads = 0;
  const hub = new RoomHub(ROOM, {
    messages: {
      async listEvents(_roomId, afterSeq, limit) {
        reads++;
        return stored.filter((e) => e.seq > afterSeq).slice(0, limit);
      },
    },
    names: new UserNames({ users: { findById: async () => null }, now: () => 0 }),
    publisher: {
      publish(topic, data) {
        const seq = /\nseq:(\d+)\n/.exec(data)?.[1];
        published.push({ topic, seq: Number(seq) });
        types.push(/"type":"([a-z.]+)"/.exec(data)?.[1] ?? "");
      },
    },
    logger: pino({ level: "silent" }),
    ephemeralId: () => "e",
    onMemberLeft: () => {},
    ...(typingMaxSubscribers === undefined ? {} : { typingMaxSubscribers }),
  });
  const commit = (...seqs: number[]) => {
    for (const s of seqs) stored.push(messageEvent(s));
  };
  const live = (seq: number) => hub.receive(hubEventFromStore(messageEvent(seq), "u1"));
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { hub, stored, published, types, commit, live, settle, reads: () => reads };
}

const ephemeral = (type: "typing" | "presence") =>
  hubEventFromWire(
    type === "typing"
      ? { type, roomId: ROOM, userId: "u1", expiresInMs: 5000 }
      : { type, roomId: ROOM, online: ["u1"], offline: [], truncated: false },
  );

describe("RoomHub typing limit", () => {
  test("over typingMaxSubscribers local subscriptions typing is dropped; other ephemeral events and messages are not", () => {
    const { hub, types, live } = setup(2);
    hub.start(0);
    hub.addSubscriber("a");
    hub.addSubscriber("b");
    hub.receive(ephemeral("typing"));
    expect(types).toEqual(["typing", "typing"]);
    hub.addSubscriber("c");
    types.length = 0;
    hub.receive(ephemeral("typing"));
    hub.receive(ephemeral("presence"));
    live(1);
    expect(types).toEqual(["presence", "presence", "presence", "message", "message", "message"]);
    hub.removeSubscriber("c");
    types.length = 0;
    hub.receive(ephemeral("typing"));
    expect(types).toEqual(["typing", "typing"]);
  });

  test("0 or no limit delivers typing at any size", () => {
    for (const max of [0, undefined]) {
      const { hub, published } = setup(max);
      hub.start(0);
      for (let i = 0; i < 5; i++) hub.addSubscriber(`s${i}`);
      hub.receive(ephemeral("typing"));
      expect(published).toHaveLength(5);
    }
  });
});

describe("RoomHub", () => {
  test("delivers in seq order once per distinct subscription id, and drops duplicates", () => {
    const { hub, published, live } = setup();
    hub.start(0);
    hub.addSubscriber("sub-0");
    hub.addSubscriber("sub-0");
    hub.addSubscriber("other");
    live(1);
    live(2);
    live(1);
    expect(published).toEqual([
      { topic: `r:${ROOM}:sub-0`, seq: 1 },
      { topic: `r:${ROOM}:other`, seq: 1 },
      { topic: `r:${ROOM}:sub-0`, seq: 2 },
      { topic: `r:${ROOM}:other`, seq: 2 },
    ]);
    expect(hub.lastSeq).toBe(2);
  });

  test("a gap is filled from the store before later live events, in order, each once", async () => {
    const { hub, published, commit, live, settle } = setup();
    commit(1, 2, 3, 4, 5, 6);
    hub.start(1);
    hub.addSubscriber("s");
    live(4); // 2 and 3 were lost in transit
    live(6); // arrives while the gap is being filled
    live(5);
    await settle();
    expect(published.map((p) => p.seq)).toEqual([2, 3, 4, 5, 6]);
    live(3);
    live(8); // 7 is missing and the store does not have it yet: 8 is held, not delivered out of order
    await settle();
    expect(published.map((p) => p.seq)).toEqual([2, 3, 4, 5, 6]);
    commit(7, 8);
    await new Promise((r) => setTimeout(r, 700));
    expect(published.map((p) => p.seq)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  test("events received before start are delivered only above the starting seq", () => {
    const { hub, published, live } = setup();
    hub.addSubscriber("s");
    live(3);
    live(2);
    hub.start(2);
    expect(published.map((p) => p.seq)).toEqual([3]);
  });

  test("resync reads what the broker lost from the store", async () => {
    const { hub, published, commit, settle } = setup();
    hub.start(0);
    hub.addSubscriber("s");
    commit(1, 2);
    hub.resync();
    await settle();
    expect(published.map((p) => p.seq)).toEqual([1, 2]);
  });

  test("whenDelivered resolves when the seq is delivered", async () => {
    const { hub, live } = setup();
    hub.start(0);
    let done = false;
    const waiting = hub.whenDelivered(2, 5000).then(() => {
      done = true;
    });
    live(1);
    await Promise.resolve();
    expect(done).toBe(false);
    live(2);
    await waiting;
    expect(done).toBe(true);
  });

  test("keeps the last published events for resumes: (cursor, lastSeq] when it holds them all, else null", async () => {
    const { hub, commit, live, settle } = setup();
    const seqs = (cursor: number) => hub.recentAfter(cursor)?.map((e) => e.seq) ?? null;
    commit(1, 2, 3, 4, 5, 6, 7);
    hub.start(2);
    // Nothing published yet: the events up to the starting seq were never seen here.
    expect(seqs(0)).toBeNull();
    expect(seqs(2)).toEqual([]);
    live(3);
    live(4);
    expect(seqs(2)).toEqual([3, 4]);
    expect(seqs(3)).toEqual([4]);
    expect(seqs(1)).toBeNull();
    // Filled from the store (5 and 6 lost in transit): kept as well, in order.
    live(7);
    await settle();
    expect(hub.lastSeq).toBe(7);
    expect(seqs(2)).toEqual([3, 4, 5, 6, 7]);
    const first = hub.lastSeq;
    for (let seq = 8; seq <= 8 + RECENT_MAX_EVENTS; seq++) live(seq);
    expect(hub.lastSeq).toBe(8 + RECENT_MAX_EVENTS);
    expect(seqs(first)).toBeNull();
    expect(seqs(hub.lastSeq - RECENT_MAX_EVENTS)).toHaveLength(RECENT_MAX_EVENTS);
    hub.close();
    expect(seqs(hub.lastSeq - 1)).toBeNull();
  });

  test("after a message is edited or deleted, nothing at or before it is served from memory", () => {
    const { hub, live } = setup();
    hub.start(0);
    for (let seq = 1; seq <= 6; seq++) live(seq);
    const change = (seq: number, of: number, type: "message.edited" | "message.deleted") => {
      const m = messageEvent(of).message!;
      hub.receive(
        hubEventFromStore(
          {
            ...messageEvent(seq),
            type,
            message:
              type === "message.deleted" ? { ...m, deletedAt: 9000 } : { ...m, body: "new", editedAt: 9000 },
          },
          "u1",
        ),
      );
    };
    change(7, 3, "message.deleted");
    expect(hub.lastSeq).toBe(7);
    expect(hub.recentAfter(2)).toBeNull();
    expect(hub.recentAfter(3)?.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    change(8, 5, "message.edited");
    expect(hub.recentAfter(4)).toBeNull();
    expect(hub.recentAfter(5)?.map((e) => e.seq)).toEqual([6, 7, 8]);
  });
});
