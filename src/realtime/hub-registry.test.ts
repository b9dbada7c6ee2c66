import { describe, expect, test } from "bun:test";
import pino from "pino";
import { memoryBroker } from "../adapters/broker/memory-broker.ts";
import { roomChannel } from "./channels.ts";
import { HubRegistry } from "./hub-registry.ts";
import { UserNames } from "./user-names.ts";

const ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

function wire(seq: number): string {
  return JSON.stringify({ type: "message", roomId: ROOM, seq, id: `m${seq}`, senderId: "u1", message: "hi" });
}

async function publishThree(
  coalesceMs: number | undefined,
  opts: { minSubscribers?: number; subscribers?: number } = {},
): Promise<string[]> {
  const broker = memoryBroker();
  const published: string[] = [];
  const hubs = new HubRegistry({
    broker,
    rooms: { findById: async () => null },
    messages: { listEvents: async () => [] },
    names: new UserNames({ users: { findById: async () => null }, now: () => 0 }),
    publisher: { publish: (_topic, data) => published.push(data) },
    logger: pino({ level: "silent" }),
    ephemeralId: () => "e",
    onMemberLeft: () => {},
    ...(coalesceMs === undefined ? {} : { coalesceMs }),
    ...(opts.minSubscribers === undefined ? {} : { coalesceMinSubscribers: opts.minSubscribers }),
  });
  const lease = await hubs.acquire(ROOM);
  for (let i = 0; i < (opts.subscribers ?? 1); i++) lease.hub.addSubscriber("s");
  for (let seq = 1; seq <= 3; seq++) await broker.publish(roomChannel(ROOM), wire(seq));
  await new Promise((r) => setTimeout(r, (coalesceMs ?? 0) + 50));
  await hubs.close();
  await broker.close?.();
  return published;
}

describe("HubRegistry coalescing window", () => {
  test("by default every event is its own message, published as it arrives", async () => {
    const published = await publishThree(undefined);
    expect(published.map((d) => d.split("\0").length - 1)).toEqual([1, 1, 1]);
  });

  test("with a window, the events inside it share one message", async () => {
    const published = await publishThree(20);
    expect(published.map((d) => d.split("\0").length - 1)).toEqual([3]);
    expect([...published.join("").matchAll(/\nseq:(\d+)\n/g)].map((m) => Number(m[1]))).toEqual([1, 2, 3]);
  });

  test("a room below the size threshold publishes each event at once, even with a window", async () => {
    const published = await publishThree(20, { minSubscribers: 3, subscribers: 2 });
    expect(published.map((d) => d.split("\0").length - 1)).toEqual([1, 1, 1]);
  });

  test("a room at the size threshold coalesces", async () => {
    const published = await publishThree(20, { minSubscribers: 3, subscribers: 3 });
    expect(published.map((d) => d.split("\0").length - 1)).toEqual([3]);
  });
});
