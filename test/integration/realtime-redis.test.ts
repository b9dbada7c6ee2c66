import { beforeAll, describe, expect, test } from "bun:test";
import { useServerPair } from "../support/server.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import {
  type Client,
  client,
  createRoom,
  expectStatus,
  history,
  send,
  signup,
  type WireRoom,
} from "./helpers.ts";

const available = (await postgresAvailable()) && (await redisAvailable());

/**
 * Two server processes' worth of gateway in one test process: each has its own Bun server, hubs and Redis
 * connections, and they share only PostgreSQL and Redis, as separate processes would.
 */
describe.skipIf(!available)("real-time over Redis and PostgreSQL (two servers)", () => {
  const pair = useServerPair();
  let api1: Client;
  let api2: Client;

  beforeAll(() => {
    api1 = client(pair.one.api);
    api2 = client(pair.two.api);
  });

  const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

  test("a message sent on one server reaches subscribers on the other; the receipt follows the commit", async () => {
    const a = await signup(api1, "rx");
    const b = await signup(api1, "rx");
    const room = await createRoom(api1, a, "Cross", [b.user.id]);
    const ca = await StompTestClient.connect(pair.one.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(pair.two.wsUrl, b.accessToken);
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    await cb.subscribeWithReceipt("/user/queue/notifications", "n");
    const r = await ca.sendWithReceipt("/pub/message", { roomId: room.id, message: "across" }, [
      ["client-msg-id", "x1"],
    ]);
    expect(header(r, "seq")).toBe("1");
    expect((await history(api2, b, room.id)).messages.map((m) => m.id)).toEqual([header(r, "message-id")!]);
    const got = await cb.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === "1");
    expect(bodyJson(got)).toMatchObject({ type: "message", message: "across", senderId: a.user.id });
    const note = await cb.waitFor((f) => header(f, "subscription") === "n");
    expect(bodyJson(note)).toEqual({
      type: "message",
      roomId: room.id,
      seq: 1,
      senderId: a.user.id,
      unreadCount: 1,
    });
    // The same client-msg-id on the other server: same message, no second event.
    const ca2 = await StompTestClient.connect(pair.two.wsUrl, a.accessToken);
    const again = await ca2.sendWithReceipt("/pub/message", { roomId: room.id, message: "across" }, [
      ["client-msg-id", "x1"],
    ]);
    expect(header(again, "message-id")).toBe(header(r, "message-id"));
    await send(api2, a, room.id, "sentinel");
    await cb.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === "2");
    expect(
      cb
        .framesOf("s")
        .filter((f) => header(f, "seq") !== undefined)
        .map((f) => header(f, "seq")),
    ).toEqual(["1", "2"]);
    for (const c of [ca, ca2, cb]) c.close();
  });

  test("resume on one server after messages committed through the other", async () => {
    const a = await signup(api1, "rr");
    const room = await createRoom(api1, a, "Resume");
    for (let i = 1; i <= 12; i++) await send(api1, a, room.id, `m${i}`);
    const c = await StompTestClient.connect(pair.two.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s", [["since-seq", "4"]]);
    await send(api1, a, room.id, "m13");
    await c.waitFor((f) => header(f, "seq") === "13");
    expect(
      c
        .framesOf("s")
        .filter((f) => header(f, "seq") !== undefined)
        .map((f) => Number(header(f, "seq"))),
    ).toEqual(Array.from({ length: 9 }, (_, i) => i + 5));
    c.close();
  });

  test("a rename and an ownership transfer through one server are announced on the other, to the room and the room list", async () => {
    const a = await signup(api1, "ru");
    const b = await signup(api1, "ru");
    const c = await signup(api1, "ru");
    const room = await createRoom(api1, a, "Cross", [b.user.id, c.user.id]);
    const cb = await StompTestClient.connect(pair.two.wsUrl, b.accessToken);
    await cb.subscribeWithReceipt(roomDest(room.id), "s");
    const cc = await StompTestClient.connect(pair.two.wsUrl, c.accessToken);
    await cc.subscribeWithReceipt("/user/queue/notifications", "n");
    expectStatus(await api1.patch(`/rooms/${room.id}`, { name: "Renamed" }, a.accessToken), 200);
    expectStatus(await api1.post(`/rooms/${room.id}/owner`, { userId: b.user.id }, a.accessToken), 200);
    const details = { type: "room.updated", roomId: room.id, name: "Renamed", topic: "", actorId: a.user.id };
    const expected = [
      { ...details, version: 2, ownerId: a.user.id, previousOwnerId: null },
      { ...details, version: 3, ownerId: b.user.id, previousOwnerId: a.user.id },
    ];
    const updates = (cl: StompTestClient, sub: string) =>
      cl.messages(sub).filter((e) => e.type === "room.updated");
    await cb.until(() => updates(cb, "s").length >= 2);
    await cc.until(() => updates(cc, "n").length >= 2);
    expect(updates(cb, "s")).toEqual(expected);
    expect(updates(cc, "n")).toEqual(expected);
    expect(
      cb.framesOf("s").filter((f) => bodyJson(f).type === "room.updated" && header(f, "seq") !== undefined),
    ).toEqual([]);
    cb.close();
    cc.close();
  });

  test("renames racing through both servers get distinct versions; by the version rule every client ends at GET's details", async () => {
    const a = await signup(api1, "rw");
    const b = await signup(api1, "rw");
    const room = await createRoom(api1, a, "Raced", [b.user.id]);
    const watchers = [
      await StompTestClient.connect(pair.one.wsUrl, b.accessToken),
      await StompTestClient.connect(pair.two.wsUrl, b.accessToken),
    ];
    for (const w of watchers) {
      await w.subscribeWithReceipt(roomDest(room.id), "s");
      await w.subscribeWithReceipt("/user/queue/notifications", "n");
    }
    const n = 6;
    const answers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await (i % 2 === 0 ? api1 : api2).patch(
          `/rooms/${room.id}`,
          { name: `r${i}` },
          a.accessToken,
        );
        expectStatus(res, 200);
        return (res.body as { room: WireRoom }).room;
      }),
    );
    expect(answers.map((r) => r.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: n }, (_, i) => i + 2),
    );
    const read = await api2.get(`/rooms/${room.id}`, b.accessToken);
    const now = (read.body as { room: WireRoom }).room;
    expect(now).toEqual(answers.find((r) => r.version === n + 1)!);
    const updates = (cl: StompTestClient, sub: string) =>
      cl.messages(sub).filter((e) => e.type === "room.updated");
    for (const w of watchers) {
      for (const sub of ["s", "n"]) {
        await w.until(() => updates(w, sub).length >= n);
        const events = updates(w, sub);
        expect(events.map((e) => Number(e.version)).sort((x, y) => x - y)).toEqual(
          Array.from({ length: n }, (_, i) => i + 2),
        );
        for (const e of events) expect(e.name).toBe(answers.find((r) => r.version === e.version)?.name);
        // The client's rule: apply an event only when its version is above the one held (1, from the creation).
        let held = { version: room.version, name: room.name };
        for (const e of events) {
          if (typeof e.version === "number" && e.version > held.version)
            held = { version: e.version, name: String(e.name) };
        }
        expect(held).toEqual({ version: now.version, name: now.name });
      }
    }
    for (const w of watchers) w.close();
  });

  test("logout through one server closes the session's socket on the other within a second", async () => {
    const a = await signup(api1, "rv");
    const c = await StompTestClient.connect(pair.two.wsUrl, a.accessToken);
    const started = Date.now();
    expectStatus(await api1.post("/auth/logout", {}, a.accessToken), 204);
    const error = await c.waitFor((f) => f.command === "ERROR", 1000);
    expect(header(error, "code")).toBe("SESSION_REVOKED");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("presence is shared: a subscriber on one server is online as seen from the other", async () => {
    const a = await signup(api1, "rp");
    const room = await createRoom(api1, a, "Presence");
    const c = await StompTestClient.connect(pair.two.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s");
    const res = await api1.get(`/rooms/${room.id}/presence`, a.accessToken);
    expect(res.body).toEqual({ online: [a.user.id], nextAfter: null });
    const page = await api1.get(`/rooms/${room.id}/presence?limit=1`, a.accessToken);
    expect(page.body).toEqual({ online: [a.user.id], nextAfter: a.user.id });
    c.close();
    await c.closed;
    const deadline = Date.now() + 2000;
    let now: unknown = null;
    while (Date.now() < deadline) {
      now = (await api1.get(`/rooms/${room.id}/presence`, a.accessToken)).body;
      if (JSON.stringify(now) === JSON.stringify({ online: [], nextAfter: null })) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(now).toEqual({ online: [], nextAfter: null });
  });
});
