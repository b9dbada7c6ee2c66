import { afterEach, describe, expect, test } from "bun:test";
import pino from "pino";
import { memoryBroker } from "../adapters/broker/memory-broker.ts";
import type { Message, RoomEvent } from "../domain/message.ts";
import type { Room } from "../domain/room.ts";
import type { Broker } from "../ports/broker.ts";
import type { ReadMark, RoomSummary } from "../ports/store.ts";
import { roomChannel } from "./channels.ts";
import { HubRegistry } from "./hub-registry.ts";
import { MOVES_KEPT, type NotificationBody, Notifications } from "./notifications.ts";
import { UserNames } from "./user-names.ts";
import { toWireEvent, toWireRoomUpdated, type WireMessageEvent } from "./wire.ts";

const ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const ME = "u-me";
const ANN = "u-ann";

/**
 * One room's stored stream and read markers, with the store's unread rule: others' messages that are not
 * deleted and lie above the member's read marker. What the store commits is published to the broker by
 * `publish`, separately, so a test decides when the hubs see it relative to the count being read.
 */
class Store {
  readonly events: RoomEvent[] = [];
  readonly #messages = new Map<number, Message>();
  readonly #readSeq = new Map<string, number>();
  #calls = 0;
  readonly #holds = new Map<number, { readonly at: "before" | "after"; readonly until: Promise<void> }>();

  get lastSeq(): number {
    return this.events.length;
  }

  send(senderId: string): RoomEvent {
    const seq = this.lastSeq + 1;
    const message: Message = {
      id: `m${seq}`,
      roomId: ROOM,
      seq,
      senderId,
      body: `text ${seq}`,
      clientMsgId: null,
      createdAt: seq,
      editedAt: null,
      deletedAt: null,
    };
    this.#messages.set(seq, message);
    return this.#append("message", senderId, message);
  }

  edit(messageSeq: number): RoomEvent {
    const m = this.#message(messageSeq);
    const edited = { ...m, body: "edited", editedAt: this.lastSeq + 1 };
    this.#messages.set(messageSeq, edited);
    return this.#append("message.edited", m.senderId, edited);
  }

  delete(messageSeq: number, actorId: string): RoomEvent {
    const m = this.#message(messageSeq);
    if (m.deletedAt !== null) throw new Error("the store appends message.deleted once per message");
    const deleted = { ...m, body: null, deletedAt: this.lastSeq + 1 };
    this.#messages.set(messageSeq, deleted);
    return this.#append("message.deleted", actorId, deleted);
  }

  leave(userId: string): RoomEvent {
    const event: RoomEvent = {
      roomId: ROOM,
      seq: this.lastSeq + 1,
      type: "member.left",
      at: this.lastSeq + 1,
      actorId: userId,
      message: null,
      member: { userId, role: "member" },
    };
    this.events.push(event);
    return event;
  }

  /** As the store's: the count with the last seq it was read at, `countedSeq`. */
  markRead(userId: string, seq: number): ReadMark {
    const readSeq = Math.max(this.#readSeq.get(userId) ?? 0, Math.min(seq, this.lastSeq));
    this.#readSeq.set(userId, readSeq);
    return { readSeq, unreadCount: this.unread(userId), countedSeq: this.lastSeq };
  }

  unread(userId: string): number {
    const readSeq = this.#readSeq.get(userId) ?? 0;
    let n = 0;
    for (const m of this.#messages.values()) {
      if (m.seq > readSeq && m.deletedAt === null && m.senderId !== userId) n++;
    }
    return n;
  }

  room(): Room {
    return {
      id: ROOM,
      kind: "group",
      name: "Room",
      topic: "",
      ownerId: ANN,
      createdAt: 0,
      lastSeq: this.lastSeq,
    };
  }

  /**
   * Holds the `call`-th listForUser (Notifications makes two: the rooms to follow, then the counts once they are
   * followed) until the returned function is called, either before it reads (the count then reflects what was
   * committed meanwhile) or after (it reflects the store as it was when called).
   */
  hold(call: number, at: "before" | "after"): () => void {
    let release!: () => void;
    const until = new Promise<void>((r) => {
      release = r;
    });
    this.#holds.set(call, { at, until });
    return release;
  }

  async listForUser(userId: string): Promise<RoomSummary[]> {
    const hold = this.#holds.get(++this.#calls);
    if (hold?.at === "before") await hold.until;
    const summary: RoomSummary = {
      room: this.room(),
      myRole: "member",
      lastMessage: null,
      unreadCount: this.unread(userId),
      readSeq: this.#readSeq.get(userId) ?? 0,
    };
    if (hold?.at === "after") await hold.until;
    return [summary];
  }

  #message(seq: number): Message {
    const m = this.#messages.get(seq);
    if (m === undefined) throw new Error(`no message ${seq}`);
    return m;
  }

