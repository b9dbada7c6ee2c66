import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import pino from "pino";
import { ulidIds } from "../adapters/ids/ulid-ids.ts";
import { openSqliteStore } from "../adapters/store/sqlite/open-sqlite-store.ts";
import type { RoomEvent } from "../domain/message.ts";
import type { MessageRepository, Store } from "../ports/store.ts";
import type { Connection, RoomSubscription } from "./connection.ts";
import { parseHubEvent } from "./hub-event.ts";
import { RECENT_MAX_EVENTS } from "./recent-events.ts";
import { replayThenGoLive } from "./resume.ts";
import { RoomHub } from "./room-hub.ts";
import { UserNames } from "./user-names.ts";
import { toWireEvent } from "./wire.ts";

const ids = ulidIds();
const T0 = 1_700_000_000_000;
/** An id that needs escaping in the subscription header, to compare that part of the frames too. */
const SUB_ID = "sub:0";

let store: Store;
let names: UserNames;
let roomId: string;
let ann: string;
let bob: string;
let at = T0;

beforeEach(async () => {
  store = openSqliteStore({ path: ":memory:" });
  await store.migrate();
  const user = async (name: string) =>
    (
      await store.users.create({
        id: ids.next(),
        username: name.toLowerCase(),
        email: `${name}@example.test`,
        displayName: name,
        passwordHash: "h",
        role: "user",
        createdAt: T0,
      })
    ).id;
  ann = await user("Ann");
  bob = await user("Bob");
  roomId = (
    await store.rooms.create(
      { id: ids.next(), kind: "group", name: "R", topic: "", ownerId: ann, createdAt: T0 },
      [{ userId: ann, role: "owner" }],
    )
  ).id;
  names = new UserNames({ users: store.users, now: () => Date.now() });
});
afterEach(() => store.close());

/** Counts the store reads a replay makes. */
function counting(messages: MessageRepository): {
  messages: Pick<MessageRepository, "listEvents">;
  reads: () => number;
} {
  let reads = 0;
  return {
    messages: {
      listEvents: (room, after, limit) => {
        reads++;
        return messages.listEvents(room, after, limit);
      },
    },
    reads: () => reads,
  };
}

function hubOn(messages: Pick<MessageRepository, "listEvents">): RoomHub {
  return new RoomHub(roomId, {
    messages,
    names,
    publisher: { publish() {} },
    logger: pino({ level: "silent" }),
    ephemeralId: () => "e",
    onMemberLeft: () => {},
  });
}

/** What BrokerEvents publishes for a committed event, as a hub on any process parses it. */
async function announce(hub: RoomHub, event: RoomEvent | null): Promise<void> {
  if (event === null) throw new Error("nothing committed");
  const senderId = event.message?.senderId;
  const name = senderId === undefined ? "" : (names.peek(senderId) ?? (await names.get(senderId)));
  const parsed = parseHubEvent(roomId, new TextEncoder().encode(JSON.stringify(toWireEvent(event, name))));
  if (parsed === null) throw new Error("unparsable");
  hub.receive(parsed);
}

async function sendMessage(hub: RoomHub, body: string): Promise<number> {
  const { event } = await store.messages.append({
    id: ids.next(),
    roomId,
    senderId: ann,
    body,
    clientMsgId: null,
    createdAt: ++at,
  });
  await announce(hub, event);
  return event!.seq;
}

/** Resumes one subscription from `since`; the frames it was sent (split at their NULs) and whether it went live. */
async function resume(
  hub: RoomHub,
  messages: Pick<MessageRepository, "listEvents">,
  since: number,
): Promise<{ frames: string[]; live: boolean }> {
  const sent: string[] = [];
  const conn = {
    isOpen: true,
    send(frame: string): boolean {
      sent.push(frame);
      return true;
    },
  } as unknown as Connection;
  const sub = {
    kind: "room",
    id: SUB_ID,
    roomId,
    lease: null,
    live: false,
    cancelled: false,
  } as RoomSubscription;
  let live = false;
  const went = await replayThenGoLive(
    { messages, names, backlog: 1000, ephemeralId: () => "e" },
    hub,
    since,
    conn,
    sub,
    () => {
      live = true;
    },
  );
  expect(went).toBe(live);
  return { frames: sent.join("").split(/(?<=\0)/), live };
}

