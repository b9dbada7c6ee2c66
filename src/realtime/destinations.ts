import { ID_PATTERN } from "../domain/rules.ts";
import { ERRORS_DESTINATION, NOTIFICATIONS_DESTINATION, ROOM_DESTINATION_PREFIX } from "./channels.ts";

/** What a SUBSCRIBE may name. */
export type SubscribeTarget =
  | { readonly kind: "room"; readonly roomId: string }
  | { readonly kind: "notifications" }
  | { readonly kind: "errors" }
  /** A room destination whose id is not even a well-formed id: answered like a room one is not in. */
  | { readonly kind: "bad-room" }
  | { readonly kind: "unknown" };

export function subscribeTarget(destination: string): SubscribeTarget {
  if (destination.startsWith(ROOM_DESTINATION_PREFIX)) {
    const roomId = destination.slice(ROOM_DESTINATION_PREFIX.length);
    return ID_PATTERN.test(roomId) ? { kind: "room", roomId } : { kind: "bad-room" };
  }
  if (destination === NOTIFICATIONS_DESTINATION) return { kind: "notifications" };
  if (destination === ERRORS_DESTINATION) return { kind: "errors" };
  return { kind: "unknown" };
}

/** What a SEND may name. */
export type SendTarget = "message" | "typing" | "read" | "unknown";

export function sendTarget(destination: string): SendTarget {
  switch (destination) {
    case "/pub/message":
      return "message";
    case "/pub/typing":
      return "typing";
    case "/pub/read":
      return "read";
    default:
      return "unknown";
  }
}