  #append(type: RoomEvent["type"], actorId: string, message: Message): RoomEvent {
    const event: RoomEvent = {
      roomId: ROOM,
      seq: this.lastSeq + 1,
      type,
      at: this.lastSeq + 1,
      actorId,
      message,
      member: null,
    };
    this.events.push(event);
    return event;
  }
}

interface Setup {
  readonly store: Store;
  readonly broker: Broker;
  readonly hubs: HubRegistry;
  readonly notifications: Notifications;
  /** Bodies sent on the user's notification topics, in order. */
  readonly sent: NotificationBody[];
  /** Publishes committed events to the room's channel, as BrokerEvents does (the wire JSON). */
  publish(...events: RoomEvent[]): Promise<void>;
  /** Lets every queued broker delivery and hub delivery run. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

let open: Setup | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

function setup(): Setup {
  const store = new Store();
  const broker = memoryBroker();
  const sent: NotificationBody[] = [];
  const logger = pino({ level: "silent" });
  const publisher = {
    publish(topic: string, frame: string): void {
      if (!topic.startsWith(`u:${ME}:`)) return;
      sent.push(JSON.parse(frame.slice(frame.indexOf("\n\n") + 2, frame.lastIndexOf("\0"))));
    },
  };
  const hubs = new HubRegistry({
    broker,
    rooms: { findById: async () => store.room() },
    messages: {
      listEvents: async (_roomId, afterSeq, limit) =>
        store.events.filter((e) => e.seq > afterSeq).slice(0, limit),
    },
    names: new UserNames({ users: { findById: async () => null }, now: () => 0 }),
    publisher,
    logger,
    ephemeralId: () => "e",
    onMemberLeft: () => {},
  });
  let ids = 0;
  const notifications = new Notifications({
    hubs,
    rooms: { listForUser: (userId) => store.listForUser(userId) },
    publisher,
    logger,
    messageId: () => `n${++ids}`,
    connection: () => undefined,
  });
  const settle = () => new Promise<void>((r) => setTimeout(r, 10));
  const s: Setup = {
    store,
    broker,
    hubs,
    notifications,
    sent,
    async publish(...events) {
      for (const e of events) await broker.publish(roomChannel(ROOM), JSON.stringify(toWireEvent(e, "name")));
    },
    settle,
    async close() {
      notifications.unsubscribe(ME, "n");
      await hubs.close();
      await broker.close();
    },
  };
  open = s;
  return s;
}

/** The count the notifications stream holds, read through the next message from someone else. */
async function liveUnread(s: Setup): Promise<number> {
  await s.publish(s.store.send(ANN));
  await s.settle();
  const last = s.sent.at(-1);
  if (last?.type !== "message")
    throw new Error(`expected a message notification, got ${JSON.stringify(last)}`);
  return last.unreadCount - 1;
}

describe("Notifications: deleted messages", () => {
  test("deleting another's unread message lowers the count and says so; the store agrees", async () => {
    const s = setup();
    const seeded = s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const live = s.store.send(ANN);
    await s.publish(live);
    await s.publish(s.store.delete(seeded.seq, ANN), s.store.delete(live.seq, ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: 2, senderId: ANN, unreadCount: 2 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 1 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 0 },
    ]);
    expect(s.store.unread(ME)).toBe(0);
  });

  test("a deletion published twice moves the count once", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const del = s.store.delete(1, ANN);
    await s.publish(del, del);
    await s.settle();
    expect(s.sent).toEqual([{ type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 1 }]);
    expect(await liveUnread(s)).toBe(s.store.unread(ME) - 1);
  });

  test("my own message deleted, by me or by the owner, changes nothing", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const mine = s.store.send(ME);
    const alsoMine = s.store.send(ME);
    await s.publish(mine, alsoMine, s.store.delete(mine.seq, ANN), s.store.delete(alsoMine.seq, ME));
    await s.settle();
    expect(s.sent).toEqual([]);
    expect(await liveUnread(s)).toBe(1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("a message at or below the read marker deleted changes nothing", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.markRead(ME, 2);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.delete(2, ANN), s.store.delete(1, ANN));
    await s.settle();
    expect(s.sent).toEqual([]);
    expect(await liveUnread(s)).toBe(1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("an edit changes nothing", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.edit(1));
    await s.settle();
    expect(s.sent).toEqual([]);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a deletion from a version that does not send messageSeq leaves the count as it is", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const { messageSeq: _, ...old } = toWireEvent(s.store.delete(1, ANN), "name") as WireMessageEvent;
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(old));
    await s.settle();
    expect(s.sent).toEqual([]);
  });
});

