import { Buffer } from "node:buffer";
import type { HubEvent } from "./hub-event.ts";
import type { WireRoomUpdatedEvent } from "./wire.ts";

/** The bodies sent on /user/queue/notifications. */
export type NotificationBody =
  | {
      readonly type: "message";
      readonly roomId: string;
      readonly seq: number;
      readonly senderId: string;
      readonly unreadCount: number;
    }
  | {
      /** Another's unread message was deleted; `messageSeq` is the seq its `message` notification carried. */
      readonly type: "message.deleted";
      readonly roomId: string;
      readonly messageSeq: number;
      readonly unreadCount: number;
    }
  | { readonly type: "read"; readonly roomId: string; readonly readSeq: number; readonly unreadCount: number }
  | { readonly type: "member.joined" | "member.left"; readonly roomId: string; readonly userId: string }
  /** The room event itself, forwarded as is (one serialisation for the room's topics and every user's). */
  | WireRoomUpdatedEvent
  | { readonly type: "session.revoked" };

/**
 * The `message` notification's body, made once per event for all the members it goes to: only the unread count
 * differs between them, so the part before it (and that part's UTF-8 length) is made when the event changes and
 * each member's body is that part, the count and the closing brace. The hub hands one event to every follower in
 * turn, so one remembered event is enough.
 */
export class MessageNoticeBody {
  #of: HubEvent | null = null;
  #start = "";
  #startBytes = 0;

  /** This object, holding the body start of `event` (made now unless it was the event before). */
  of(event: HubEvent, seq: number, senderId: string): this {
    if (this.#of !== event) {
      const body: Omit<Extract<NotificationBody, { type: "message" }>, "unreadCount"> = {
        type: "message",
        roomId: event.roomId,
        seq,
        senderId,
      };
      // The JSON object without its closing brace, then the last member, as JSON.stringify would write it.
      this.#start = `${JSON.stringify(body).slice(0, -1)},"unreadCount":`;
      this.#startBytes = Buffer.byteLength(this.#start, "utf8");
      this.#of = event;
    }
    return this;
  }

  /** The body with `count` (the unread count's decimal digits). */
  text(count: string): string {
    return `${this.#start}${count}}`;
  }

  /** That body's UTF-8 length: the count and the closing brace are ASCII, so nothing is measured per member. */
  bytes(count: string): number {
    return this.#startBytes + count.length + 1;
  }
}
