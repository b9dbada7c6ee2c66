import { describe, expect, test } from "bun:test";
import { messageEvent, ROOM, storedMessage } from "../../test/support/room-events.ts";
import type { Message, RoomEvent } from "../domain/message.ts";
import { type HubEvent, hubEventFromStore, hubEventFromWire } from "./hub-event.ts";
import { RECENT_MAX_CHARS, RECENT_MAX_EVENTS, RecentEvents } from "./recent-events.ts";
import { TextMessageTemplate } from "./text-frames.ts";

function sent(seq: number, body?: string): HubEvent {
  return hubEventFromStore(messageEvent(seq, body), "Ann");
}

/** A message.edited (or .deleted) at `seq` of the message sent at `messageSeq`. */
function changed(seq: number, messageSeq: number, type: "message.edited" | "message.deleted"): HubEvent {
  const m = storedMessage(messageSeq);
  const now =
    type === "message.edited"
      ? { ...m, body: `edited at ${seq}`, editedAt: 5000 + seq }
      : { ...m, deletedAt: 5000 + seq };
  return hubEventFromStore(
    { roomId: ROOM, seq, type, at: 5000 + seq, actorId: "u1", member: null, message: now },
    "Ann",
  );
}

const seqsOf = (events: readonly HubEvent[] | null) => events?.map((e) => e.seq) ?? null;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function filled(to: number, from = 1): RecentEvents {
  const ring = new RecentEvents();
  for (let seq = from; seq <= to; seq++) ring.push(sent(seq));
  return ring;
}

