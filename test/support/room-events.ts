/** Stored room events for the realtime unit tests: one room, messages from one sender, times derived from seq. */
import type { Message, RoomEvent } from "../../src/domain/message.ts";

export const ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/** Message `m<seq>` of u1 as stored, created at 1000 + seq. */
export function storedMessage(seq: number, body = `text ${seq}`): Message {
  return {
    id: `m${seq}`,
    roomId: ROOM,
    seq,
    senderId: "u1",
    body,
    clientMsgId: null,
    createdAt: 1000 + seq,
    editedAt: null,
    deletedAt: null,
  };
}

/** The `message` event of storedMessage(seq, body). */
export function messageEvent(seq: number, body?: string): RoomEvent {
  return {
    roomId: ROOM,
    seq,
    type: "message",
    at: 1000 + seq,
    actorId: "u1",
    member: null,
    message: storedMessage(seq, body),
  };
}
