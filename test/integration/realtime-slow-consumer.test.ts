import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { encodeFrame } from "../../src/realtime/stomp/encoder.ts";
import type { StompHeader } from "../../src/realtime/stomp/frame.ts";
import { StompTestClient } from "../support/stomp-client.ts";
import { createRoom, signup, useTestServer } from "./helpers.ts";

const MAX_BUFFERED = 64 * 1024;

const env = useTestServer({
  config: { wsMaxBufferedBytes: MAX_BUFFERED, wsSendBurst: 100_000, wsSendRatePerSecond: 100_000 },
});

/** A client WebSocket frame (text, masked as RFC 6455 requires of clients). */
function wsFrame(payload: Uint8Array): Uint8Array {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const len = payload.length;
  const head = len < 126 ? [0x81, 0x80 | len] : [0x81, 0x80 | 126, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + 4 + len);
  out.set(head);
  out.set(mask, head.length);
  for (let i = 0; i < len; i++) out[head.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

/**
 * A raw WebSocket client that can stop reading, which a WebSocket API cannot: once paused, the kernel buffers
 * fill and the server's outgoing backlog for this socket grows.
 */
async function rawSocket(url: string): Promise<{ socket: Socket; received: () => Buffer }> {
  const u = new URL(url);
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return { socket, received: () => Buffer.concat(chunks) };
}

function stomp(command: "CONNECT" | "SUBSCRIBE", headers: StompHeader[]): Uint8Array {
  return wsFrame(encodeFrame(command, headers));
}

test('a client that stops reading is closed with 1008 "slow consumer" once its backlog passes the limit', async () => {
  const a = await signup(env.api, "slow");
  const room = await createRoom(env.api, a, "Slow");
  const { socket, received } = await rawSocket(env.server.wsUrl);
  socket.write(
    stomp("CONNECT", [
      ["accept-version", "1.2"],
      ["passcode", a.accessToken],
    ]),
  );
  // Many subscriptions of one socket multiply every event, so the backlog grows fast.
  for (let i = 0; i < 150; i++) {
    const headers: StompHeader[] = [
      ["destination", `/sub/chat/room/${room.id}`],
      ["id", `s${i}`],
    ];
    if (i === 149) headers.push(["receipt", "ready"]);
    socket.write(stomp("SUBSCRIBE", headers));
  }
  const deadline = Date.now() + 5000;
  while (!received().includes("receipt-id:ready") && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  expect(received().includes("receipt-id:ready")).toBe(true);
  socket.pause();
  let closed = false;
  socket.once("close", () => {
    closed = true;
  });

  const sender = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
  const text = "x".repeat(300);
  for (let i = 0; i < 80; i++) {
    await sender.sendWithReceipt("/pub/message", { roomId: room.id, message: text });
  }
  // The sweep looks at each socket's backlog about once a second (gateway.ts, BACKPRESSURE_CHECK_MS): stay paused
  // past that. Reading again then lets the kernel deliver what the server wrote before it gave up, ending with its
  // close frame.
  await new Promise((r) => setTimeout(r, 2000));
  socket.resume();
  const until = Date.now() + 5000;
  while (!closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(closed).toBe(true);
  const bytes = received();
  const reason = Buffer.from("slow consumer");
  const at = bytes.lastIndexOf(reason);
  expect(at).toBeGreaterThan(0);
  // The close frame: opcode 0x88, length, then the code 1008 right before the reason.
  expect(bytes.readUInt16BE(at - 2)).toBe(1008);
  sender.close();
});