describe("resume from the hub's recent events", () => {
  test("the frames are byte for byte those a replay from the store sends, and the store is not read", async () => {
    const served = counting(store.messages);
    const hub = hubOn(served.messages);
    hub.start(0);
    await sendMessage(hub, "first");
    await sendMessage(hub, "second");
    await sendMessage(hub, 'quotes " and \\ and\nnew lines, émoji 🎉, 한국어');
    await announce(hub, await store.rooms.addMember(roomId, bob, "member", ann, ++at));
    await sendMessage(hub, "after the join");
    const edited = await sendMessage(hub, "to be edited");
    await sendMessage(hub, "then another");
    const m = (await store.messages.page(roomId, { limit: 100 })).find((x) => x.seq === edited)!;
    await announce(hub, await store.messages.edit(roomId, m.id, "edited", ann, ++at));
    await sendMessage(hub, "last");
    expect(hub.lastSeq).toBe(9);

    // A hub that has published nothing yet (as one just created) replays the same range from the store.
    const fromStore = counting(store.messages);
    const cold = hubOn(fromStore.messages);
    cold.start(hub.lastSeq);

    for (const since of [edited, edited + 1, 8]) {
      const memory = await resume(hub, served.messages, since);
      const stored = await resume(cold, fromStore.messages, since);
      expect(memory.live).toBe(true);
      expect(memory.frames).toHaveLength(hub.lastSeq - since);
      expect(memory.frames).toEqual(stored.frames);
    }
    expect(served.reads()).toBe(0);
    expect(fromStore.reads()).toBeGreaterThan(0);
    // Before the edited message, memory no longer answers: the store does, with the message as it is now.
    const before = await resume(hub, served.messages, edited - 1);
    expect(served.reads()).toBeGreaterThan(0);
    expect(before.frames).toEqual((await resume(cold, fromStore.messages, edited - 1)).frames);
    expect(before.frames[0]).toContain('"message":"edited"');
    expect(before.frames.join("")).not.toContain("to be edited");
  });

  test("a message deleted while the client was away comes back as a tombstone, never its body", async () => {
    const served = counting(store.messages);
    const hub = hubOn(served.messages);
    hub.start(0);
    await sendMessage(hub, "hello");
    const secret = await sendMessage(hub, "secret");
    await sendMessage(hub, "after");
    const m = (await store.messages.page(roomId, { limit: 100 })).find((x) => x.seq === secret)!;
    await announce(hub, await store.messages.softDelete(roomId, m.id, ann, ++at));
    const back = await resume(hub, served.messages, 1);
    expect(back.frames.join("")).not.toContain("secret");
    const bodies = back.frames.map((f) => JSON.parse(f.slice(f.indexOf("\n\n") + 2, -1)));
    expect(bodies.map((b) => [b.seq, b.type, b.message])).toEqual([
      [2, "message", null],
      [3, "message", "after"],
      [4, "message.deleted", null],
    ]);
    expect(bodies[0].deletedAt).not.toBeNull();
  });

  test("a replay longer than the memory reads the store for the older part only, then finishes from memory", async () => {
    const served = counting(store.messages);
    const hub = hubOn(served.messages);
    hub.start(0);
    const total = RECENT_MAX_EVENTS + 150;
    for (let i = 1; i <= total; i++) await sendMessage(hub, `m${i}`);
    const calls: number[] = [];
    const back = await resume(
      hub,
      {
        listEvents: (room, after, limit) => {
          calls.push(after);
          return store.messages.listEvents(room, after, limit);
        },
      },
      0,
    );
    expect(back.frames.map((f) => Number(/\nseq:(\d+)\n/.exec(f)?.[1]))).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );
    // REPLAY_BATCH is 200: one read to 200, then 200…total is held in memory.
    expect(calls).toEqual([0]);
  });
});
