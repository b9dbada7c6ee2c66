/**
 * The four wire dialects the generator speaks, all over the same raw WebSocket client: Parley's STOMP contract,
 * the bare STOMP peer (same destinations, no auth), RabbitMQ Web-STOMP (topic exchange, guest login) and
 * Socket.IO 4. Each says how to log in, how to join a room (the last join asks for an acknowledgement so the
 * generator knows subscriptions are live before anyone sends), how a send looks, and how to scan what arrives.
 */
import type { Buffer } from "node:buffer";
import { encodeFrame } from "../../src/realtime/stomp/index.ts";
import type { StompHeader } from "../../src/realtime/stomp/index.ts";
import type { ScanSink } from "./scan-sink.ts";
import { scanSocketIo } from "./socketio-scan.ts";
import { scanStomp } from "./stomp-scan.ts";
import { OP_BINARY, OP_TEXT } from "./ws-frames.ts";

/**
 * Whether a Parley client also follows /user/queue/notifications: "on" as a client with a room list does, and
 * "skip-followed" with the SUBSCRIBE header `skip-followed:true`, as such a client with its rooms open does (no
 * `message` notice for a room it follows; docs/realtime.md).
 */
export type NotificationsMode = "off" | "on" | "skip-followed";

export type DialectKind = "parley" | "bare" | "rabbit" | "socketio";

export interface Dialect {
  readonly path: string;
  readonly subprotocol: string | undefined;
  /** WebSocket opcode of client messages. */
  readonly opcode: number;
  /** Sent right after the upgrade (STOMP CONNECT); Socket.IO waits for the server's open packet instead. */
  hello(token: string | undefined): Uint8Array[];
  /**
   * Sent once the session is connected; the last one carries the acknowledgement id `READY_ACK`. `sinceSeq[i]`
   * (when ≥ 0) asks to resume room `rooms[i]` after that seq (STOMP `since-seq`; ignored by Socket.IO).
   */
  join(
    rooms: readonly number[],
    roomIds: readonly string[],
    sinceSeq?: ArrayLike<number>,
    notifications?: NotificationsMode,
  ): Uint8Array[];
  /** Whether MESSAGE frames carry the room's own gap-free `seq`, so a hole in it is a lost event. */
  readonly roomSeq: boolean;
  /** The complete payload of one send to `room`; it contains the probe text once. */
  sendPayload(room: number, roomId: string, text: string): Uint8Array;
  scan(buf: Buffer, start: number, end: number, sink: ScanSink): void;
}

export const READY_ACK = "0";
const UTF8 = new TextEncoder();
const stomp = (command: "CONNECT" | "SUBSCRIBE" | "SEND", headers: StompHeader[], body?: string) =>
  encodeFrame(command, headers, body);

function stompDialect(kind: "parley" | "bare" | "rabbit"): Dialect {
  const roomDestination = (room: number, roomId: string) =>
    kind === "rabbit" ? `/topic/r${room}` : `/sub/chat/room/${roomId}`;
  return {
    path: "/ws",
    subprotocol: "v12.stomp",
    opcode: kind === "rabbit" ? OP_TEXT : OP_BINARY,
    hello(token) {
      const headers: StompHeader[] = [
        ["accept-version", "1.2"],
        ["host", kind === "rabbit" ? "/" : "localhost"],
        ["heart-beat", "0,0"],
      ];
      if (kind === "parley" && token !== undefined) headers.push(["Authorization", `Bearer ${token}`]);
      if (kind === "rabbit") headers.push(["login", "guest"], ["passcode", "guest"]);
      return [stomp("CONNECT", headers)];
    },
    roomSeq: kind === "parley",
    join(rooms, roomIds, sinceSeq, notifications) {
      const frames: Uint8Array[] = [];
      if (kind === "parley")
        frames.push(
          stomp("SUBSCRIBE", [
            ["id", "e"],
            ["destination", "/user/queue/errors"],
          ]),
        );
      // As a client showing a room list does: unread counts and notices for every room of the user.
      if (kind === "parley" && notifications !== undefined && notifications !== "off") {
        const headers: StompHeader[] = [
          ["id", "n"],
          ["destination", "/user/queue/notifications"],
        ];
        if (notifications === "skip-followed") headers.push(["skip-followed", "true"]);
        frames.push(stomp("SUBSCRIBE", headers));
      }
      rooms.forEach((room, i) => {
        const headers: StompHeader[] = [
          ["id", `r${room}`],
          ["destination", roomDestination(room, roomIds[room] ?? "")],
        ];
        const since = sinceSeq?.[i] ?? -1;
        if (since >= 0) headers.push(["since-seq", String(since)]);
        if (i === rooms.length - 1) headers.push(["receipt", READY_ACK]);
        frames.push(stomp("SUBSCRIBE", headers));
      });
      return frames;
    },
    sendPayload(room, roomId, text) {
      if (kind === "rabbit") {
        return stomp(
          "SEND",
          [
            ["destination", `/topic/r${room}`],
            ["content-type", "text/plain"],
          ],
          text,
        );
      }
      const body = JSON.stringify({ roomId, message: text });
      return stomp(
        "SEND",
        [
          ["destination", "/pub/message"],
          ["content-type", "application/json"],
        ],
        body,
      );
    },
    scan: scanStomp,
  };
}

const socketIoDialect: Dialect = {
  path: "/socket.io/?EIO=4&transport=websocket",
  subprotocol: undefined,
  opcode: OP_TEXT,
  hello: () => [],
  roomSeq: false,
  join(rooms) {
    return rooms.map((room, i) =>
      UTF8.encode(i === rooms.length - 1 ? `42${READY_ACK}["join",${room}]` : `42["join",${room}]`),
    );
  },
  sendPayload(room, _roomId, text) {
    return UTF8.encode(`42["send",${room},${JSON.stringify(text)}]`);
  },
  scan: scanSocketIo,
};

export function dialectFor(kind: DialectKind): Dialect {
  return kind === "socketio" ? socketIoDialect : stompDialect(kind);
}
