import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AccessTokens } from "../../src/services/access-tokens.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, expectStatus, history, send, signup, useTestServer } from "./helpers.ts";

const env = useTestServer({ config: { wsMaxFrameBytes: 8192 } });

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

/** Resolves with the ERROR frame's code once the server has sent ERROR and closed the socket. */
async function errorAndClose(c: StompTestClient): Promise<string | undefined> {
  const f = await c.waitFor((x) => x.command === "ERROR");
  await c.closed;
  return header(f, "code");
}

describe("CONNECT", () => {
  test("with an Authorization header: CONNECTED carries version, session, user-name and server", async () => {
    const a = await signup(env.api, "conn");
    const c = await StompTestClient.open(env.server.wsUrl);
    const f = await c.connect(a.accessToken, { acceptVersion: "1.0,1.1,1.2" });
    expect(header(f, "version")).toBe("1.2");
    expect(header(f, "user-name")).toBe(a.user.id);
    expect(header(f, "session")).toMatch(/^[0-9A-Z]{26}$/);
    expect(header(f, "server")).toMatch(/^Parley\/\d+\.\d+\.\d+/);
    expect(header(f, "heart-beat")).toBe(
      `${env.server.config.wsHeartbeatMs},${env.server.config.wsHeartbeatMs}`,
    );
    c.close();
  });

  test("with the token as passcode, and with the STOMP command; the highest common version is chosen", async () => {
    const a = await signup(env.api, "pass");
    const c = await StompTestClient.open(env.server.wsUrl);
    const f = await c.connect(a.accessToken, { via: "passcode", command: "STOMP", acceptVersion: "1.1,1.0" });
    expect(header(f, "version")).toBe("1.1");
    expect(header(f, "user-name")).toBe(a.user.id);
    c.close();
  });

  test("a frame before CONNECT is answered with ERROR NOT_CONNECTED and the socket closes", async () => {
    const c = await StompTestClient.open(env.server.wsUrl);
    c.subscribe("/user/queue/notifications", "n");
    expect(await errorAndClose(c)).toBe("NOT_CONNECTED");
  });

  test("no token, a garbage token, an expired token, a revoked session: ERROR with the auth code, then close", async () => {
    const a = await signup(env.api, "bad");
    const none = await StompTestClient.open(env.server.wsUrl);
    none.send("CONNECT", [["accept-version", "1.2"]]);
    expect(await errorAndClose(none)).toBe("UNAUTHENTICATED");

    const garbage = await StompTestClient.open(env.server.wsUrl);
    garbage.send("CONNECT", [
      ["accept-version", "1.2"],
      ["Authorization", "Bearer not.a.token"],
    ]);
    expect(await errorAndClose(garbage)).toBe("UNAUTHENTICATED");

    const tokens = new AccessTokens({
      secret: env.server.config.jwtSecret,
      issuer: "parley",
      audience: "parley",
      ttlSeconds: 60,
    });
    const expired = await tokens.sign({ userId: a.user.id, sessionId: a.sessionId }, Date.now() - 3_600_000);
    const old = await StompTestClient.open(env.server.wsUrl);
    old.send("CONNECT", [
      ["accept-version", "1.2"],
      ["passcode", expired],
    ]);
    expect(await errorAndClose(old)).toBe("UNAUTHENTICATED");

    expectStatus(await env.api.post("/auth/logout", {}, a.accessToken), 204);
    const revoked = await StompTestClient.open(env.server.wsUrl);
    revoked.send("CONNECT", [
      ["accept-version", "1.2"],
      ["Authorization", `Bearer ${a.accessToken}`],
    ]);
    expect(await errorAndClose(revoked)).toBe("SESSION_REVOKED");
  });

  test("an unsupported version is ERROR UNSUPPORTED_VERSION", async () => {
    const a = await signup(env.api, "ver");
    const c = await StompTestClient.open(env.server.wsUrl);
    await expect(c.connect(a.accessToken, { acceptVersion: "2.0" })).rejects.toThrow("UNSUPPORTED_VERSION");
    await c.closed;
  });

  test("subprotocols: the best one offered is chosen; none offered still connects", async () => {
    const a = await signup(env.api, "proto");
    const both = await StompTestClient.connect(env.server.wsUrl, a.accessToken, {
      protocols: ["v10.stomp", "v12.stomp"],
    });
    expect(both.protocol).toBe("v12.stomp");
    const v11 = await StompTestClient.connect(env.server.wsUrl, a.accessToken, { protocols: ["v11.stomp"] });
    expect(v11.protocol).toBe("v11.stomp");
    const none = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    expect(none.protocol).toBe("");
    for (const c of [both, v11, none]) c.close();
  });

  test("a second CONNECT on an open connection is a protocol error", async () => {
    const a = await signup(env.api, "twice");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    c.send("CONNECT", [
      ["accept-version", "1.2"],
      ["passcode", a.accessToken],
    ]);
    expect(await errorAndClose(c)).toBe("INVALID_OPERATION");
  });

  test("DISCONNECT with a receipt: RECEIPT, then the server closes", async () => {
    const a = await signup(env.api, "bye");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    c.send("DISCONNECT", [["receipt", "bye-1"]]);
    const r = await c.waitFor((f) => f.command === "RECEIPT");
    expect(header(r, "receipt-id")).toBe("bye-1");
    expect((await c.closed).code).toBe(1000);
  });
});

