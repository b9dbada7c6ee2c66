/**
 * The bare STOMP peer: the ceiling Parley is measured against. Same wire contract (CONNECT, SUBSCRIBE
 * /sub/chat/room/{roomId}, SEND /pub/message with a JSON body, MESSAGE with `seq`), but no auth, no storage, no
 * limits. It does the work any real server must do — parse every SEND, assign the room's seq, build the JSON body —
 * then serialises the MESSAGE once per room event and publishes it with Bun's native topic pub/sub, one topic per
 * (room, subscription id), so no JavaScript runs per subscriber.
 *
 * `bun bench/peers/bare-stomp.ts [port]` prints `listening <port>` when ready.
 */
import type { ServerWebSocket } from "bun";
import {
  encodeFrame,
  encodeMessageTemplate,
  header,
  StompDecoder,
  type StompFrame,
} from "../../src/realtime/stomp/index.ts";

interface Room {
  seq: number;
  /** Subscription ids in use in this room, with how many sockets use each. */
  readonly subs: Map<string, number>;
}

interface Conn {
  readonly decoder: StompDecoder;
  readonly topics: { room: Room; id: string; topic: string }[];
}

const PREFIX = "/sub/chat/room/";
const rooms = new Map<string, Room>();
let nextId = 0;

function roomFor(id: string): Room {
  let r = rooms.get(id);
  if (!r) {
    r = { seq: 0, subs: new Map() };
    rooms.set(id, r);
  }
  return r;
}

const server = Bun.serve<Conn>({
  hostname: "0.0.0.0",
  port: Number(process.argv[2] ?? 0),
  fetch(req, srv) {
    const ok = srv.upgrade(req, {
      data: { decoder: new StompDecoder({}, "1.2", "client"), topics: [] },
      headers: { "Sec-WebSocket-Protocol": "v12.stomp" },
    });
    return ok ? undefined : new Response("websocket only", { status: 400 });
  },
  websocket: {
    maxPayloadLength: 65536,
    backpressureLimit: 4 * 1024 * 1024,
    closeOnBackpressureLimit: true,
    message(ws, data) {
      const result = ws.data.decoder.push(data);
      if (!result.ok) {
        ws.close(1002, "malformed");
        return;
      }
      for (const frame of result.frames) handle(ws, frame);
    },
    close(ws) {
      for (const t of ws.data.topics) {
        const n = (t.room.subs.get(t.id) ?? 1) - 1;
        if (n <= 0) t.room.subs.delete(t.id);
        else t.room.subs.set(t.id, n);
      }
    },
  },
});

type Frame = StompFrame;

function receipt(ws: ServerWebSocket<Conn>, frame: Frame): void {
  const id = header(frame, "receipt");
  if (id !== undefined) ws.send(encodeFrame("RECEIPT", [["receipt-id", id]]));
}

function handle(ws: ServerWebSocket<Conn>, frame: Frame): void {
  switch (frame.command) {
    case "CONNECT":
    case "STOMP":
      ws.send(
        encodeFrame("CONNECTED", [
          ["version", "1.2"],
          ["heart-beat", "0,0"],
          ["session", String(++nextId)],
        ]),
      );
      return;
    case "SUBSCRIBE": {
      const dest = header(frame, "destination") ?? "";
      const id = header(frame, "id") ?? "";
      if (dest.startsWith(PREFIX)) {
        const room = roomFor(dest.slice(PREFIX.length));
        const topic = `${dest}\u0000${id}`;
        ws.subscribe(topic);
        room.subs.set(id, (room.subs.get(id) ?? 0) + 1);
        ws.data.topics.push({ room, id, topic });
      }
      receipt(ws, frame);
      return;
    }
    case "SEND": {
      const body = JSON.parse(new TextDecoder().decode(frame.body)) as {
        roomId?: unknown;
        message?: unknown;
      };
      if (typeof body.roomId !== "string" || typeof body.message !== "string") return;
      const room = roomFor(body.roomId);
      const seq = ++room.seq;
      const id = `m${++nextId}`;
      const dest = `${PREFIX}${body.roomId}`;
      const json = JSON.stringify({
        id,
        roomId: body.roomId,
        seq,
        senderId: "bare",
        message: body.message,
        createdAt: new Date().toISOString(),
      });
      const template = encodeMessageTemplate(
        [
          ["destination", dest],
          ["content-type", "application/json"],
          ["message-id", id],
          ["seq", String(seq)],
        ],
        json,
      );
      for (const subId of room.subs.keys())
        server.publish(`${dest}\u0000${subId}`, template.forSubscription(subId));
      receipt(ws, frame);
      return;
    }
    case "DISCONNECT":
      receipt(ws, frame);
      ws.close();
      return;
    default:
      receipt(ws, frame);
  }
}

console.log(`listening ${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
