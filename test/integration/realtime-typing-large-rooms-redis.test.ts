/**
 * The typing limit on two servers sharing PostgreSQL and Redis (PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS = 2): the
 * room is large on server one (three subscriptions) and small on server two (one). Typing from a connection
 * that follows the room on server one is dropped there, before the broker; typing from a member on server one who
 * does not follow it is published, dropped by server one's hub and delivered by server two's.
 */
import { describe, expect, test } from "bun:test";
import { useServerPair } from "../support/server.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";
import { bodyJson, StompTestClient } from "../support/stomp-client.ts";
import { client, createRoom, signup } from "./helpers.ts";

const available = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!available)("typing in a room large on one server and small on the other", () => {
  const pair = useServerPair({ typingEventsMaxSubscribers: 2 });
  const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

  test("dropped where the typer's server has the room large; delivered where it is small otherwise", async () => {
    const api = client(pair.one.api);
    const owner = await signup(api, "tlx");
    const users = await Promise.all([1, 2, 3, 4].map(() => signup(api, "tlx")));
    const [follower, other, third, remote] = users as [
      (typeof users)[0],
      (typeof users)[0],
      (typeof users)[0],
      (typeof users)[0],
    ];
    const room = await createRoom(
      api,
      owner,
      "Uneven",
      users.map((u) => u.user.id),
    );
    const onOne = await Promise.all(
      [follower, other, third].map((u) => StompTestClient.connect(pair.one.wsUrl, u.accessToken)),
    );
    for (const c of onOne) await c.subscribeWithReceipt(roomDest(room.id), "s");
    const [followerConn] = onOne as [StompTestClient];
    const watcher = await StompTestClient.connect(pair.two.wsUrl, remote.accessToken);
    await watcher.subscribeWithReceipt(roomDest(room.id), "s");
    const typedOnTwo = () =>
      watcher
        .messages("s")
        .filter((e) => e.type === "typing")
        .map((e) => e.userId);
    // A message after the typing, from the same connection, reaches server two after what the typing would have.
    const typeThenSay = async (c: StompTestClient, text: string) => {
      expect((await c.sendWithReceipt("/pub/typing", { roomId: room.id })).command).toBe("RECEIPT");
      await c.sendWithReceipt("/pub/message", { roomId: room.id, message: text });
      await watcher.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === text);
    };

    await typeThenSay(followerConn, "from a follower");
    expect(typedOnTwo()).toEqual([]);

    const notFollowing = await StompTestClient.connect(pair.one.wsUrl, owner.accessToken);
    await typeThenSay(notFollowing, "from a member not following");
    expect(typedOnTwo()).toEqual([owner.user.id]);
    // Server one's three subscribers got neither.
    for (const c of onOne) expect(c.messages("s").filter((e) => e.type === "typing")).toEqual([]);

    // An outsider is told the room does not exist, however large it is.
    const outsider = await signup(api, "tlx");
    const stranger = await StompTestClient.connect(pair.one.wsUrl, outsider.accessToken);
    const refused = await stranger.sendWithReceipt("/pub/typing", { roomId: room.id });
    expect(bodyJson(refused)).toMatchObject({ code: "ROOM_NOT_FOUND" });
    for (const c of [...onOne, watcher, notFollowing, stranger]) c.close();
  });
});
