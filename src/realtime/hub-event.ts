import type { RoomEvent } from "../domain/message.ts";
import { toWireEvent, type WireRoomEvent } from "./wire.ts";

/**
 * A room event as the hubs handle it: the wire JSON (serialised once, sent as is to every subscriber) plus the
 * few fields routing needs. `seq` is null for ephemeral events (typing, presence), which are never stored.
 */
export interface HubEvent {
  readonly roomId: string;
  readonly seq: number | null;
  readonly type: WireRoomEvent["type"];
  readonly json: string;
  /** The sender, for message events. */
  readonly senderId: string | null;
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
  if (seq !== null && (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1)) return null;
  return {
    roomId,
    seq,
    type: o.type as WireRoomEvent["type"],
    json,
    senderId: typeof o.senderId === "string" ? o.senderId : null,
    userId: typeof o.userId === "string" ? o.userId : null,
  };
}
