/**
 * The unread counts on /user/queue/notifications follow deletions and edits by the store's rule (others'
 * messages, not deleted, above the read marker), so the badge a client shows over STOMP equals what
 * GET /api/v1/rooms reports at every step, without resubscribing.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { useServerPair } from "../support/server.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import {
  type Account,
  type Client,
  client,
  createRoom,
  expectStatus,
  send,
  signup,
  useTestServer,
  type WireMessage,
} from "./helpers.ts";

const NOTIFY = "/user/queue/notifications";
const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

/** The unread count GET /api/v1/rooms reports for `who` in one room. */
async function httpUnread(api: Client, who: Account, roomId: string): Promise<number> {
  const res = await api.get("/rooms", who.accessToken);
  expectStatus(res, 200);
  const rooms = (res.body as { rooms: Array<{ room: { id: string }; unreadCount: number }> }).rooms;
  const summary = rooms.find((s) => s.room.id === roomId);
  if (summary === undefined) throw new Error(`room ${roomId} is not in the list`);
  return summary.unreadCount;
}

async function remove(api: Client, who: Account, m: WireMessage): Promise<void> {
  expectStatus(await api.del(`/rooms/${m.roomId}/messages/${m.id}`, who.accessToken), 204);
}

/** The next notification of `type` after the `after`-th one. */
async function nextNotice(
  c: StompTestClient,
  type: string,
  after: number,
  subId = "n",
): Promise<Record<string, unknown>> {
  await c.until(() =>
    c
      .messages(subId)
      .slice(after)
      .some((n) => n.type === type),
  );
  return c.messages(subId).find((n, i) => i >= after && n.type === type)!;
}

