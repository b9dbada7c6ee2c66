import { UNREAD_COUNT_MAX } from "../domain/rules.ts";
import { noticeObject } from "./notice-json.ts";

/**
 * What travels on a user's broker channel (`user:{userId}`): things every process holding a connection of that
 * user must act on. Not stored; a lost notice costs a stale badge or a socket closed at its next check, never a
 * message.
 */
export type UserNotice =
  | { readonly type: "sessions.revoked"; readonly sessionIds: readonly string[] | "all" }
  | { readonly type: "member.joined" | "member.left"; readonly roomId: string; readonly seq: number }
  | {
      readonly type: "read";
      readonly roomId: string;
      readonly readSeq: number;
      /** At most UNREAD_COUNT_MAX: parseUserNotice caps a larger one (from a build before the cap). */
      readonly unreadCount: number;
      /**
       * The room's last seq as of `unreadCount`: events up to it are in the count, later ones are not. Absent
       * from a version that did not send it; the count is then taken as covering the events up to `readSeq`.
       */
      readonly countedSeq?: number;
      /** The connection that read: it is not notified of its own read. */
      readonly origin: string;
    };

/** Null for a payload that is not a notice this version understands (it is then ignored). */
export function parseUserNotice(payload: Uint8Array): UserNotice | null {
  const o = noticeObject(payload);
  if (o === null) return null;
  switch (o.type) {
    case "sessions.revoked": {
      const ids = o.sessionIds;
      if (ids === "all") return { type: o.type, sessionIds: "all" };
      if (Array.isArray(ids) && ids.every((s) => typeof s === "string"))
        return { type: o.type, sessionIds: ids };
      return null;
    }
    case "member.joined":
    case "member.left":
      if (typeof o.roomId !== "string" || typeof o.seq !== "number") return null;
      return { type: o.type, roomId: o.roomId, seq: o.seq };
    case "read":
      if (
        typeof o.roomId !== "string" ||
        typeof o.readSeq !== "number" ||
        typeof o.unreadCount !== "number" ||
        typeof o.origin !== "string" ||
        (o.countedSeq !== undefined && typeof o.countedSeq !== "number")
      )
        return null;
      return {
        type: "read",
        roomId: o.roomId,
        readSeq: o.readSeq,
        // A build before the cap counted on (rolling upgrade); capped, its count is the one this build's store
        // would have read.
        unreadCount: Math.min(o.unreadCount, UNREAD_COUNT_MAX),
        ...(o.countedSeq === undefined ? {} : { countedSeq: o.countedSeq }),
        origin: o.origin,
      };
    default:
      return null;
  }
}
