import type { RoomEvent } from "../domain/message.ts";
import type { Room } from "../domain/room.ts";

/**
 * The JSON bodies of room events as clients receive them in MESSAGE frames. Stored events carry `seq`; the
 * ephemeral ones (typing, presence, room.updated, reset) do not. Message events keep the seed convention's
 * fields (`roomId`, `sender`, `message`, `sendDate`) next to Parley's own.
 */
export interface WireMessageEvent {
  readonly type: "message" | "message.edited" | "message.deleted";
  readonly id: string;
  /** The event's seq; for a `message` event also the message's own. */
  readonly seq: number;
  /**
   * The message's own seq (the seq of its `message` event), on message.edited and message.deleted only: it
   * places the change in the stream, e.g. relative to a read marker, which the event's seq cannot.
   */
  readonly messageSeq?: number;
  readonly roomId: string;
  readonly senderId: string;
  /** The sender's display name (which defaults to the username). */
  readonly sender: string;
  /** The text; null once deleted. */
  readonly message: string | null;
  readonly clientMsgId: string | null;
  /** ISO time the message was first sent. */
  readonly sendDate: string;
  readonly editedAt: string | null;
  readonly deletedAt: string | null;
}

export interface WireMemberEvent {
  readonly type: "member.joined" | "member.left";
  readonly seq: number;
  readonly roomId: string;
  readonly userId: string;
  readonly role: string;
  readonly actorId: string;
  readonly at: string;
}

export interface WireTypingEvent {
  readonly type: "typing";
  readonly roomId: string;
  readonly userId: string;
  /** Clients hide the indicator after this long unless another typing event renews it. */
  readonly expiresInMs: number;
}

/**
 * Presence changes of one room, coalesced per process over a short window: one event per room per window, not
 * one per user, so N members connecting at once cost N deliveries per window instead of N². Each list holds at
 * most PRESENCE_LIST_MAX ids; `truncated` says more changed (clients that care refetch the REST presence list).
 * A process where the room has more subscriptions than PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS sends none for it.
 */
export interface WirePresenceEvent {
  readonly type: "presence";
  readonly roomId: string;
  readonly online: readonly string[];
  readonly offline: readonly string[];
  readonly truncated: boolean;
}

export interface WireResetEvent {
  readonly type: "reset";
  readonly roomId: string;
  /** The room's latest seq: refetch history up to here, then live events follow. */
  readonly latestSeq: number;
}

/**
 * A room's details as just committed: after a rename, a change of topic or an ownership transfer. Ephemeral (no
 * seq): a client that missed it (disconnected, or resuming) reads the room again. The same body is sent on
 * /user/queue/notifications, for clients that list the room without following its stream.
 */
export interface WireRoomUpdatedEvent {
  readonly type: "room.updated";
  readonly roomId: string;
  /**
   * The room's details version as this change committed it (the `version` of the REST room representation).
   * Each announced change has its own, one above the change committed before it; a client applies the event only
   * when it is above the version it holds, since racing changes may arrive out of commit order.
   */
  readonly version: number;
  readonly name: string;
  readonly topic: string;
  /** Whose role is now "owner". */
  readonly ownerId: string | null;
  /** On an ownership transfer, whose role is now "member"; null otherwise (see DomainEvent room.updated). */
  readonly previousOwnerId: string | null;
  /** Who made the change. */
  readonly actorId: string;
}

export type WireRoomEvent =
  | WireMessageEvent
  | WireMemberEvent
  | WireTypingEvent
  | WirePresenceEvent
  | WireResetEvent
  | WireRoomUpdatedEvent;

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** A stored event as its wire object. `senderName` is the display name of the message's sender. */
export function toWireEvent(event: RoomEvent, senderName: string): WireMessageEvent | WireMemberEvent {
  const m = event.message;
  if (
    m !== null &&
    (event.type === "message" || event.type === "message.edited" || event.type === "message.deleted")
  ) {
    const wire: WireMessageEvent = {
      type: event.type,
      id: m.id,
      seq: event.seq,
      roomId: event.roomId,
      senderId: m.senderId,
      sender: senderName,
      message: m.deletedAt === null ? m.body : null,
      clientMsgId: m.clientMsgId,
      sendDate: iso(m.createdAt),
      editedAt: isoOrNull(m.editedAt),
      deletedAt: isoOrNull(m.deletedAt),
    };
    // Left off `message` events, the bulk of the traffic, where it would repeat `seq`.
    return event.type === "message" ? wire : { ...wire, messageSeq: m.seq };
  }
  return {
    type: event.type === "member.left" ? "member.left" : "member.joined",
    seq: event.seq,
    roomId: event.roomId,
    userId: event.member?.userId ?? event.actorId,
    role: event.member?.role ?? "member",
    actorId: event.actorId,
    at: iso(event.at),
  };
}

/** The user whose name a stored event's wire form needs, or null. */
export function senderOf(event: RoomEvent): string | null {
  return event.message?.senderId ?? null;
}

/** The announcement of a room's committed details. */
export function toWireRoomUpdated(
  room: Room,
  actorId: string,
  previousOwnerId: string | null,
): WireRoomUpdatedEvent {
  return {
    type: "room.updated",
    roomId: room.id,
    version: room.version,
    name: room.name,
    topic: room.topic,
    ownerId: room.ownerId,
    previousOwnerId,
    actorId,
  };
}
