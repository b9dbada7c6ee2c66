import { describe, expect, test } from "bun:test";
import pino from "pino";
import { messageEvent, ROOM } from "../../test/support/room-events.ts";
import { memoryBroker } from "../adapters/broker/memory-broker.ts";
import type { RoomEvent } from "../domain/message.ts";
import type { Broker } from "../ports/broker.ts";
import { BrokerEvents } from "./broker-events.ts";
import { roomChannel } from "./channels.ts";
import { UserNames } from "./user-names.ts";

const OTHER_ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAW";

function from(senderId: string, seq: number, roomId = ROOM): RoomEvent {
  const e = messageEvent(seq);
  return { ...e, roomId, actorId: senderId, message: e.message && { ...e.message, roomId, senderId } };
}

/**
 * BrokerEvents on the in-process broker, with the publish calls recorded as "room:seq" when they are made, and a
 * user store whose lookups the test answers (or fails) when it chooses.
 */
function setup() {
  const broker = memoryBroker();
  const issued: string[] = [];
  /** Per publish, what had been issued by the first microtask after it: what went out in the same step. */
  const sameStep = new Map<string, string[]>();
  const recording: Broker = {
    ...broker,
    publish(channel, payload) {
      const call = `${channel === roomChannel(ROOM) ? "a" : "b"}:${/"seq":(\d+)/.exec(String(payload))?.[1]}`;
      const from = issued.length;
      issued.push(call);
      queueMicrotask(() => sameStep.set(call, issued.slice(from)));
      return broker.publish(channel, payload);
    },
  };
  const lookups = new Map<string, { resolve: (name: string) => void; reject: (err: Error) => void }>();
  const names = new UserNames({
    users: {
      findById: (id) =>
        new Promise((resolve, reject) => {
          lookups.set(id, {
            resolve: (name) => resolve({ displayName: name, username: id } as never),
            reject,
          });
        }),
    },
    now: () => 0,
  });
  const warnings: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  const events = new BrokerEvents(recording, names, logger);
  const emit = (e: RoomEvent) => events.emit({ kind: "room.event", event: e });
  const flush = () => new Promise((r) => setTimeout(r, 5));
  return { broker, events, names, issued, sameStep, lookups, warnings, emit, flush };
}

describe("BrokerEvents", () => {
  test("an event whose sender's name is cached is published within emit, in order", async () => {
    const { events, names, issued, emit } = setup();
    names.set("u1", "Ann");
    emit(from("u1", 1));
    emit(from("u1", 2));
    emit(from("u1", 3));
    // No earlier publish is waited for: the three calls were made before emit returned.
    expect(issued).toEqual(["a:1", "a:2", "a:3"]);
    await events.settled(ROOM);
  });

  test("a sender's name being loaded holds the room's later events; once loaded they go out in one step", async () => {
    const { events, names, issued, sameStep, lookups, emit, flush } = setup();
    names.set("u1", "Ann");
    emit(from("u2", 1));
    emit(from("u1", 2));
    emit(from("u1", 3));
    // Another room is not held up.
    emit(from("u1", 7, OTHER_ROOM));
    expect(issued).toEqual(["b:7"]);
    let settled = false;
    void events.settled(ROOM).then(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false);
    lookups.get("u2")?.resolve("Bob");
    await events.settled(ROOM);
    expect(issued).toEqual(["b:7", "a:1", "a:2", "a:3"]);
    // Every held event went out in the step that had the name, so the hubs get them together.
    expect(sameStep.get("a:1")).toEqual(["a:1", "a:2", "a:3"]);
    // Afterwards the room publishes within emit again.
    emit(from("u2", 4));
    expect(issued.at(-1)).toBe("a:4");
  });

  test("the names of a room's held events load together; once the first is known, all known ones go out in one step", async () => {
    const { events, issued, sameStep, lookups, emit, flush } = setup();
    emit(from("u2", 1));
    emit(from("u3", 2));
    emit(from("u4", 3));
    // All three lookups are under way before any has answered.
    expect([...lookups.keys()].sort()).toEqual(["u2", "u3", "u4"]);
    lookups.get("u4")?.resolve("Dee");
    lookups.get("u3")?.resolve("Cy");
    await flush();
    // Order holds: seq 1's name is not known yet.
    expect(issued).toEqual([]);
    lookups.get("u2")?.resolve("Bob");
    await events.settled(ROOM);
    expect(issued).toEqual(["a:1", "a:2", "a:3"]);
    expect(sameStep.get("a:1")).toEqual(["a:1", "a:2", "a:3"]);
  });

  test("a later held event whose name failed to load is asked for again when its turn comes", async () => {
    const { events, names, issued, lookups, emit, flush } = setup();
    emit(from("u2", 1));
    emit(from("u3", 2));
    lookups.get("u3")?.reject(new Error("store blip"));
    await flush();
    lookups.get("u2")?.resolve("Bob");
    await flush();
    // u3's first load failed while seq 1 waited; its turn asks again, and that answer publishes it.
    lookups.get("u3")?.resolve("Cy");
    await events.settled(ROOM);
    expect(issued).toEqual(["a:1", "a:2"]);
    expect(names.peek("u3")).toBe("Cy");
  });

  test("a name that cannot be loaded drops its event with a warning; the room's later events still go out in order", async () => {
    const { events, names, issued, lookups, warnings, emit, flush } = setup();
    names.set("u1", "Ann");
    emit(from("u2", 1));
    emit(from("u1", 2));
    lookups.get("u2")?.reject(new Error("store down"));
    await events.settled(ROOM);
    await flush();
    expect(issued).toEqual(["a:2"]);
    expect(warnings.some((w) => w.includes("room event not published"))).toBe(true);
    // Hubs see the hole at seq 1 and read it from the store (room-hub.ts); the next event is not held.
    emit(from("u1", 3));
    expect(issued).toEqual(["a:2", "a:3"]);
  });

  test("subscribers receive every event once, in emit order, whichever path it took", async () => {
    const { broker, names, lookups, emit, flush } = setup();
    const seqs: number[] = [];
    await broker.subscribe(roomChannel(ROOM), (payload) => {
      seqs.push(Number(/"seq":(\d+)/.exec(new TextDecoder().decode(payload))?.[1]));
    });
    names.set("u1", "Ann");
    emit(from("u1", 1));
    emit(from("u3", 2));
    emit(from("u1", 3));
    emit(from("u4", 4));
    emit(from("u1", 5));
    await flush();
    lookups.get("u3")?.resolve("Cy");
    await flush();
    lookups.get("u4")?.resolve("Dee");
    await flush();
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
  });
});