describe("Notifications: deletions while the counts are being read", () => {
  test("count read before the message and its deletion: both are applied from the buffer", async () => {
    const s = setup();
    s.store.send(ANN);
    const release = s.store.hold(2, "after");
    const subscribed = s.notifications.subscribe(ME, "n");
    // The room is followed and its count taken (1 unread, up to seq 1) but not yet applied.
    await s.settle();
    const m = s.store.send(ANN);
    await s.publish(m, s.store.delete(m.seq, ANN), s.store.delete(1, ANN));
    await s.settle();
    release();
    await subscribed;
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: 2, senderId: ANN, unreadCount: 2 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 1 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 0 },
    ]);
    expect(s.store.unread(ME)).toBe(0);
    expect(await liveUnread(s)).toBe(0);
  });

  test("count read between a message and its deletion: only the deletion is applied", async () => {
    const s = setup();
    s.store.send(ANN);
    const m = s.store.send(ANN);
    const release = s.store.hold(2, "after");
    const subscribed = s.notifications.subscribe(ME, "n");
    await s.settle();
    // The count taken has both messages (up to seq 2); the deletion reaches the hub while it is held.
    await s.publish(m, s.store.delete(m.seq, ANN));
    await s.settle();
    release();
    await subscribed;
    expect(s.sent).toEqual([{ type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 1 }]);
    expect(s.store.unread(ME)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("count read after the message and its deletion: the buffered events are already in it", async () => {
    const s = setup();
    s.store.send(ANN);
    const release = s.store.hold(2, "before");
    const subscribed = s.notifications.subscribe(ME, "n");
    await s.settle();
    const m = s.store.send(ANN);
    await s.publish(m, s.store.delete(m.seq, ANN), s.store.delete(1, ANN));
    await s.settle();
    release();
    await subscribed;
    expect(s.sent).toEqual([]);
    expect(s.store.unread(ME)).toBe(0);
    expect(await liveUnread(s)).toBe(0);
  });
});

describe("Notifications: reads and deletions", () => {
  test("a read notice that overtakes a message below its marker: the message is not counted again", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    // Message 2 commits, the user reads past it, and the read's notice arrives before the hub delivers it.
    const m = s.store.send(ANN);
    const read = s.store.markRead(ME, 2);
    s.notifications.onNotice(ME, { type: "read", roomId: ROOM, ...read, origin: "other" });
    await s.publish(m);
    await s.settle();
    expect(s.sent).toEqual([{ type: "read", roomId: ROOM, readSeq: 2, unreadCount: 0 }]);
    expect(await liveUnread(s)).toBe(0);
  });

  test("deletions before and after a read: only messages above the marker at the time count", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.delete(2, ANN));
    await s.settle();
    const read = s.store.markRead(ME, 2);
    s.notifications.onNotice(ME, { type: "read", roomId: ROOM, ...read, origin: "other" });
    await s.publish(s.store.delete(1, ANN), s.store.delete(3, ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 2 },
      { type: "read", roomId: ROOM, readSeq: 2, unreadCount: 1 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 3, unreadCount: 0 },
    ]);
    expect(s.store.unread(ME)).toBe(0);
  });
});

/** The read notice BrokerEvents publishes for a read on another connection. */
function readNotice(read: ReadMark) {
  return { type: "read" as const, roomId: ROOM, ...read, origin: "other" };
}

