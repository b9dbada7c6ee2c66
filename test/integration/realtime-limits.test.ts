import { describe, expect, test } from "bun:test";
import { header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, fullHistory, signup, useTestServer } from "./helpers.ts";

const BURST = 5;
const HEARTBEAT = 100;

const env = useTestServer({
  config: {
    wsSendRatePerSecond: 1,
    wsSendBurst: BURST,
    wsMaxSubscriptions: 3,
    wsMaxConnectionsPerUser: 2,
    wsHeartbeatMs: HEARTBEAT,
  },
});

describe("limits", () => {
  test("a flood: RATE_LIMITED beyond the bucket, the connection stays open, nothing stored beyond it", async () => {
    const a = await signup(env.api, "flood");
    const room = await createRoom(env.api, a, "Flood");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.sendWithReceipt("/pub/message", { roomId: room.id, message: `m${i}` }),
      ),
    );
    const accepted = answers.filter((f) => f.command === "RECEIPT");
    const limited = answers.filter((f) => header(f, "code") === "RATE_LIMITED");
    // The bucket holds BURST and refills at 1/s: the whole flood takes well under a second or two.
    expect(accepted.length).toBeGreaterThanOrEqual(BURST);
    expect(accepted.length).toBeLessThanOrEqual(BURST + 2);
    expect(accepted.length + limited.length).toBe(20);
    expect(Number(header(limited[0]!, "retry-after-ms"))).toBeGreaterThan(0);
    expect((await fullHistory(env.api, a, room.id)).length).toBe(accepted.length);
    expect(c.closeInfo).toBeNull();
    expect((await c.subscribeWithReceipt("/user/queue/notifications", "n")).command).toBe("RECEIPT");
    c.close();
  });

  test("150 frames pipelined in one WebSocket message are all answered, in order", async () => {
    const a = await signup(env.api, "pipe");
    const room = await createRoom(env.api, a, "Pipe");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    let batch = "";
    for (let i = 0; i < 150; i++) {
      batch += `SEND\ndestination:/pub/typing\nreceipt:p${i}\n\n${JSON.stringify({ roomId: room.id })}\0`;
    }
    c.sendRaw(batch);
    await c.waitFor((f) => header(f, "receipt-id") === "p149", 5000);
    const order = c.frames.filter((f) => f.command === "RECEIPT").map((f) => header(f, "receipt-id"));
    expect(order).toEqual(Array.from({ length: 150 }, (_, i) => `p${i}`));
    expect(c.closeInfo).toBeNull();
    c.close();
  });

  test("too many subscriptions on one connection: TOO_MANY_SUBSCRIPTIONS, and the others keep working", async () => {
    const a = await signup(env.api, "subs");
    const rooms = await Promise.all([1, 2, 3, 4].map((i) => createRoom(env.api, a, `R${i}`)));
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    for (const [i, r] of rooms.slice(0, 3).entries()) {
      expect((await c.subscribeWithReceipt(`/sub/chat/room/${r.id}`, `s${i}`)).command).toBe("RECEIPT");
    }
    const refused = await c.subscribeWithReceipt(`/sub/chat/room/${rooms[3]!.id}`, "s3");
    expect(header(refused, "code")).toBe("TOO_MANY_SUBSCRIPTIONS");
    c.send("UNSUBSCRIBE", [["id", "s0"]]);
    expect((await c.subscribeWithReceipt(`/sub/chat/room/${rooms[3]!.id}`, "s3")).command).toBe("RECEIPT");
    c.close();
  });

  test("too many connections of one user: ERROR TOO_MANY_CONNECTIONS; a slot frees when one closes", async () => {
    const a = await signup(env.api, "conns");
    const one = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const two = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const three = await StompTestClient.open(env.server.wsUrl);
    await expect(three.connect(a.accessToken)).rejects.toThrow("TOO_MANY_CONNECTIONS");
    await three.closed;
    one.close();
    await one.closed;
    const again = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    two.close();
    again.close();
  });
});

describe("heart-beats", () => {
  test("negotiated per the spec; the server sends EOLs at the agreed interval", async () => {
    const a = await signup(env.api, "hb");
    const c = await StompTestClient.open(env.server.wsUrl);
    const connected = await c.connect(a.accessToken, { heartBeat: "0,50" });
    expect(header(connected, "heart-beat")).toBe(`${HEARTBEAT},${HEARTBEAT}`);
    const since = Date.now();
    await c.until(() => c.heartbeats.length >= 4, 2000);
    // max(50, 100) = 100 ms apart: four of them take at least ~300 ms.
    expect(c.heartbeats[3]! - since).toBeGreaterThanOrEqual(250);
    c.close();
  });

  test("no heart-beats when the client asks for none", async () => {
    const a = await signup(env.api, "hb0");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken, { heartBeat: "0,0" });
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT));
    expect(c.heartbeats).toEqual([]);
    expect(c.closeInfo).toBeNull();
    c.close();
  });

  test("a client silent for twice its interval is dropped with HEARTBEAT_TIMEOUT; one that beats stays", async () => {
    const a = await signup(env.api, "hbt");
    const silent = await StompTestClient.connect(env.server.wsUrl, a.accessToken, {
      heartBeat: `${HEARTBEAT},0`,
    });
    const beating = await StompTestClient.connect(env.server.wsUrl, a.accessToken, {
      heartBeat: `${HEARTBEAT},0`,
    });
    const timer = setInterval(() => beating.sendRaw("\n"), HEARTBEAT / 2);
    const error = await silent.waitFor((f) => f.command === "ERROR", 2000);
    expect(header(error, "code")).toBe("HEARTBEAT_TIMEOUT");
    await silent.closed;
    await new Promise((r) => setTimeout(r, 3 * HEARTBEAT));
    clearInterval(timer);
    expect(beating.closeInfo).toBeNull();
    beating.close();
  });
});
