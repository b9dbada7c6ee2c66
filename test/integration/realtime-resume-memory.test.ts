/**
 * A resume whose missed events the room's hub still holds (its last published events, recent-events.ts) is served
 * from memory, without a store read, in the same frames a replay from the store sends; a message edited or deleted
 * meanwhile is replayed as it is now, never as it was first sent.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { MessageRepository } from "../../src/ports/store.ts";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, expectStatus, send, signup, useTestServer } from "./helpers.ts";

/** Store replay reads per room. */
const reads = new Map<string, number>();

/** Counts `listEvents` calls per room: the replay reads (and the hubs' gap fills, which these tests never cause). */
function countReads(messages: MessageRepository): void {
  const listEvents = messages.listEvents.bind(messages);
  messages.listEvents = (roomId, afterSeq, limit) => {
    reads.set(roomId, (reads.get(roomId) ?? 0) + 1);
    return listEvents(roomId, afterSeq, limit);
  };
}

const env = useTestServer();
beforeAll(async () => {
  countReads(env.server.services.deps.store.messages);
});

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;
const readsOf = (roomId: string) => reads.get(roomId) ?? 0;
const text = new TextDecoder();

/** The stored events one subscription received, in arrival order, as headers and body. */
function storedFrames(c: StompTestClient, subId: string) {
  return c
    .framesOf(subId)
    .filter((f) => header(f, "seq") !== undefined)
    .map((f) => ({ seq: Number(header(f, "seq")), headers: f.headers, body: text.decode(f.body) }));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function subscribed(token: string, roomId: string, subId: string, since?: number) {
  const c = await StompTestClient.connect(env.server.wsUrl, token);
  const r = await c.subscribeWithReceipt(
    roomDest(roomId),
    subId,
    since === undefined ? [] : [["since-seq", String(since)]],
  );
  expect(r.command).toBe("RECEIPT");
  return c;
}

async function gone(...clients: StompTestClient[]): Promise<void> {
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.closed));
  // The close handshake is done; a moment more for the server's close handler to have run.
  await Bun.sleep(50);
}

/**
 * Two users in a new room, both following it: A as `w` (a watcher that keeps the room's hub on this server while
 * B is away), B as `s`.
 */
async function followedRoom(name: string, prefix: string) {
  const a = await signup(env.api, prefix);
  const b = await signup(env.api, prefix);
  const room = await createRoom(env.api, a, name, [b.user.id]);
  const watcher = await subscribed(a.accessToken, room.id, "w");
  const first = await subscribed(b.accessToken, room.id, "s");
  return { a, b, room, watcher, first };
}

describe("resume from the room hub's memory", () => {
  test("a recent resume reads nothing from the store and gets the frames a replay from the store gives", async () => {
    // A keeps following the room, so its hub on this server stays while B is away.
    const { a, b, room, watcher, first } = await followedRoom("Recent", "rm");
    for (const m of ["m1", "m2", "m3"]) await send(env.api, a, room.id, m);
    await first.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === "3");
    await gone(first);

    for (let i = 4; i <= 30; i++) await send(env.api, a, room.id, `m${i} ✓ "quoted"`);
    await watcher.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === "30");
    const before = readsOf(room.id);
    const again = await subscribed(b.accessToken, room.id, "s", 3);
    expect(readsOf(room.id)).toBe(before);
    const live = await send(env.api, a, room.id, "live");
    await again.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === String(live.seq));
    expect(storedFrames(again, "s").map((f) => f.seq)).toEqual(range(4, 31));
    expect(
      again
        .messages("s")
        .filter((e) => e.type === "message")
        .map((e) => e.message),
    ).toEqual([...range(4, 30).map((i) => `m${i} ✓ "quoted"`), "live"]);
    const fromMemory = storedFrames(again, "s").slice(0, 27);

    // With no subscription of the room left on this server its hub goes; a new one holds nothing yet, so the same
    // resume is replayed from the store.
    await gone(again, watcher);
    const cold = await subscribed(b.accessToken, room.id, "s", 3);
    expect(readsOf(room.id)).toBeGreaterThan(before);
    await cold.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === "30");
    expect(storedFrames(cold, "s").slice(0, 27)).toEqual(fromMemory);
    cold.close();
  });

  test("a message deleted while the client was away is replayed as a tombstone, an edited one as edited", async () => {
    const { a, b, room, watcher, first } = await followedRoom("Deleted", "rd");
    await send(env.api, a, room.id, "hello");
    await first.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "hello");
    await gone(first);

    const secret = await send(env.api, a, room.id, "the secret");
    const after = await send(env.api, a, room.id, "draft");
    expectStatus(await env.api.del(`/rooms/${room.id}/messages/${secret.id}`, a.accessToken), 204);
    expectStatus(
      await env.api.patch(`/rooms/${room.id}/messages/${after.id}`, { message: "final" }, a.accessToken),
      200,
    );
    await watcher.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === "5");
    // The hub delivered all of it live, and holds the original "the secret" and "draft" as first sent.
    expect(watcher.messages("w").some((e) => e.message === "the secret")).toBe(true);

    const before = readsOf(room.id);
    const back = await subscribed(b.accessToken, room.id, "s", 1);
    const end = await send(env.api, a, room.id, "end");
    await back.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === String(end.seq));
    const events = back.messages("s").filter((e) => e.seq !== undefined);
    expect(events.map((e) => [e.seq, e.type, e.message])).toEqual([
      [2, "message", null],
      [3, "message", "final"],
      [4, "message.deleted", null],
      [5, "message.edited", "final"],
      [6, "message", "end"],
    ]);
    expect(events[0]?.deletedAt).not.toBeNull();
    const bytes = back.framesOf("s").map((f) => text.decode(f.body));
    expect(bytes.some((body) => body.includes("the secret") || body.includes("draft"))).toBe(false);
    // Memory could not serve it (the changes reach back to seq 2): the store did.
    expect(readsOf(room.id)).toBeGreaterThan(before);
    await gone(back);

    // A resume from after the deleted message is recent again: from memory, with nothing stale in it.
    const resumed = readsOf(room.id);
    const later = await subscribed(b.accessToken, room.id, "s", 4);
    expect(readsOf(room.id)).toBe(resumed);
    await later.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === String(end.seq));
    const replayed = later.messages("s").filter((e) => e.seq !== undefined);
    expect(replayed.map((e) => [e.seq, e.type, e.message])).toEqual([
      [5, "message.edited", "final"],
      [6, "message", "end"],
    ]);
    later.close();
    watcher.close();
  });
});