describe("Notifications: read notices and the events around them", () => {
  test("a message above the new marker, counted by the notice but delivered after it, is not counted again", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    // Messages 2 and 3 commit; the user reads up to 2; the notice (counting 3) arrives before the hub delivers them.
    const m2 = s.store.send(ANN);
    const m3 = s.store.send(ANN);
    const read = s.store.markRead(ME, 2);
    expect(read).toEqual({ readSeq: 2, unreadCount: 1, countedSeq: 3 });
    s.notifications.onNotice(ME, readNotice(read));
    await s.publish(m2, m3);
    await s.settle();
    expect(s.sent).toEqual([{ type: "read", roomId: ROOM, readSeq: 2, unreadCount: 1 }]);
    expect(await liveUnread(s)).toBe(s.store.unread(ME) - 1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("a deletion above the new marker, counted by the notice but delivered after it, is not taken off again", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    const m3 = s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const del = s.store.delete(m3.seq, ANN);
    const read = s.store.markRead(ME, 1);
    expect(read).toEqual({ readSeq: 1, unreadCount: 1, countedSeq: 4 });
    s.notifications.onNotice(ME, readNotice(read));
    await s.publish(del);
    await s.settle();
    expect(s.sent).toEqual([{ type: "read", roomId: ROOM, readSeq: 1, unreadCount: 1 }]);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a notice without countedSeq (an older version) counts the events up to its marker only, as before", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const m2 = s.store.send(ANN);
    const m3 = s.store.send(ANN);
    const { countedSeq: _, ...old } = readNotice(s.store.markRead(ME, 2));
    s.notifications.onNotice(ME, old);
    await s.publish(m2, m3);
    await s.settle();
    // Message 3 was in the count already; without the seq to tell, it is counted once more.
    expect(s.sent).toEqual([
      { type: "read", roomId: ROOM, readSeq: 2, unreadCount: 1 },
      { type: "message", roomId: ROOM, seq: 3, senderId: ANN, unreadCount: 2 },
    ]);
  });

  test("a message after the count, delivered before the notice, stays counted", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const read = s.store.markRead(ME, 1);
    // Message 2 commits after the count was read and reaches the hub before the notice reaches this process.
    await s.publish(s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: 2, senderId: ANN, unreadCount: 2 },
      { type: "read", roomId: ROOM, readSeq: 1, unreadCount: 1 },
    ]);
    expect(s.store.unread(ME)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a deletion after the count, delivered before the notice, stays applied; one at or below the marker does not count", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const read = s.store.markRead(ME, 1);
    expect(read).toEqual({ readSeq: 1, unreadCount: 2, countedSeq: 3 });
    await s.publish(s.store.delete(1, ANN), s.store.delete(3, ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent).toEqual([
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 2 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 3, unreadCount: 1 },
      { type: "read", roomId: ROOM, readSeq: 1, unreadCount: 1 },
    ]);
    expect(s.store.unread(ME)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a notice no newer than the count held, for the same marker, leaves it", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const first = s.store.markRead(ME, 1);
    const m2 = s.store.send(ANN);
    const second = s.store.markRead(ME, 1);
    s.notifications.onNotice(ME, readNotice(second));
    await s.publish(m2, s.store.send(ANN));
    await s.settle();
    // The earlier read's notice comes last: its count (0, at seq 1) is older than the one held (2, at seq 3).
    s.notifications.onNotice(ME, readNotice(first));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 1, unreadCount: 2 });
    expect(await liveUnread(s)).toBe(2);
  });

  test(`a count read before more than ${MOVES_KEPT} counted events is taken as it comes`, async () => {
    const s = setup();
    await s.notifications.subscribe(ME, "n");
    const exact = s.store.markRead(ME, 0);
    for (let i = 0; i < MOVES_KEPT; i++) await s.publish(s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(exact));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 0, unreadCount: MOVES_KEPT });

    const late = s.store.markRead(ME, MOVES_KEPT);
    for (let i = 0; i <= MOVES_KEPT; i++) await s.publish(s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(late));
    // The moves it would need are no longer all kept: the count is the notice's, short of what came after it.
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: MOVES_KEPT, unreadCount: 0 });
    expect(s.store.unread(ME)).toBe(MOVES_KEPT + 1);
  });
});

describe("Notifications: room details and leaving", () => {
  const renamed = (s: Setup) => toWireRoomUpdated({ ...s.store.room(), name: "Renamed" }, ANN, null);

  test("room.updated is forwarded as it came, also while the counts are being read, and moves no count", async () => {
    const s = setup();
    s.store.send(ANN);
    const release = s.store.hold(2, "after");
    const subscribed = s.notifications.subscribe(ME, "n");
    await s.settle();
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(renamed(s)));
    await s.settle();
    expect(s.sent).toEqual([renamed(s)]);
    release();
    await subscribed;
    expect(await liveUnread(s)).toBe(1);
  });

  test("after the user's own member.left in the room's stream, nothing of the room reaches them though its hub lives on", async () => {
    const s = setup();
    // Another follower of the room on this process keeps its hub alive.
    const other = await s.hubs.acquire(ROOM);
    await s.notifications.subscribe(ME, "n");
    expect(other.hub.listeners.size).toBe(1);
    await s.publish(s.store.leave(ME));
    await s.settle();
    expect(other.hub.listeners.size).toBe(0);
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(renamed(s)));
    await s.publish(s.store.send(ANN));
    await s.settle();
    // The notice on the user's channel, arriving after the stream's event, still tells the client.
    s.notifications.onNotice(ME, { type: "member.left", roomId: ROOM, seq: 1 });
    expect(s.sent).toEqual([{ type: "member.left", roomId: ROOM, userId: ME }]);
    other.release();
  });

  test("after the member.left notice, a hub that lives on no longer calls the user's listener", async () => {
    const s = setup();
    const other = await s.hubs.acquire(ROOM);
    await s.notifications.subscribe(ME, "n");
    s.store.leave(ME);
    s.notifications.onNotice(ME, { type: "member.left", roomId: ROOM, seq: 1 });
    expect(other.hub.listeners.size).toBe(0);
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(renamed(s)));
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent).toEqual([{ type: "member.left", roomId: ROOM, userId: ME }]);
    other.release();
  });
});
