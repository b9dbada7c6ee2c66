/**
 * Presence in a room too large for presence events (PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS, here 3): users coming
 * online or going offline while the room has more local subscriptions than that are not announced, while the REST
 * list and count stay exact; back at or under the limit, changes are announced again.
 */
import { expect, test } from "bun:test";
import { StompTestClient } from "../support/stomp-client.ts";
import { createRoom, expectStatus, signup, useTestServer } from "./helpers.ts";

const env = useTestServer({ config: { presenceEventsMaxSubscribers: 3 } });

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

async function online(token: string, roomId: string): Promise<string[]> {
  const res = await env.api.get(`/rooms/${roomId}/presence`, token);
  expectStatus(res, 200);
  return (res.body as { online: string[] }).online;
}

async function count(token: string, roomId: string): Promise<number> {
  const res = await env.api.get(`/rooms/${roomId}/presence/count`, token);
  expectStatus(res, 200);
  return (res.body as { count: number }).count;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached within 5 s");
    await Bun.sleep(20);
  }
}

test("a room over the limit announces no one coming or going; the REST list and count stay exact", async () => {
  const owner = await signup(env.api, "plr");
  const [u1, u2, u3, u4] = await Promise.all([1, 2, 3, 4].map(() => signup(env.api, "plr")));
  const room = await createRoom(
    env.api,
    owner,
    "Large",
    [u1!, u2!, u3!, u4!].map((u) => u.user.id),
  );
  const token = owner.accessToken;
  const watcher = await StompTestClient.connect(env.server.wsUrl, token);
  await watcher.subscribeWithReceipt(roomDest(room.id), "s");
  const listed = (status: "online" | "offline") =>
    watcher
      .messages("s")
      .filter((e) => e.type === "presence")
      .flatMap((e) => e[status] as string[]);
  const connect = async (u: typeof owner) => {
    const c = await StompTestClient.connect(env.server.wsUrl, u.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s");
    return c;
  };

  // Three subscriptions: within the limit, both arrivals are announced.
  const c1 = await connect(u1!);
  const c2 = await connect(u2!);
  await until(async () => listed("online").includes(u1!.user.id) && listed("online").includes(u2!.user.id));

  // Four and five: over it. They are online (REST) but not announced.
  const c3 = await connect(u3!);
  const c4 = await connect(u4!);
  await until(async () => (await online(token, room.id)).length === 5);
  expect(await count(token, room.id)).toBe(5);

  // Back to four as u1 leaves: still over, not announced either.
  c1.close();
  await until(async () => !(await online(token, room.id)).includes(u1!.user.id));

  // Back to three as u4 leaves: within the limit again, so its leaving is announced. The event comes after any
  // that an arrival of u3 or u4, or u1's leaving, would have caused.
  c4.close();
  await until(async () => listed("offline").includes(u4!.user.id));
  expect(listed("online")).not.toContain(u3!.user.id);
  expect(listed("offline")).not.toContain(u1!.user.id);
  expect((await online(token, room.id)).sort()).toEqual([owner.user.id, u2!.user.id, u3!.user.id].sort());
  expect(await count(token, room.id)).toBe(3);
  for (const c of [watcher, c2, c3]) c.close();
});
