/**
 * The generator-capacity peer: a raw TCP server that accepts the WebSocket upgrade, answers CONNECT and the
 * subscription receipt, then streams pre-built STOMP MESSAGE frames (the same shape and size as the bare peer's)
 * as fast as each socket drains. It parses nothing and builds nothing per message, so its own cost is a kernel
 * copy and whatever rate the generator reaches is the generator's ceiling.
 *
 * `bun bench/peers/blast-server.ts [port] [messageSize]` prints `listening <port>` when ready.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { Socket } from "bun";
import { encodeFrame, encodeMessageTemplate } from "../../src/realtime/stomp/index.ts";
import { probeText } from "../protocol/marker.ts";

const FRAMES_PER_WRITE = 512;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65";

function wsFrame(payload: Uint8Array): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x82, n]) : Buffer.from([0x82, 126, n >>> 8, n & 0xff]);
  return Buffer.concat([head, payload]);
}

const size = Number(process.argv[3] ?? 64);
const body = JSON.stringify({
  id: "01JBENCHBENCHBENCHBENCHBENC",
  roomId: "room-0",
  seq: 1,
  senderId: "blast",
  message: probeText(size).replace("~T0000000000000000", `~T${String(Date.now() * 1000).padStart(16, "0")}`),
  createdAt: new Date().toISOString(),
});
const message = wsFrame(
  encodeMessageTemplate(
    [
      ["destination", "/sub/chat/room/room-0"],
      ["content-type", "application/json"],
      ["message-id", "01JBENCHBENCHBENCHBENCHBENC"],
      ["seq", "1"],
    ],
    body,
  ).forSubscription("r0"),
);
const stream = Buffer.concat(Array.from({ length: FRAMES_PER_WRITE }, () => message));
const hello = Buffer.concat([
  wsFrame(
    encodeFrame("CONNECTED", [
      ["version", "1.2"],
      ["heart-beat", "0,0"],
    ]),
  ),
  wsFrame(encodeFrame("RECEIPT", [["receipt-id", "0"]])),
]);

interface State {
  head: string;
  streaming: boolean;
  /** Offset into `stream` of the part the kernel did not take yet. */
  offset: number;
}

function pump(socket: Socket<State>): void {
  const st = socket.data;
  for (;;) {
    const n = socket.write(stream, st.offset, stream.length - st.offset);
    if (n <= 0) return;
    st.offset += n;
    if (st.offset < stream.length) return;
    st.offset = 0;
  }
}

const server = Bun.listen<State>({
  hostname: "0.0.0.0",
  port: Number(process.argv[2] ?? 0),
  socket: {
    open(socket) {
      socket.data = { head: "", streaming: false, offset: 0 };
    },
    data(socket, chunk) {
      const st = socket.data;
      if (st.streaming || st.head.includes("\r\n\r\n")) return; // client frames are ignored
      st.head += chunk.toString("latin1");
      const m = /Sec-WebSocket-Key: *(\S+)/i.exec(st.head);
      if (!st.head.includes("\r\n\r\n") || !m) return;
      const accept = createHash("sha1").update(`${m[1]}${GUID}`).digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n`,
      );
      socket.write(hello);
      st.streaming = true;
      setTimeout(() => pump(socket), 50);
    },
    drain(socket) {
      if (socket.data.streaming) pump(socket);
    },
  },
});

console.log(`listening ${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
