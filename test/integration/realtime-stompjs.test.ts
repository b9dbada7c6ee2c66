import { describe, expect, test } from "bun:test";
import { type IMessage, Client as StompClient } from "@stomp/stompjs";
import { createRoom, history, send, signup, useTestServer } from "./helpers.ts";

const env = useTestServer();

/** A @stomp/stompjs client on Bun's WebSocket, connected (resolves on CONNECTED). */
async function stompjs(token: string): Promise<StompClient> {
  const c = new StompClient({
    webSocketFactory: () => new WebSocket(env.server.wsUrl, ["v12.stomp", "v11.stomp", "v10.stomp"]),
    connectHeaders: { Authorization: `Bearer ${token}` },
    reconnectDelay: 0,
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
  });
  await new Promise<void>((resolve, reject) => {
    c.onConnect = () => resolve();
    c.onStompError = (f) => {
      void c.deactivate();
      reject(new Error(f.headers.code ?? "ERROR"));
    };
    c.activate();
  });
  return c;
}

function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error("condition not met in time"));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe("@stomp/stompjs interoperability", () => {
  test("connect, subscribe, publish with a receipt, reconnect and resume with since-seq", async () => {
    const a = await signup(env.api, "js");
    const b = await signup(env.api, "js");
    const room = await createRoom(env.api, a, "StompJs", [b.user.id]);
    const sender = await stompjs(a.accessToken);
    const reader = await stompjs(b.accessToken);

    const received: IMessage[] = [];
    reader.subscribe(`/sub/chat/room/${room.id}`, (m) => received.push(m), { id: "room" });
    // A receipt on a second subscription proves the first (earlier on the same socket) is live.
    await new Promise<void>((resolve) => {
      reader.watchForReceipt("ready", () => resolve());
      reader.subscribe("/user/queue/notifications", () => {}, { receipt: "ready" });
    });

    const receipt = await new Promise<Record<string, string>>((resolve) => {
      sender.watchForReceipt("send-1", (f) => resolve(f.headers));
      sender.publish({
        destination: "/pub/message",
        body: JSON.stringify({ roomId: room.id, message: "from stompjs" }),
        headers: { receipt: "send-1", "client-msg-id": "js-1", "content-type": "application/json" },
      });
    });
    expect(receipt.seq).toBe("1");
    expect((await history(env.api, a, room.id)).messages.map((m) => [m.id, m.message])).toEqual([
      [receipt["message-id"] as string, "from stompjs"],
    ]);
    await until(() => received.some((m) => JSON.parse(m.body).type === "message"));
    const msg = received.find((m) => JSON.parse(m.body).type === "message")!;
    expect(JSON.parse(msg.body)).toMatchObject({
      type: "message",
      seq: 1,
      message: "from stompjs",
      senderId: a.user.id,
    });
    expect(msg.headers.seq).toBe("1");
    expect(msg.headers.subscription).toBe("room");

    // Reconnect: the reader goes away, misses three messages, and resumes from the last seq it saw.
    await reader.deactivate();
    for (const text of ["missed 1", "missed 2", "missed 3"]) await send(env.api, a, room.id, text);
    const resumed: IMessage[] = [];
    const reader2 = await stompjs(b.accessToken);
    reader2.subscribe(`/sub/chat/room/${room.id}`, (m) => resumed.push(m), { id: "room", "since-seq": "1" });
    await send(env.api, a, room.id, "live");
    await until(() => resumed.some((m) => JSON.parse(m.body).message === "live"));
    const seqs = resumed.filter((m) => m.headers.seq !== undefined).map((m) => Number(m.headers.seq));
    expect(seqs).toEqual([2, 3, 4, 5]);
    await Promise.all([sender.deactivate(), reader2.deactivate()]);
  });

  test("a bad token reaches stompjs as an ERROR frame with the code", async () => {
    await expect(stompjs("garbage")).rejects.toThrow("UNAUTHENTICATED");
  });
});
