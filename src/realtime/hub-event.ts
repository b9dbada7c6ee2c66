import type { RoomEvent } from "../domain/message.ts";
import { toWireEvent, type WireRoomEvent } from "./wire.ts";

/**
 * A room event as the hubs handle it: the wire JSON (serialised once, sent as is to every subscriber) plus the
 * few fields routing needs. `seq` is null for ephemeral events (typing, presence, room.updated), which are never
 * stored.
 */
export interface HubEvent {
  readonly roomId: string;
  readonly seq: number | null;
  readonly type: WireRoomEvent["type"];
  readonly json: string;
  /** The sender of the message, for message events (also of the edited or deleted one, not who changed it). */
  readonly senderId: string | null;
  /**
   * The message's own seq, for message.edited and message.deleted (null otherwise, and for an event published
   * by a version that did not send it).
   */
  readonly messageSeq: number | null;
  /** The member concerned, for member events; the user, for typing and presence. */
  readonly userId: string | null;
}

export function hubEventFromWire(wire: WireRoomEvent, json: string = JSON.stringify(wire)): HubEvent {
  return {
    roomId: wire.roomId,
    seq: "seq" in wire ? wire.seq : null,
    type: wire.type,
    json,
    senderId: "senderId" in wire ? wire.senderId : null,
    messageSeq: "messageSeq" in wire ? (wire.messageSeq ?? null) : null,
    userId: "userId" in wire ? wire.userId : null,
  };
}

export function hubEventFromStore(event: RoomEvent, senderName: string): HubEvent {
  return hubEventFromWire(toWireEvent(event, senderName));
}

const decoder = new TextDecoder();

/**
 * Reads a broker payload of channel `room:{roomId}`. Null for anything that is not a well-formed event of that
 * room (another version's format, or garbage): such a payload is ignored, and a stored event it might have been
 * is recovered from the store by seq like any lost one.
 */
export function parseHubEvent(roomId: string, payload: Uint8Array): HubEvent | null {
  const json = decoder.decode(payload);
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.roomId !== roomId || typeof o.type !== "string") return null;
  const seq = o.seq === undefined ? null : o.seq;
  if (seq !== null && !isSeq(seq)) return null;
  return {
    roomId,
    seq,
    type: o.type as WireRoomEvent["type"],
    json,
    senderId: typeof o.senderId === "string" ? o.senderId : null,
    messageSeq: isSeq(o.messageSeq) ? o.messageSeq : null,
    userId: typeof o.userId === "string" ? o.userId : null,
  };
}

function isSeq(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}
