/**
 * Typing in a room too large for typing events (PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS, here 2): while the room has
 * more local subscriptions than that, a member's typing reaches no one, and is still accepted (RECEIPT) as any
 * typing is; at or under the limit it is delivered again. Messages are delivered whatever the size.
 */
import { expect, test } from "bun:test";
import { bodyJson, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, signup, useTestServer } from "./helpers.ts";

const env = useTestServer({ config: { typingEventsMaxSubscribers: 2 } });

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

test("a room over the limit gets no typing events; back within it, it does", async () => {
  const owner = await signup(env.api, "tlr");
  const others = await Promise.all([1, 2, 3, 4].map(() => signup(env.api, "tlr")));
  const [u1, u2, u3, u4] = others as [
    (typeof others)[0],
    (typeof others)[0],
    (typeof others)[0],
    (typeof others)[0],
  ];
  const room = await createRoom(
    env.api,
    owner,
    "Large",
    others.map((u) => u.user.id),
  );
  const watcher = await StompTestClient.connect(env.server.wsUrl, owner.accessToken);
  await watcher.subscribeWithReceipt(roomDest(room.id), "s");
  const typer = async (u: typeof owner) => StompTestClient.connect(env.server.wsUrl, u.accessToken);
  const typers = await Promise.all([u1, u2, u3, u4].map(typer));
  const [t1, t2, t3, t4] = typers as [StompTestClient, StompTestClient, StompTestClient, StompTestClient];
  const typed = () =>
    watcher
      .messages("s")
      .filter((e) => e.type === "typing")
      .map((e) => e.userId);
  // A stored message sent after a typing event by the same connection arrives after it (same room, one process).
  const typeThenSay = async (c: StompTestClient, text: string) => {
    expect((await c.sendWithReceipt("/pub/typing", { roomId: room.id })).command).toBe("RECEIPT");
    await c.sendWithReceipt("/pub/message", { roomId: room.id, message: text });
    await watcher.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === text);
  };

  // One subscription: within the limit.
  await typeThenSay(t1, "one");
  expect(typed()).toEqual([u1.user.id]);

  // Three: over it. Typing is accepted and reaches no one; the message does.
  await t2.subscribeWithReceipt(roomDest(room.id), "s");
  await t3.subscribeWithReceipt(roomDest(room.id), "s");
  await typeThenSay(t4, "three");
  expect(typed()).toEqual([u1.user.id]);
  expect(t2.messages("s").filter((e) => e.type === "typing")).toEqual([]);

  // Two again: delivered again.
  t3.send("UNSUBSCRIBE", [["id", "s"]]);
  // The receipt of a later frame of the same connection: the UNSUBSCRIBE has been handled.
  await t3.subscribeWithReceipt("/user/queue/notifications", "n");
  await typeThenSay(t2, "two");
  expect(typed()).toEqual([u1.user.id, u2.user.id]);
  for (const c of [watcher, ...typers]) c.close();
});
