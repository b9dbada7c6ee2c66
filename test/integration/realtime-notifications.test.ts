import { describe, expect, test } from "bun:test";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { createAdmin, createRoom, expectStatus, login, send, signup, useTestServer } from "./helpers.ts";

const env = useTestServer();

const NOTIFY = "/user/queue/notifications";
const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;
const notices = (c: StompTestClient, subId = "n") => c.messages(subId);

/** Two users in a new room, where `a` has sent "one" and "two": `b` has two unread. */
async function twoUnread(prefix: string, roomName: string) {
  const a = await signup(env.api, prefix);
  const b = await signup(env.api, prefix);
  const room = await createRoom(env.api, a, roomName, [b.user.id]);
  await send(env.api, a, room.id, "one");
  await send(env.api, a, room.id, "two");
  return { a, b, room };
}

describe("/user/queue/notifications", () => {
  test("messages from others in any of my rooms, with unread counts starting from the store", async () => {
    const a = await signup(env.api, "nt");
    const b = await signup(env.api, "nt");
    const room = await createRoom(env.api, a, "Notify", [b.user.id]);
    const other = await createRoom(env.api, a, "Other", [b.user.id]);
    await send(env.api, a, room.id, "before 1");
    await send(env.api, a, room.id, "before 2");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    expect((await c.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");

    await send(env.api, a, room.id, "new");
    await send(env.api, b, room.id, "my own");
    await send(env.api, a, other.id, "elsewhere");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).roomId === other.id);
    expect(notices(c)).toEqual([
      { type: "message", roomId: room.id, seq: 3, senderId: a.user.id, unreadCount: 3 },
      { type: "message", roomId: other.id, seq: 1, senderId: a.user.id, unreadCount: 1 },
    ]);
    const frame = c.framesOf("n")[0]!;
    expect([header(frame, "destination"), header(frame, "content-type")]).toEqual([
      NOTIFY,
      "application/json",
    ]);
    c.close();
  });

  test("one message reaches each member on this process with that member's own count, as exact JSON", async () => {
    const a = await signup(env.api, "nm");
    const b = await signup(env.api, "nm");
    const d = await signup(env.api, "nm");
    const room = await createRoom(env.api, a, "Each", [b.user.id, d.user.id]);
    await send(env.api, a, room.id, "one");
    await send(env.api, a, room.id, "two");
    // b has read both, d neither: the same event moves their counts to 1 and 3.
    expectStatus(await env.api.post(`/rooms/${room.id}/read`, { seq: 2 }, b.accessToken), 200);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    const cd = await StompTestClient.connect(env.server.wsUrl, d.accessToken);
    await cb.subscribeWithReceipt(NOTIFY, "n");
    await cd.subscribeWithReceipt(NOTIFY, "x:y");
    await send(env.api, a, room.id, "three");
    await send(env.api, a, room.id, "four");
    for (const c of [cb, cd]) await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).seq === 4);
    const text = (c: StompTestClient, subId: string) =>
      c.framesOf(subId).map((f) => new TextDecoder().decode(f.body));
    const body = (seq: number, unread: number) =>
      `{"type":"message","roomId":"${room.id}","seq":${seq},"senderId":"${a.user.id}","unreadCount":${unread}}`;
    expect(text(cb, "n")).toEqual([body(3, 1), body(4, 2)]);
    expect(text(cd, "x:y")).toEqual([body(3, 3), body(4, 4)]);
    // The two frames of one event are stamped with distinct message-ids.
    expect(header(cb.framesOf("n")[0]!, "message-id")).not.toBe(header(cd.framesOf("x:y")[0]!, "message-id"));
    cb.close();
    cd.close();
  });

  test("a room created with me in it, and a new DM, are announced and then counted", async () => {
    const a = await signup(env.api, "cr");
    const b = await signup(env.api, "cr");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    expect((await c.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");
    const room = await createRoom(env.api, a, "Created", [b.user.id]);
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).roomId === room.id);
    const dm = await env.api.post("/dms", { userId: b.user.id }, a.accessToken);
    expectStatus(dm, 201);
    const dmId = (dm.body as { room: { id: string } }).room.id;
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).roomId === dmId);
    // Badges for the new rooms work without reconnecting.
    await send(env.api, a, room.id, "hello");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "message");
    expect(notices(c)).toEqual([
      { type: "member.joined", roomId: room.id, userId: b.user.id },
      { type: "member.joined", roomId: dmId, userId: b.user.id },
      { type: "message", roomId: room.id, seq: 1, senderId: a.user.id, unreadCount: 1 },
    ]);
    c.close();
  });

  test("reading over HTTP notifies my open connections", async () => {
    const { b, room } = await twoUnread("hr", "HttpRead");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await c.subscribeWithReceipt(NOTIFY, "n");
    expectStatus(await env.api.post(`/rooms/${room.id}/read`, { seq: 2 }, b.accessToken), 200);
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "read");
    expect(notices(c)).toEqual([{ type: "read", roomId: room.id, readSeq: 2, unreadCount: 0 }]);
    c.close();
  });

  test("reading on one connection notifies my other connections, not the one that read", async () => {
    const { a, b, room } = await twoUnread("rd", "Read");
    const phone = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    const laptop = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await phone.subscribeWithReceipt(NOTIFY, "n");
    await laptop.subscribeWithReceipt(NOTIFY, "n");
    const r = await phone.sendWithReceipt("/pub/read", { roomId: room.id, seq: 1 });
    expect([r.command, header(r, "read-seq"), header(r, "unread-count")]).toEqual(["RECEIPT", "1", "1"]);
    await laptop.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "read");
    expect(notices(laptop)).toEqual([{ type: "read", roomId: room.id, readSeq: 1, unreadCount: 1 }]);
    // The in-memory count follows the read: the next message makes it 2, not 3.
    await send(env.api, a, room.id, "three");
    await phone.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "message");
    expect(notices(phone)).toEqual([
      { type: "message", roomId: room.id, seq: 3, senderId: a.user.id, unreadCount: 2 },
    ]);
    phone.close();
    laptop.close();
  });

  test("being added to and removed from a room; the new room is followed at once", async () => {
    const a = await signup(env.api, "mem");
    const b = await signup(env.api, "mem");
    const room = await createRoom(env.api, a, "Later");
    const probe = await createRoom(env.api, a, "Probe", [b.user.id]);
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await c.subscribeWithReceipt(NOTIFY, "n");
    expectStatus(await env.api.post(`/rooms/${room.id}/members`, { userId: b.user.id }, a.accessToken), 201);
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "member.joined");
    await send(env.api, a, room.id, "welcome");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "message");
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${b.user.id}`, a.accessToken), 204);
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "member.left");
    await send(env.api, a, room.id, "after you left");
    await send(env.api, a, room.id, "still after");
    await send(env.api, a, probe.id, "probe");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).roomId === probe.id);
    expect(notices(c)).toEqual([
      { type: "member.joined", roomId: room.id, userId: b.user.id },
      { type: "message", roomId: room.id, seq: 2, senderId: a.user.id, unreadCount: 1 },
      { type: "member.left", roomId: room.id, userId: b.user.id },
      { type: "message", roomId: probe.id, seq: 1, senderId: a.user.id, unreadCount: 1 },
    ]);
    c.close();
  });
});

describe("removal from a room", () => {
  test("ends the removed member's live subscription right after member.left is delivered", async () => {
    const a = await signup(env.api, "kick");
    const b = await signup(env.api, "kick");
    const room = await createRoom(env.api, a, "Kick", [b.user.id]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await ca.subscribeWithReceipt(roomDest(room.id), "s");
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${b.user.id}`, a.accessToken), 204);
    await send(env.api, a, room.id, "not for you");
    await ca.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "not for you");
    await cb.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "member.left");
    // One more event through the same process proves the earlier one had been delivered everywhere.
    await send(env.api, a, room.id, "later");
    await ca.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "later");
    const seen = cb.messages("s").filter((e) => e.type !== "presence");
    expect(seen.map((e) => e.type)).toEqual(["member.left"]);
    expect(seen[0]).toMatchObject({ userId: b.user.id });
    // Re-subscribing is refused: B is no longer a member.
    const again = await cb.subscribeWithReceipt(roomDest(room.id), "s2");
    expect(header(again, "code")).toBe("ROOM_NOT_FOUND");
    ca.close();
    cb.close();
  });
});