describe("framing limits and origin", () => {
  test("a frame over wsMaxFrameBytes: ERROR PAYLOAD_TOO_LARGE, then close", async () => {
    const a = await signup(env.api, "big");
    const room = await createRoom(env.api, a, "Big");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    c.send(
      "SEND",
      [["destination", "/pub/message"]],
      JSON.stringify({ roomId: room.id, message: "x".repeat(9000) }),
    );
    expect(await errorAndClose(c)).toBe("PAYLOAD_TOO_LARGE");
    expect((await history(env.api, a, room.id)).messages).toEqual([]);
  });

  test("bytes that are not STOMP: ERROR MALFORMED_FRAME, then close", async () => {
    const a = await signup(env.api, "junk");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    c.sendRaw("SEND\nno-colon-here\n\n\0");
    expect(await errorAndClose(c)).toBe("MALFORMED_FRAME");
  });

  test("SUBSCRIBE without an id is a protocol error", async () => {
    const a = await signup(env.api, "noid");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    c.send("SUBSCRIBE", [["destination", "/user/queue/notifications"]]);
    expect(await errorAndClose(c)).toBe("MALFORMED_FRAME");
  });

  test("a plain GET of /ws is refused with a JSON error", async () => {
    const res = await fetch(`${env.server.url}/ws`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
  });
});

describe("origin allow-list", () => {
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startTestServer({ config: { wsAllowedOrigins: ["https://chat.example"] } });
  });
  afterAll(() => guarded.stop());

  test("a listed Origin (or none) may open /ws; another gets 403 ORIGIN_NOT_ALLOWED", async () => {
    const res = await fetch(`${guarded.url}/ws`, {
      headers: { origin: "https://evil.example", upgrade: "websocket", connection: "Upgrade" },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ORIGIN_NOT_ALLOWED");
    await expect(StompTestClient.open(guarded.wsUrl, { origin: "https://evil.example" })).rejects.toThrow();
    const ok = await StompTestClient.open(guarded.wsUrl, { origin: "https://chat.example" });
    const native = await StompTestClient.open(guarded.wsUrl);
    ok.close();
    native.close();
  });
});

describe("SEND /pub/message", () => {
  test("RECEIPT carries message-id and seq, follows the commit and the fan-out to subscribers", async () => {
    const a = await signup(env.api, "snd", { displayName: "Ann Sender" });
    const b = await signup(env.api, "rcv");
    const room = await createRoom(env.api, a, "Send", [b.user.id]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    expect((await ca.subscribeWithReceipt(roomDest(room.id), "mine")).command).toBe("RECEIPT");
    expect((await cb.subscribeWithReceipt(roomDest(room.id), "sub-0")).command).toBe("RECEIPT");

    const receipt = await ca.sendWithReceipt("/pub/message", { roomId: room.id, message: "hello" }, [
      ["client-msg-id", "c-1"],
    ]);
    expect(receipt.command).toBe("RECEIPT");
    const id = header(receipt, "message-id");
    expect(header(receipt, "seq")).toBe("1");
    // On the sender's own socket, its copy of the event precedes the RECEIPT.
    const ownIndex = ca.frames.findIndex(
      (f) => f.command === "MESSAGE" && header(f, "subscription") === "mine",
    );
    expect(ownIndex).toBeGreaterThanOrEqual(0);
    expect(ownIndex).toBeLessThan(ca.frames.indexOf(receipt));
    // Committed before the receipt.
    const stored = (await history(env.api, a, room.id)).messages;
    expect(stored.map((m) => [m.id, m.seq, m.message])).toEqual([[id as string, 1, "hello"]]);

    const [event] = (await cb.waitForMessages("sub-0", 1)).filter((e) => e.type === "message");
    expect(event).toEqual({
      type: "message",
      id,
      seq: 1,
      roomId: room.id,
      senderId: a.user.id,
      sender: "Ann Sender",
      message: "hello",
      clientMsgId: "c-1",
      sendDate: stored[0]?.createdAt,
      editedAt: null,
      deletedAt: null,
    });
    const frame = cb.framesOf("sub-0").find((f) => bodyJson(f).type === "message")!;
    expect(header(frame, "destination")).toBe(roomDest(room.id));
    expect(header(frame, "content-type")).toBe("application/json");
    expect(header(frame, "seq")).toBe("1");
    expect(header(frame, "message-id")).toBeString();
    ca.close();
    cb.close();
  });

  test("a retried client-msg-id gets the original id and seq, and subscribers see it once", async () => {
    const a = await signup(env.api, "retry");
    const b = await signup(env.api, "retry");
    const room = await createRoom(env.api, a, "Retry", [b.user.id]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    const first = await ca.sendWithReceipt("/pub/message", { roomId: room.id, message: "once" }, [
      ["client-msg-id", "same"],
    ]);
    // The retry arrives on another connection, as after a reconnect.
    const ca2 = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const again = await ca2.sendWithReceipt("/pub/message", { roomId: room.id, message: "once" }, [
      ["client-msg-id", "same"],
    ]);
    expect([header(again, "message-id"), header(again, "seq")]).toEqual([
      header(first, "message-id"),
      header(first, "seq"),
    ]);
    await ca.sendWithReceipt("/pub/message", { roomId: room.id, message: "sentinel" });
    await cb.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "sentinel");
    const texts = cb
      .messages("s")
      .filter((e) => e.type === "message")
      .map((e) => e.message);
    expect(texts).toEqual(["once", "sentinel"]);
    expect((await history(env.api, a, room.id)).messages.map((m) => m.message)).toEqual(["once", "sentinel"]);
    for (const c of [ca, ca2, cb]) c.close();
  });

  test("sending to a room one is not in, bad bodies and unknown destinations answer on /user/queue/errors", async () => {
    const a = await signup(env.api, "rej");
    const stranger = await signup(env.api, "rej");
    const room = await createRoom(env.api, a, "Private");
    const c = await StompTestClient.connect(env.server.wsUrl, stranger.accessToken);
    const notMember = await c.sendWithReceipt("/pub/message", { roomId: room.id, message: "let me in" });
    expect(notMember.command).toBe("MESSAGE");
    expect(header(notMember, "destination")).toBe("/user/queue/errors");
    expect(header(notMember, "subscription")).toBe("errors");
    expect(header(notMember, "code")).toBe("ROOM_NOT_FOUND");
    expect(bodyJson(notMember)).toMatchObject({ code: "ROOM_NOT_FOUND", message: expect.any(String) });

    // Once subscribed to /user/queue/errors, the client's own subscription id is used.
    await c.subscribeWithReceipt("/user/queue/errors", "my-errors");
    const empty = await c.sendWithReceipt("/pub/message", { roomId: room.id, message: "   " });
    expect([header(empty, "subscription"), header(empty, "code")]).toEqual([
      "my-errors",
      "VALIDATION_FAILED",
    ]);
    const badJson = await c.sendWithReceipt("/pub/message", "not json");
    expect(header(badJson, "code")).toBe("VALIDATION_FAILED");
    c.send(
      "SEND",
      [
        ["destination", "/pub/message"],
        ["receipt", "raw"],
      ],
      "{oops",
    );
    const malformed = await c.waitFor((f) => header(f, "receipt-id") === "raw");
    expect(header(malformed, "code")).toBe("MALFORMED_JSON");
    const unknown = await c.sendWithReceipt("/pub/elsewhere", { roomId: room.id });
    expect(header(unknown, "code")).toBe("UNKNOWN_DESTINATION");
    const tooLong = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const long = await tooLong.sendWithReceipt("/pub/message", {
      roomId: room.id,
      message: "y".repeat(env.server.config.messageMaxLength + 1),
    });
    expect(header(long, "code")).toBe("MESSAGE_TOO_LONG");

    // The connection stayed open throughout.
    const ok = await tooLong.sendWithReceipt("/pub/message", { roomId: room.id, message: "fine" });
    expect(ok.command).toBe("RECEIPT");
    expect(c.closeInfo).toBeNull();
    c.close();
    tooLong.close();
  });
});

describe("SUBSCRIBE /sub/chat/room/{roomId}", () => {
  test("a room one is not in: ROOM_NOT_FOUND on /user/queue/errors with the receipt id; the connection stays open", async () => {
    const a = await signup(env.api, "sub");
    const stranger = await signup(env.api, "sub");
    const room = await createRoom(env.api, a, "Closed");
    const c = await StompTestClient.connect(env.server.wsUrl, stranger.accessToken);
    const f = await c.subscribeWithReceipt(roomDest(room.id), "x");
    expect([f.command, header(f, "code"), header(f, "destination")]).toEqual([
      "MESSAGE",
      "ROOM_NOT_FOUND",
      "/user/queue/errors",
    ]);
    const bad = await c.subscribeWithReceipt("/sub/chat/room/not-an-id", "y");
    expect(header(bad, "code")).toBe("ROOM_NOT_FOUND");
    const unknown = await c.subscribeWithReceipt("/topic/whatever", "z");
    expect(header(unknown, "code")).toBe("UNKNOWN_DESTINATION");
    // The failed subscription id is free again.
    const ok = await c.subscribeWithReceipt("/user/queue/notifications", "x");
    expect(ok.command).toBe("RECEIPT");
    const dup = await c.subscribeWithReceipt("/user/queue/notifications", "x");
    expect(header(dup, "code")).toBe("DUPLICATE_SUBSCRIPTION");
    // Nothing of the room leaks to the stranger.
    await send(env.api, a, room.id, "secret");
    expect(c.messages("x").filter((e) => e.type === "message")).toEqual([]);
    c.close();
  });

  test("HTTP sends, edits, deletes and membership changes reach STOMP subscribers in seq order", async () => {
    const a = await signup(env.api, "flow");
    const b = await signup(env.api, "flow");
    const room = await createRoom(env.api, a, "Flow");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s");
    const m = await send(env.api, a, room.id, "first");
    expectStatus(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "first!" }, a.accessToken),
      200,
    );
    expectStatus(await env.api.post(`/rooms/${room.id}/members`, { userId: b.user.id }, a.accessToken), 201);
    expectStatus(await env.api.del(`/rooms/${room.id}/messages/${m.id}`, a.accessToken), 204);
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${b.user.id}`, a.accessToken), 204);
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).type === "member.left");
    const stored = c.framesOf("s").filter((f) => header(f, "seq") !== undefined);
    expect(stored.map((f) => [Number(header(f, "seq")), bodyJson(f).type])).toEqual([
      [1, "message"],
      [2, "message.edited"],
      [3, "member.joined"],
      [4, "message.deleted"],
      [5, "member.left"],
    ]);
    const [, edited, joined, deleted] = stored.map(bodyJson);
    expect(edited).toMatchObject({
      id: m.id,
      message: "first!",
      editedAt: expect.any(String),
      deletedAt: null,
    });
    expect(joined).toMatchObject({ roomId: room.id, userId: b.user.id, role: "member", actorId: a.user.id });
    expect(deleted).toMatchObject({ id: m.id, message: null, deletedAt: expect.any(String) });
    c.close();
  });

  test("UNSUBSCRIBE stops delivery", async () => {
    const a = await signup(env.api, "unsub");
    const room = await createRoom(env.api, a, "Unsub");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s");
    await send(env.api, a, room.id, "one");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "one");
    c.send("UNSUBSCRIBE", [
      ["id", "s"],
      ["receipt", "u"],
    ]);
    await c.waitFor((f) => header(f, "receipt-id") === "u");
    await send(env.api, a, room.id, "two");
    // A second subscription proves the event was delivered by then; the first never saw it.
    await c.subscribeWithReceipt(roomDest(room.id), "t", [["since-seq", "1"]]);
    await c.waitFor((f) => header(f, "subscription") === "t" && bodyJson(f).message === "two");
    expect(
      c
        .messages("s")
        .filter((e) => e.type === "message")
        .map((e) => e.message),
    ).toEqual(["one"]);
    c.close();
  });
});

describe("AsyncAPI document", () => {
  test("GET /api/v1/asyncapi.yaml serves docs/asyncapi.yaml, an AsyncAPI 3 document of these destinations", async () => {
    const res = await fetch(`${env.server.api}/asyncapi.yaml`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/yaml");
    const text = await res.text();
    expect(text).toBe(await Bun.file(`${import.meta.dir}/../../docs/asyncapi.yaml`).text());
    const doc = Bun.YAML.parse(text) as { asyncapi: string; channels: Record<string, { address: string }> };
    expect(doc.asyncapi).toStartWith("3.");
    expect(
      Object.values(doc.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(
      [
        "/pub/message",
        "/pub/read",
        "/pub/typing",
        "/sub/chat/room/{roomId}",
        "/user/queue/errors",
        "/user/queue/notifications",
      ].sort(),
    );
  });
});
