/**
 * A user's notification state outlives their connection for a while (notifications.ts, NOTIFICATIONS_LINGER_MS):
 * a client that comes back within it takes the state over without reading the store, and its counts include what
 * happened while it was away — messages through the room hubs, reads through the user's channel, which the state
 * holds on its own once the last connection has gone.
 */
import { describe, expect, test } from "bun:test";
import type { RoomRepository } from "../../src/ports/store.ts";
import { type TestServer, useServerPair } from "../support/server.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";
import { StompTestClient } from "../support/stomp-client.ts";
import { type Client, client, createRoom, expectStatus, send, signup, useTestServer } from "./helpers.ts";

const NOTIFY = "/user/queue/notifications";

/** Counts the set-up reads of notification subscriptions (`readStatesOf` serves nothing else). */
function countSetUps(rooms: RoomRepository): () => number {
  const readStatesOf = rooms.readStatesOf.bind(rooms);
  let calls = 0;
  rooms.readStatesOf = (userId) => {
    calls++;
    return readStatesOf(userId);
  };
  return () => calls;
}

async function unreadIn(api: Client, token: string, roomId: string): Promise<number | undefined> {
  const rooms = await api.get("/rooms", token);
  expectStatus(rooms, 200);
  return (rooms.body as { rooms: Array<{ room: { id: string }; unreadCount: number }> }).rooms.find(
    (s) => s.room.id === roomId,
  )?.unreadCount;
}

/**
 * B subscribes on `wsServer`, goes away; meanwhile A sends and B reads over HTTP on `apiServer`; B comes back
 * on `wsServer` within the period: no set-up read, and the next notification carries the count that includes
 * the gap's messages and read.
 */
async function awayAndBack(wsServer: TestServer, apiServer: TestServer): Promise<void> {
  const api = client(apiServer.api);
  const setUps = countSetUps(wsServer.services.deps.store.rooms);
  const a = await signup(api, "lg");
  const b = await signup(api, "lg");
  const room = await createRoom(api, a, "Linger", [b.user.id]);
  await send(api, a, room.id, "one");
  const first = await StompTestClient.connect(wsServer.wsUrl, b.accessToken);
  expect((await first.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");
  const two = await send(api, a, room.id, "two");
  await first.until(() => first.messages("n").some((n) => n.seq === two.seq));
  expect(first.messages("n").at(-1)).toMatchObject({ type: "message", unreadCount: 2 });
  const before = setUps();

  first.close();
  await first.closed;
  // The close handshake is done; a moment more for the server's close handler to have run, so that what
  // follows happens while B has no subscription left (the counts would be right either way).
  await Bun.sleep(50);
  await send(api, a, room.id, "three");
  await send(api, a, room.id, "four");
  const read = await api.post(`/rooms/${room.id}/read`, { seq: 3 }, b.accessToken);
  expectStatus(read, 200);
  expect(read.body).toEqual({ readSeq: 3, unreadCount: 1 });
  // Let the read notice cross the broker before B is back (it would be applied either way, but then through
  // the subscription rather than during the gap).
  await Bun.sleep(100);

  const back = await StompTestClient.connect(wsServer.wsUrl, b.accessToken);
  expect((await back.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");
  expect(setUps()).toBe(before);
  const five = await send(api, a, room.id, "five");
  await back.until(() => back.messages("n").some((n) => n.seq === five.seq));
  expect(back.messages("n")).toEqual([
    { type: "message", roomId: room.id, seq: five.seq, senderId: a.user.id, unreadCount: 2 },
  ]);
  expect(await unreadIn(api, b.accessToken, room.id)).toBe(2);
  back.close();
}

describe("/user/queue/notifications: a client back within the linger period", () => {
  const env = useTestServer();

  test("takes the state over without a store read; the count has the gap's messages and read", async () => {
    await awayAndBack(env.server, env.server);
  });
});

const available = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!available)("/user/queue/notifications: linger over Redis (two servers)", () => {
  const pair = useServerPair();

  test("a read made through the other server during the gap reaches the lingering state", async () => {
    await awayAndBack(pair.two, pair.one);
  });
});
