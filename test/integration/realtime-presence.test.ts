import { describe, expect, test } from "bun:test";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, expectError, expectStatus, signup, UNKNOWN_ID, useTestServer } from "./helpers.ts";

const env = useTestServer();

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

async function online(token: string, roomId: string): Promise<string[]> {
  const res = await env.api.get(`/rooms/${roomId}/presence`, token);
  expectStatus(res, 200);
  return (res.body as { online: string[] }).online;
}

describe("presence", () => {
  test("online while subscribed to the room; coalesced presence events on the first subscription and the last one ending", async () => {
    const a = await signup(env.api, "pr");
    const b = await signup(env.api, "pr");
    const room = await createRoom(env.api, a, "Presence", [b.user.id]);
    expect(await online(a.accessToken, room.id)).toEqual([]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    await ca.subscribeWithReceipt(roomDest(room.id), "s");
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    // A second subscription of the same user changes nothing.
    await cb.subscribeWithReceipt(roomDest(room.id), "s2");
    const listed = (status: "online" | "offline") => (f: { command: string }) =>
      f.command === "MESSAGE" &&
      ((bodyJson(f as never)[status] as string[] | undefined) ?? []).includes(b.user.id);
    await ca.waitFor(listed("online"));
    expect((await online(a.accessToken, room.id)).sort()).toEqual([a.user.id, b.user.id].sort());
    const counted = await env.api.get(`/rooms/${room.id}/presence/count`, a.accessToken);
    expectStatus(counted, 200);
    expect(counted.body).toEqual({ count: 2 });

    cb.send("UNSUBSCRIBE", [["id", "s"]]);
    await cb.subscribeWithReceipt("/user/queue/notifications", "n");
    expect((await online(a.accessToken, room.id)).sort()).toEqual([a.user.id, b.user.id].sort());
    cb.close();
    await ca.waitFor(listed("offline"));
    expect(await online(b.accessToken, room.id)).toEqual([a.user.id]);
    const aboutB = ca
      .messages("s")
      .filter((e) => e.type === "presence")
      .map(
        (e): Record<string, unknown> => ({
          ...e,
          online: (e.online as string[]).filter((id) => id === b.user.id),
          offline: (e.offline as string[]).filter((id) => id === b.user.id),
        }),
      )
      .filter((e) => (e.online as string[]).length + (e.offline as string[]).length > 0);
    // B's two subscriptions count once: exactly one "online" and, after the last one ends, one "offline".
    expect(aboutB).toEqual([
      { type: "presence", roomId: room.id, online: [b.user.id], offline: [], truncated: false },
      { type: "presence", roomId: room.id, online: [], offline: [b.user.id], truncated: false },
    ]);
    const frame = ca.framesOf("s").find((f) => bodyJson(f).type === "presence")!;
    expect(header(frame, "seq")).toBeUndefined();
    ca.close();
  });

  test("GET /rooms/{roomId}/presence and its count are for members only", async () => {
    const a = await signup(env.api, "prm");
    const stranger = await signup(env.api, "prm");
    const room = await createRoom(env.api, a, "Members");
    expectError(await env.api.get(`/rooms/${room.id}/presence`, stranger.accessToken), "ROOM_NOT_FOUND");
    expectError(await env.api.get(`/rooms/${UNKNOWN_ID}/presence`, a.accessToken), "ROOM_NOT_FOUND");
    expectError(await env.api.get("/rooms/nope/presence", a.accessToken), "INVALID_ID");
    expectError(await env.api.get(`/rooms/${room.id}/presence`), "UNAUTHENTICATED");
    // The count answers the same way.
    expectError(
      await env.api.get(`/rooms/${room.id}/presence/count`, stranger.accessToken),
      "ROOM_NOT_FOUND",
    );
    expectError(await env.api.get(`/rooms/${UNKNOWN_ID}/presence/count`, a.accessToken), "ROOM_NOT_FOUND");
    expectError(await env.api.get("/rooms/nope/presence/count", a.accessToken), "INVALID_ID");
    expectError(await env.api.get(`/rooms/${room.id}/presence/count`), "UNAUTHENTICATED");
  });
});

describe("presence pages", () => {
  test("GET /rooms/{roomId}/presence reads the online users a page at a time, in id order", async () => {
    const users = [await signup(env.api, "prp"), await signup(env.api, "prp"), await signup(env.api, "prp")];
    const [a, b, c] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0]];
    const room = await createRoom(env.api, a, "Pages", [b.user.id, c.user.id]);
    const clients = await Promise.all(
      users.map((u) => StompTestClient.connect(env.server.wsUrl, u.accessToken)),
    );
    for (const client of clients) await client.subscribeWithReceipt(roomDest(room.id), "s");
    const ids = users.map((u) => u.user.id).sort();

    const first = await env.api.get(`/rooms/${room.id}/presence?limit=2`, b.accessToken);
    expectStatus(first, 200);
    expect(first.body).toEqual({ online: ids.slice(0, 2), nextAfter: ids[1] });
    const second = await env.api.get(`/rooms/${room.id}/presence?limit=2&after=${ids[1]}`, b.accessToken);
    expectStatus(second, 200);
    expect(second.body).toEqual({ online: ids.slice(2), nextAfter: null });
    // Without a page size: the first PAGE_DEFAULT (20), here everyone, and nothing after them.
    const all = await env.api.get(`/rooms/${room.id}/presence`, b.accessToken);
    expect(all.body).toEqual({ online: ids, nextAfter: null });
    // A full last page points past itself; the page after it is empty.
    const exact = await env.api.get(`/rooms/${room.id}/presence?limit=3`, b.accessToken);
    expect(exact.body).toEqual({ online: ids, nextAfter: ids[2] });
    const after = await env.api.get(`/rooms/${room.id}/presence?after=${ids[2]}`, b.accessToken);
    expect(after.body).toEqual({ online: [], nextAfter: null });

    clients[0]?.close();
    await waitUntil(async () => !(await online(b.accessToken, room.id)).includes(users[0]?.user.id ?? ""));
    expect(await online(b.accessToken, room.id)).toEqual(ids.filter((id) => id !== a.user.id));
    for (const client of clients.slice(1)) client.close();
  });

  test("a bad page size is VALIDATION_FAILED and a bad cursor INVALID_CURSOR", async () => {
    const a = await signup(env.api, "prq");
    const room = await createRoom(env.api, a, "Bad pages");
    for (const limit of ["0", "101", "-1", "1.5", "abc", ""])
      expectError(
        await env.api.get(`/rooms/${room.id}/presence?limit=${limit}`, a.accessToken),
        "VALIDATION_FAILED",
      );
    for (const after of ["nope", "%27%20OR%201%3D1", "(", "-"])
      expectError(
        await env.api.get(`/rooms/${room.id}/presence?after=${after}`, a.accessToken),
        "INVALID_CURSOR",
      );
    expectError(await env.api.get(`/rooms/${room.id}/presence?limit=101`), "UNAUTHENTICATED");
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

describe("typing", () => {
  test("an ephemeral typing event reaches the room without seq; repeats within the throttle are dropped", async () => {
    const a = await signup(env.api, "ty");
    const b = await signup(env.api, "ty");
    const room = await createRoom(env.api, a, "Typing", [b.user.id]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    expect((await ca.sendWithReceipt("/pub/typing", { roomId: room.id })).command).toBe("RECEIPT");
    expect((await ca.sendWithReceipt("/pub/typing", { roomId: room.id })).command).toBe("RECEIPT");
    const f = await cb.waitFor((x) => x.command === "MESSAGE" && bodyJson(x).type === "typing");
    expect(bodyJson(f)).toEqual({ type: "typing", roomId: room.id, userId: a.user.id, expiresInMs: 5000 });
    expect(header(f, "seq")).toBeUndefined();
    // A stored message after both typing frames proves the second one would have arrived by now.
    await ca.sendWithReceipt("/pub/message", { roomId: room.id, message: "done typing" });
    await cb.waitFor((x) => x.command === "MESSAGE" && bodyJson(x).type === "message");
    expect(cb.messages("s").filter((e) => e.type === "typing")).toHaveLength(1);
    // Nothing was stored for typing.
    expect(
      cb
        .messages("s")
        .filter((e) => e.type === "message")
        .map((e) => e.seq),
    ).toEqual([1]);
    ca.close();
    cb.close();
  });

  test("typing in a room one is not in is ROOM_NOT_FOUND", async () => {
    const a = await signup(env.api, "tyx");
    const stranger = await signup(env.api, "tyx");
    const room = await createRoom(env.api, a, "Closed");
    const c = await StompTestClient.connect(env.server.wsUrl, stranger.accessToken);
    expect(header(await c.sendWithReceipt("/pub/typing", { roomId: room.id }), "code")).toBe(
      "ROOM_NOT_FOUND",
    );
    c.close();
  });
});

describe("presence at scale", () => {
  test("a mass connect is announced in a few coalesced events, not one per user", async () => {
    const owner = await signup(env.api, "pm");
    const others = await Promise.all(Array.from({ length: 12 }, () => signup(env.api, "pm")));
    const room = await createRoom(
      env.api,
      owner,
      "Mass",
      others.map((o) => o.user.id),
    );
    const watcher = await StompTestClient.connect(env.server.wsUrl, owner.accessToken);
    await watcher.subscribeWithReceipt(roomDest(room.id), "s");
    const clients = await Promise.all(
      others.map((o) => StompTestClient.connect(env.server.wsUrl, o.accessToken)),
    );
    await Promise.all(clients.map((c) => c.subscribeWithReceipt(roomDest(room.id), "s")));
    const everyone = others.map((o) => o.user.id).sort();
    const seen = () =>
      watcher
        .messages("s")
        .filter((e) => e.type === "presence")
        .flatMap((e) => e.online as string[])
        .filter((id) => id !== owner.user.id);
    const deadline = Date.now() + 5000;
    while (seen().length < everyone.length && Date.now() < deadline) await Bun.sleep(50);
    expect([...new Set(seen())].sort()).toEqual(everyone);
    expect(seen()).toHaveLength(everyone.length);
    // 12 users who subscribed within one window: far fewer events than users.
    const events = watcher.messages("s").filter((e) => e.type === "presence").length;
    expect(events).toBeLessThanOrEqual(3);
    for (const c of clients) c.close();
    watcher.close();
  });
});