describe("RecentEvents", () => {
  test("holds the published run and returns exactly (cursor, head] when it covers it", () => {
    const ring = filled(5);
    expect(ring.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(seqsOf(ring.after(2, 5))).toEqual([3, 4, 5]);
    expect(seqsOf(ring.after(0, 5))).toEqual([1, 2, 3, 4, 5]);
    expect(ring.after(5, 5)).toEqual([]);
    expect(ring.after(7, 5)).toEqual([]);
    // A run that does not end at the head says nothing about it.
    expect(ring.after(2, 6)).toBeNull();
    expect(ring.after(2, 4)).toBeNull();
    expect(new RecentEvents().after(0, 3)).toBeNull();
  });

  test("ephemeral events are never held", () => {
    const ring = filled(2);
    ring.push(hubEventFromWire({ type: "typing", roomId: ROOM, userId: "u1", expiresInMs: 3000 }));
    ring.push(
      hubEventFromWire({ type: "presence", roomId: ROOM, online: ["u1"], offline: [], truncated: false }),
    );
    ring.push(sent(3));
    expect(ring.seqs()).toEqual([1, 2, 3]);
    expect(ring.after(0, 3)?.every((e) => e.seq !== null)).toBe(true);
  });

  test(`bounded to the last ${RECENT_MAX_EVENTS} events; older cursors are not covered`, () => {
    const ring = filled(300);
    expect(ring.size).toBe(RECENT_MAX_EVENTS);
    expect(ring.seqs()).toEqual(range(300 - RECENT_MAX_EVENTS + 1, 300));
    expect(seqsOf(ring.after(300 - RECENT_MAX_EVENTS, 300))).toEqual(range(300 - RECENT_MAX_EVENTS + 1, 300));
    expect(ring.after(300 - RECENT_MAX_EVENTS - 1, 300)).toBeNull();
    expect(ring.after(0, 300)).toBeNull();
    // Each returned event is the one published with that seq (slots reused correctly after wrapping).
    expect(ring.after(290, 300)?.map((e) => e.json)).toEqual(range(291, 300).map((s) => sent(s).json));
  });

  test("bounded in characters too: long messages are kept fewer", () => {
    const ring = new RecentEvents();
    const long = "x".repeat(4000);
    for (let seq = 1; seq <= 100; seq++) ring.push(sent(seq, long));
    const held = ring.after(100 - ring.size, 100)!;
    const chars = held.reduce((n, e) => n + e.json.length, 0);
    expect(chars).toBeLessThanOrEqual(RECENT_MAX_CHARS);
    // As many as fit: one more (the next older) would not.
    expect(chars + sent(100 - ring.size, long).json.length).toBeGreaterThan(RECENT_MAX_CHARS);
    expect(ring.size).toBeLessThan(20);
    expect(ring.seqs().at(-1)).toBe(100);
  });

  test("stays contiguous: a seq that does not follow the newest starts a new run", () => {
    const ring = filled(5);
    ring.push(sent(7));
    expect(ring.seqs()).toEqual([7]);
    expect(ring.after(5, 7)).toBeNull();
    expect(seqsOf(ring.after(6, 7))).toEqual([7]);
    ring.push(sent(8));
    expect(ring.seqs()).toEqual([7, 8]);
  });

  test("a message.edited stops serving the edited message and everything before it", () => {
    const ring = filled(10);
    ring.push(changed(11, 4, "message.edited"));
    expect(ring.seqs()).toEqual(range(5, 11));
    expect(ring.after(3, 11)).toBeNull();
    expect(seqsOf(ring.after(4, 11))).toEqual(range(5, 11));
  });

  test("a message.deleted likewise: no original body is left to serve", () => {
    const ring = filled(10);
    ring.push(changed(11, 7, "message.deleted"));
    expect(ring.seqs()).toEqual([8, 9, 10, 11]);
    expect(ring.after(6, 11)).toBeNull();
    const served = ring.after(7, 11)!;
    expect(served.map((e) => JSON.parse(e.json).message)).toEqual(["text 8", "text 9", "text 10", null]);
  });

  test("a second change of a message also drops the first change's event, which shows the old state", () => {
    const ring = filled(10);
    ring.push(changed(11, 2, "message.edited"));
    ring.push(sent(12));
    expect(ring.seqs()).toEqual(range(3, 12));
    ring.push(changed(13, 2, "message.deleted"));
    expect(ring.seqs()).toEqual([12, 13]);
    expect(ring.after(10, 13)).toBeNull();
  });

  test("a change of a message older than the run, not shown in it, keeps the run", () => {
    const ring = filled(200);
    ring.push(changed(201, 3, "message.deleted"));
    expect(ring.seqs()).toEqual(range(200 - RECENT_MAX_EVENTS + 2, 201));
  });

  test("a change that does not say which message (another version's event) drops the whole run", () => {
    const ring = filled(10);
    const { messageSeq: _, ...rest } = JSON.parse(changed(11, 4, "message.edited").json);
    ring.push(hubEventFromWire(rest));
    expect(ring.size).toBe(0);
    expect(ring.after(10, 11)).toBeNull();
    ring.push(sent(12));
    expect(ring.seqs()).toEqual([12]);
  });

  test("templates are made once per event, on first use, and survive growth and wrapping", () => {
    const ring = filled(5);
    let made = 0;
    const make = (e: HubEvent) => {
      made++;
      return new TextMessageTemplate([["seq", String(e.seq)]], e.json);
    };
    const first = ring.templatesAfter(2, 5, make)!;
    expect(made).toBe(3);
    expect(ring.templatesAfter(0, 5, make)!.slice(2)).toEqual([...first]);
    expect(made).toBe(5);
    for (let seq = 6; seq <= 200; seq++) ring.push(sent(seq));
    expect(ring.templatesAfter(195, 200, make)!.map((t) => t.forSubscription("s"))).toEqual(
      range(196, 200).map((s) =>
        new TextMessageTemplate([["seq", String(s)]], sent(s).json).forSubscription("s"),
      ),
    );
    expect(made).toBe(10);
    expect(ring.templatesAfter(2, 200, make)).toBeNull();
    expect(ring.templatesAfter(200, 200, make)).toEqual([]);
  });

  test("whatever is sent, edited and deleted, what it serves equals what the store would replay now", () => {
    // A model store: events point at messages, which are rendered in their current state, as listEvents does.
    for (let run = 0; run < 20; run++) {
      const ring = new RecentEvents();
      const messages = new Map<number, Message>();
      const events: Array<{ seq: number; type: RoomEvent["type"]; messageSeq: number }> = [];
      const render = (seq: number) => {
        const e = events[seq - 1]!;
        const m = messages.get(e.messageSeq)!;
        return hubEventFromStore(
          { roomId: ROOM, seq, type: e.type, at: seq, actorId: "u1", member: null, message: m },
          "Ann",
        ).json;
      };
      let served = 0;
      for (let seq = 1; seq <= 300; seq++) {
        const live = [...messages.values()].filter((m) => m.deletedAt === null);
        const r = Math.random();
        const target = live[Math.floor(Math.random() * live.length)];
        if (target === undefined || r < 0.8) {
          messages.set(seq, storedMessage(seq));
          events.push({ seq, type: "message", messageSeq: seq });
        } else if (r < 0.9) {
          messages.set(target.seq, { ...target, body: `edit ${seq}`, editedAt: seq });
          events.push({ seq, type: "message.edited", messageSeq: target.seq });
        } else {
          messages.set(target.seq, { ...target, deletedAt: seq });
          events.push({ seq, type: "message.deleted", messageSeq: target.seq });
        }
        // Published as committed: rendered at commit time.
        const json = render(seq);
        ring.push(hubEventFromWire(JSON.parse(json), json));
        // Everything it covers (cursor at its oldest held seq - 1, and so any later one) is as the store has it.
        const oldest = seq - ring.size;
        expect(ring.after(oldest - 1, seq)).toBeNull();
        const got = ring.after(oldest, seq)!;
        served += got.length;
        expect({ run, seq, json: got.map((e) => e.json) }).toEqual({
          run,
          seq,
          json: range(oldest + 1, seq).map(render),
        });
        // The newest event is always served.
        expect(seqsOf(ring.after(seq - 1, seq))).toEqual([seq]);
      }
      // Changes of recent messages cut it short, but it keeps serving a useful run on average.
      expect(served / 300).toBeGreaterThan(5);
    }
  });
});
