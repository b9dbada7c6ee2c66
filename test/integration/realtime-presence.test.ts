import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { type Client, client, createRoom, expectError, expectStatus, signup, UNKNOWN_ID } from "./helpers.ts";

let server: TestServer;
let api: Client;

beforeAll(async () => {
  server = await startTestServer();
  api = client(server.api);
});
afterAll(() => server.stop());

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

async function online(token: string, roomId: string): Promise<string[]> {
  const res = await api.get(`/rooms/${roomId}/presence`, token);
  expectStatus(res, 200);
  return (res.body as { online: string[] }).online;
}

describe("presence", () => {
  test("online while subscribed to the room; presence events on the first subscription and the last one ending", async () => {
    const a = await signup(api, "pr");
    const b = await signup(api, "pr");
    const room = await createRoom(api, a, "Presence", [b.user.id]);
    expect(await online(a.accessToken, room.id)).toEqual([]);
    const ca = await StompTestClient.connect(server.wsUrl, a.accessToken);
    await ca.subscribeWithReceipt(roomDest(room.id), "s");
    const cb = await StompTestClient.connect(server.wsUrl, b.accessToken);
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    // A second subscription of the same user changes nothing.
    await cb.subscribeWithReceipt(roomDest(room.id), "s2");
    await ca.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).userId === b.user.id);
    expect((await online(a.accessToken, room.id)).sort()).toEqual([a.user.id, b.user.id].sort());

    cb.send("UNSUBSCRIBE", [["id", "s"]]);
    await cb.subscribeWithReceipt("/user/queue/notifications", "n");
    expect((await online(a.accessToken, room.id)).sort()).toEqual([a.user.id, b.user.id].sort());
    cb.close();
    await ca.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).status === "offline");
    expect(await online(b.accessToken, room.id)).toEqual([a.user.id]);
    const aboutB = ca.messages("s").filter((e) => e.type === "presence" && e.userId === b.user.id);
    expect(aboutB).toEqual([
      { type: "presence", roomId: room.id, userId: b.user.id, status: "online" },
      { type: "presence", roomId: room.id, userId: b.user.id, status: "offline" },
    ]);
    const frame = ca.framesOf("s").find((f) => bodyJson(f).type === "presence")!;
    expect(header(frame, "seq")).toBeUndefined();
    ca.close();
  });

  test("GET /rooms/{roomId}/presence is for members only", async () => {
    const a = await signup(api, "prm");
    const stranger = await signup(api, "prm");
    const room = await createRoom(api, a, "Members");
    expectError(await api.get(`/rooms/${room.id}/presence`, stranger.accessToken), "ROOM_NOT_FOUND");
    expectError(await api.get(`/rooms/${UNKNOWN_ID}/presence`, a.accessToken), "ROOM_NOT_FOUND");
    expectError(await api.get("/rooms/nope/presence", a.accessToken), "INVALID_ID");
    expectError(await api.get(`/rooms/${room.id}/presence`), "UNAUTHENTICATED");
  });
});

describe("typing", () => {
  test("an ephemeral typing event reaches the room without seq; repeats within the throttle are dropped", async () => {
    const a = await signup(api, "ty");
    const b = await signup(api, "ty");
    const room = await createRoom(api, a, "Typing", [b.user.id]);
    const ca = await StompTestClient.connect(server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(server.wsUrl, b.accessToken);
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
    const a = await signup(api, "tyx");
    const stranger = await signup(api, "tyx");
    const room = await createRoom(api, a, "Closed");
    const c = await StompTestClient.connect(server.wsUrl, stranger.accessToken);
    expect(header(await c.sendWithReceipt("/pub/typing", { roomId: room.id }), "code")).toBe(
      "ROOM_NOT_FOUND",
    );
    c.close();
  });
});
