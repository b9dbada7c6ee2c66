/**
 * The Notifications unit tests' world: one room's stored stream with the store's unread rule, the real hub
 * registry and user channels on the in-memory broker, and the frames sent on the user's notification topics.
 */
import pino from "pino";
import { memoryBroker, memoryHub } from "../../src/adapters/broker/memory-broker.ts";
import type { Message, RoomEvent } from "../../src/domain/message.ts";
import type { Room } from "../../src/domain/room.ts";
import { UNREAD_COUNT_MAX } from "../../src/domain/rules.ts";
import type { Broker } from "../../src/ports/broker.ts";
import type { ReadMark, RoomReadState } from "../../src/ports/store.ts";
import { roomChannel, userChannel } from "../../src/realtime/channels.ts";
import { frameIds } from "../../src/realtime/frame-ids.ts";
import { HubRegistry } from "../../src/realtime/hub-registry.ts";
import { LocalUsers } from "../../src/realtime/local-users.ts";
import type { NotificationBody } from "../../src/realtime/notification-body.ts";
import { Notifications } from "../../src/realtime/notifications.ts";
import { UserChannels } from "../../src/realtime/user-channels.ts";
import { UserNames } from "../../src/realtime/user-names.ts";
import type { UserNotice } from "../../src/realtime/user-notice.ts";
import { toWireEvent } from "../../src/realtime/wire.ts";

export const ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
export const ME = "u-me";
export const ANN = "u-ann";

/**
 * One room's stored stream and read markers, with the store's unread rule: others' messages that are not
 * deleted and lie above the member's read marker, counted up to UNREAD_COUNT_MAX. What the store commits is published to the broker by
 * `publish`, separately, so a test decides when the hubs see it relative to the count being read.
 */
export class Store {
  readonly events: RoomEvent[] = [];
  readonly #messages = new Map<number, Message>();
  readonly #readSeq = new Map<string, number>();
  #calls = 0;
  readonly #holds = new Map<number, { readonly at: "before" | "after"; readonly until: Promise<void> }>();
  readonly #failures = new Set<number>();

  get lastSeq(): number {
    return this.events.length;
  }

  /** How many reads (`roomIdsOf`, `readStatesOf`) were made so far: the number of the last one. */
  get reads(): number {
    return this.#calls;
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

  /** The count the stores report: the rule's, capped at UNREAD_COUNT_MAX. */
  unread(userId: string): number {
    return Math.min(this.uncappedUnread(userId), UNREAD_COUNT_MAX);
  }

  /** The rule's count without the cap: what a count at the cap stands for. */
  uncappedUnread(userId: string): number {
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
      version: 1,
    };
  }

  /**
   * Holds the `call`-th read (Notifications makes two: `roomIdsOf`, the rooms to follow, then `readStatesOf`, the
   * counts once they are followed) until the returned function is called, either before it reads (the count then reflects what was
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

  /** Makes the `call`-th read (numbered as for `hold`) fail, as a store that is down would. */
  fail(call: number): void {
    this.#failures.add(call);
  }

  async roomIdsOf(_userId: string): Promise<string[]> {
    if (this.#failures.has(++this.#calls)) throw new Error("store down");
    const hold = this.#holds.get(this.#calls);
    if (hold?.at === "before") await hold.until;
    const ids = [ROOM];
    if (hold?.at === "after") await hold.until;
    return ids;
  }

  async readStatesOf(userId: string): Promise<RoomReadState[]> {
    if (this.#failures.has(++this.#calls)) throw new Error("store down");
    const hold = this.#holds.get(this.#calls);
    if (hold?.at === "before") await hold.until;
    const state: RoomReadState = {
      roomId: ROOM,
      readSeq: this.#readSeq.get(userId) ?? 0,
      unreadCount: this.unread(userId),
      lastSeq: this.lastSeq,
    };
    if (hold?.at === "after") await hold.until;
    return [state];
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

export interface SetupOptions {
  /** Notifications' lingerMs: 0 (the default here) closes a state with its last subscription, as before it. */
  readonly lingerMs?: number;
}

export interface Setup {
  readonly store: Store;
  readonly broker: Broker;
  readonly hubs: HubRegistry;
  /** The users' records the user channels keep (`channelRefs`: the references to a user's channel). */
  readonly users: LocalUsers;
  /** The real user channels on the broker, handing notices to `notifications.onNotice` as the gateway does. */
  readonly channels: UserChannels;
  readonly notifications: Notifications;
  /** Bodies sent on the user's notification topics, in order. */
  readonly sent: NotificationBody[];
  /** Publishes committed events to the room's channel, as BrokerEvents does (the wire JSON). */
  publish(...events: RoomEvent[]): Promise<void>;
  /** Publishes a notice on the user's broker channel, as BrokerEvents does. */
  notice(notice: UserNotice): Promise<void>;
  /** Announces a broker resync (the transport may have lost messages). */
  resync(): void;
  /** Lets every queued broker delivery and hub delivery run. */
  settle(): Promise<void>;
  /**
   * ME subscribes on "n" while the count read (the set-up's second store read) is held `at` its statement:
   * `during` runs once the room is followed and the read has reached the hold; then the read goes on and the
   * subscription completes.
   */
  subscribeDuringCountRead(at: "before" | "after", during: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

let open: Setup | null = null;

/** Closes the setup a test made, if any: each test file calls it after each test. */
export async function closeSetup(): Promise<void> {
  await open?.close();
  open = null;
}

export function setup(opts: SetupOptions = {}): Setup {
  const store = new Store();
  const transport = memoryHub();
  const broker = memoryBroker({ hub: transport });
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
  const users = new LocalUsers();
  const channels = new UserChannels(
    users,
    broker,
    (userId, notice) => notifications.onNotice(userId, notice),
    logger,
  );
  const notifications: Notifications = new Notifications({
    hubs,
    rooms: {
      roomIdsOf: (userId) => store.roomIdsOf(userId),
      readStatesOf: (userId) => store.readStatesOf(userId),
    },
    publisher,
    logger,
    messageId: frameIds(),
    connection: () => undefined,
    userChannels: channels,
    broker,
    lingerMs: opts.lingerMs ?? 0,
  });
  const settle = () => new Promise<void>((r) => setTimeout(r, 10));
  const s: Setup = {
    store,
    broker,
    hubs,
    users,
    channels,
    notifications,
    sent,
    async publish(...events) {
      for (const e of events) await broker.publish(roomChannel(ROOM), JSON.stringify(toWireEvent(e, "name")));
    },
    async notice(notice) {
      await broker.publish(userChannel(ME), JSON.stringify(notice));
    },
    resync: () => transport.resync(),
    settle,
    async subscribeDuringCountRead(at, during) {
      const release = store.hold(2, at);
      const subscribed = notifications.subscribe(ME, "n");
      await settle();
      await during();
      await settle();
      release();
      await subscribed;
    },
    async close() {
      notifications.unsubscribe(ME, "n");
      notifications.close();
      await hubs.close();
      await broker.close();
    },
  };
  open = s;
  return s;
}

/** The count the notifications stream holds, read through the next message from someone else. */
export async function liveUnread(s: Setup): Promise<number> {
  await s.publish(s.store.send(ANN));
  await s.settle();
  const last = s.sent.at(-1);
  if (last?.type !== "message")
    throw new Error(`expected a message notification, got ${JSON.stringify(last)}`);
  return last.unreadCount - 1;
}

/** The read notice BrokerEvents publishes for a read on another connection. */
export function readNotice(read: ReadMark) {
  return { type: "read" as const, roomId: ROOM, ...read, origin: "other" };
}