describe("revocation closes sockets", () => {
  test("logout: that session's sockets get session.revoked, then ERROR SESSION_REVOKED, within a second", async () => {
    const a = await signup(env.api, "out");
    const other = await login(env.api, a.user.username, a.password);
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const keep = await StompTestClient.connect(env.server.wsUrl, other.accessToken);
    await c.subscribeWithReceipt(NOTIFY, "n");
    const started = Date.now();
    expectStatus(await env.api.post("/auth/logout", {}, a.accessToken), 204);
    const error = await c.waitFor((f) => f.command === "ERROR", 1000);
    expect(header(error, "code")).toBe("SESSION_REVOKED");
    await c.closed;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(notices(c)).toEqual([{ type: "session.revoked" }]);
    const noticeIndex = c.frames.findIndex((f) => f.command === "MESSAGE");
    expect(noticeIndex).toBeLessThan(c.frames.indexOf(error));
    // The other session's socket is untouched.
    expect((await keep.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");
    keep.close();
  });

  test("a password change closes the other sessions' sockets and keeps this one", async () => {
    const a = await signup(env.api, "pwd");
    const other = await login(env.api, a.user.username, a.password);
    const mine = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const theirs = await StompTestClient.connect(env.server.wsUrl, other.accessToken);
    expectStatus(
      await env.api.post(
        "/auth/password",
        { currentPassword: a.password, newPassword: `new-${a.password}` },
        a.accessToken,
      ),
      204,
    );
    const error = await theirs.waitFor((f) => f.command === "ERROR", 1000);
    expect(header(error, "code")).toBe("SESSION_REVOKED");
    expect((await mine.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");
    expect(mine.closeInfo).toBeNull();
    mine.close();
  });

  test("deactivation by an administrator closes all the user's sockets", async () => {
    const admin = await createAdmin(env.server, env.api);
    const u = await signup(env.api, "deact");
    const second = await login(env.api, u.user.username, u.password);
    const one = await StompTestClient.connect(env.server.wsUrl, u.accessToken);
    const two = await StompTestClient.connect(env.server.wsUrl, second.accessToken);
    expectStatus(
      await env.api.patch(`/admin/users/${u.user.id}`, { status: "deactivated" }, admin.accessToken),
      200,
    );
    for (const c of [one, two]) {
      expect(header(await c.waitFor((f) => f.command === "ERROR", 1000), "code")).toBe("SESSION_REVOKED");
      await c.closed;
    }
  });
});