describe("/user/queue/notifications: deleted and edited messages", () => {
  const env = useTestServer();

  test("another member's unread messages deleted: the count drops, a notification says so, HTTP agrees", async () => {
    const a = await signup(env.api, "del");
    const b = await signup(env.api, "del");
    const room = await createRoom(env.api, a, "Deletes", [b.user.id]);
    const first = await send(env.api, a, room.id, "before I connect");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    expect((await c.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");
    const second = await send(env.api, a, room.id, "two");
    await send(env.api, a, room.id, "three");
    await nextNotice(c, "message", 1);

    await remove(env.api, a, second);
    expect(await nextNotice(c, "message.deleted", 0)).toEqual({
      type: "message.deleted",
      roomId: room.id,
      messageSeq: 2,
      unreadCount: 2,
    });
    expect(await httpUnread(env.api, b, room.id)).toBe(2);

    // A message counted from the store at subscription, not from a live event.
    await remove(env.api, a, first);
    expect(await nextNotice(c, "message.deleted", 3)).toEqual({
      type: "message.deleted",
      roomId: room.id,
      messageSeq: 1,
      unreadCount: 1,
    });
    expect(await httpUnread(env.api, b, room.id)).toBe(1);
    expect(c.messages("n").map((n) => [n.type, n.unreadCount])).toEqual([
      ["message", 2],
      ["message", 3],
      ["message.deleted", 2],
      ["message.deleted", 1],
    ]);
    c.close();
  });

  test("deleting a message I already read changes nothing and sends nothing", async () => {
    const a = await signup(env.api, "delr");
    const b = await signup(env.api, "delr");
    const room = await createRoom(env.api, a, "ReadThenDeleted", [b.user.id]);
    const read = await send(env.api, a, room.id, "read");
    await send(env.api, a, room.id, "unread");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await c.subscribeWithReceipt(NOTIFY, "n");
    expectStatus(await env.api.post(`/rooms/${room.id}/read`, { seq: read.seq }, b.accessToken), 200);
    await nextNotice(c, "read", 0);
    await remove(env.api, a, read);
    // A later message through the same room proves the deletion has been seen by then.
    const probe = await send(env.api, a, room.id, "probe");
    await nextNotice(c, "message", 0);
    expect(c.messages("n")).toEqual([
      { type: "read", roomId: room.id, readSeq: 1, unreadCount: 1 },
      { type: "message", roomId: room.id, seq: probe.seq, senderId: a.user.id, unreadCount: 2 },
    ]);
    expect(await httpUnread(env.api, b, room.id)).toBe(2);
    c.close();
  });

  test("my own messages deleted, by me or by the room's owner, change nothing", async () => {
    const a = await signup(env.api, "delo");
    const b = await signup(env.api, "delo");
    const room = await createRoom(env.api, a, "OwnDeleted", [b.user.id]);
    await send(env.api, a, room.id, "theirs");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await c.subscribeWithReceipt(NOTIFY, "n");
    await remove(env.api, b, await send(env.api, b, room.id, "mine, deleted by me"));
    await remove(env.api, a, await send(env.api, b, room.id, "mine, deleted by the owner"));
    const probe = await send(env.api, a, room.id, "probe");
    await nextNotice(c, "message", 0);
    expect(c.messages("n")).toEqual([
      { type: "message", roomId: room.id, seq: probe.seq, senderId: a.user.id, unreadCount: 2 },
    ]);
    expect(await httpUnread(env.api, b, room.id)).toBe(2);
    c.close();
  });

  test("an edited message changes nothing", async () => {
    const a = await signup(env.api, "edit");
    const b = await signup(env.api, "edit");
    const room = await createRoom(env.api, a, "Edited", [b.user.id]);
    const m = await send(env.api, a, room.id, "typo");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await c.subscribeWithReceipt(NOTIFY, "n");
    expectStatus(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "fixed" }, a.accessToken),
      200,
    );
    const probe = await send(env.api, a, room.id, "probe");
    await nextNotice(c, "message", 0);
    expect(c.messages("n")).toEqual([
      { type: "message", roomId: room.id, seq: probe.seq, senderId: a.user.id, unreadCount: 2 },
    ]);
    expect(await httpUnread(env.api, b, room.id)).toBe(2);
    c.close();
  });

  test("a deletion, a read on another connection, then more deletions: the count follows HTTP throughout", async () => {
    const a = await signup(env.api, "delrd");
    const b = await signup(env.api, "delrd");
    const room = await createRoom(env.api, a, "DeleteThenRead", [b.user.id]);
    const m1 = await send(env.api, a, room.id, "one");
    const m2 = await send(env.api, a, room.id, "two");
    const m3 = await send(env.api, a, room.id, "three");
    const phone = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    const laptop = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await laptop.subscribeWithReceipt(NOTIFY, "n");

    await remove(env.api, a, m2);
    expect(await nextNotice(laptop, "message.deleted", 0)).toMatchObject({ messageSeq: 2, unreadCount: 2 });
    expect(await httpUnread(env.api, b, room.id)).toBe(2);

    const r = await phone.sendWithReceipt("/pub/read", { roomId: room.id, seq: 2 });
    expect([header(r, "read-seq"), header(r, "unread-count")]).toEqual(["2", "1"]);
    expect(await nextNotice(laptop, "read", 0)).toEqual({
      type: "read",
      roomId: room.id,
      readSeq: 2,
      unreadCount: 1,
    });

    await remove(env.api, a, m1);
    await remove(env.api, a, m3);
    expect(await nextNotice(laptop, "message.deleted", 2)).toEqual({
      type: "message.deleted",
      roomId: room.id,
      messageSeq: 3,
      unreadCount: 0,
    });
    expect(await httpUnread(env.api, b, room.id)).toBe(0);
    const probe = await send(env.api, a, room.id, "four");
    await nextNotice(laptop, "message", 0);
    expect(laptop.messages("n").map((n) => [n.type, n.unreadCount])).toEqual([
      ["message.deleted", 2],
      ["read", 1],
      ["message.deleted", 0],
      ["message", 1],
    ]);
    expect(laptop.messages("n").at(-1)).toMatchObject({ seq: probe.seq });
    expect(await httpUnread(env.api, b, room.id)).toBe(1);
    phone.close();
    laptop.close();
  });

  test("room frames of edits and deletions carry the message's own seq as messageSeq", async () => {
    const a = await signup(env.api, "mseq");
    const room = await createRoom(env.api, a, "MessageSeq");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s");
    const m = await send(env.api, a, room.id, "one");
    expectStatus(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "uno" }, a.accessToken),
      200,
    );
    await remove(env.api, a, m);
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "message.deleted");
    const events = c.messages("s").filter((e) => e.type !== "presence");
    expect(events.map((e) => [e.type, e.seq, e.messageSeq])).toEqual([
      ["message", 1, undefined],
      ["message.edited", 2, 1],
      ["message.deleted", 3, 1],
    ]);
    c.close();
  });
});

const twoServers = (await postgresAvailable()) && (await redisAvailable());

/**
 * Each process holding one of the user's notification subscriptions follows the rooms through its own hub and
 * applies the deletion itself, from the one room event every process already receives.
 */
describe.skipIf(!twoServers)("deleted messages across two servers (Redis and PostgreSQL)", () => {
  const pair = useServerPair();
  let api1: Client;
  let api2: Client;

  beforeAll(() => {
    api1 = client(pair.one.api);
    api2 = client(pair.two.api);
  });

  test("a deletion through one server updates the counts of the user's connections on both", async () => {
    const a = await signup(api1, "xdel");
    const b = await signup(api1, "xdel");
    const room = await createRoom(api1, a, "CrossDelete", [b.user.id]);
    const m1 = await send(api1, a, room.id, "one");
    await send(api1, a, room.id, "two");
    const near = await StompTestClient.connect(pair.one.wsUrl, b.accessToken);
    const far = await StompTestClient.connect(pair.two.wsUrl, b.accessToken);
    await near.subscribeWithReceipt(NOTIFY, "n");
    await far.subscribeWithReceipt(NOTIFY, "n");
    await remove(api1, a, m1);
    const expected = { type: "message.deleted", roomId: room.id, messageSeq: 1, unreadCount: 1 };
    expect(await nextNotice(near, "message.deleted", 0)).toEqual(expected);
    expect(await nextNotice(far, "message.deleted", 0)).toEqual(expected);
    expect(await httpUnread(api2, b, room.id)).toBe(1);
    near.close();
    far.close();
  });
});
