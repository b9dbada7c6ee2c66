import type { MessageRepository } from "../ports/store.ts";
import { roomDestination } from "./channels.ts";
import type { Connection, RoomSubscription } from "./connection.ts";
import { roomEventTemplate } from "./frames.ts";
import { hubEventFromStore, hubEventFromWire } from "./hub-event.ts";
import type { RoomHub } from "./room-hub.ts";
import { TextMessageTemplate } from "./text-frames.ts";
import type { UserNames } from "./user-names.ts";
import type { WireResetEvent } from "./wire.ts";

export interface ResumeDeps {
  readonly messages: Pick<MessageRepository, "listEvents">;
  readonly names: UserNames;
  /** Most events replayed before a reset is sent instead. */
  readonly backlog: number;
  readonly ephemeralId: () => string;
}

/** Events read per store query during a replay. */
const REPLAY_BATCH = 200;

/**
 * Replays the stored events after `sinceSeq` to one subscription, then makes it live — without buffering and
 * with no gap or duplicate at the seam. The hub's lastSeq H moves in the same synchronous step as each live
 * delivery, so: while the cursor is below H, read (cursor, H] from the store and send it; once the cursor has
 * reached H, `goLive` (which subscribes the socket to the topic) runs in the same tick as that check, so the
 * next live event, H+1, reaches the socket through the topic and nothing before it does.
 *
 * If the remaining gap exceeds the backlog, one `reset` event with latestSeq H is sent instead and the
 * subscription goes live at H: the client refetches history up to H by REST.
 *
 * When the hub still holds every event of (cursor, H] (RoomHub.recentAfter: the last ones it published, as the
 * store would replay them now), they are sent from memory — the same frames, back to back in one WebSocket
 * message — and the subscription goes live in the same synchronous step, so the seam argument is unchanged and
 * the store is not read. This is checked before each store read, so a long replay can also finish from memory.
 *
 * Returns whether the subscription went live (false when it was cancelled or the socket closed meanwhile).
 */
export async function replayThenGoLive(
  deps: ResumeDeps,
  hub: RoomHub,
  sinceSeq: number,
  conn: Connection,
  sub: RoomSubscription,
  goLive: () => void,
): Promise<boolean> {
  const destination = roomDestination(hub.roomId);
  let cursor = sinceSeq;
  for (;;) {
    if (sub.cancelled || !conn.isOpen) return false;
    const head = hub.lastSeq;
    if (cursor >= head) {
      goLive();
      return true;
    }
    if (head - cursor > deps.backlog) {
      const reset: WireResetEvent = { type: "reset", roomId: hub.roomId, latestSeq: head };
      const frame = roomEventTemplate(hubEventFromWire(reset), destination, deps.ephemeralId).forSubscription(
        sub.id,
      );
      if (!conn.send(frame)) return false;
      goLive();
      return true;
    }
    // No await from reading H above to goLive below.
    const recent = hub.recentTemplatesAfter(cursor);
    if (recent !== null) {
      if (!conn.send(TextMessageTemplate.joinForSubscription(recent, sub.id))) return false;
      goLive();
      return true;
    }
    const events = await deps.messages.listEvents(hub.roomId, cursor, Math.min(REPLAY_BATCH, head - cursor));
    if (events.length === 0) {
      // The store is behind what this process already delivered, which cannot happen with one store; going
      // live is the only way forward.
      goLive();
      return true;
    }
    for (const e of events) {
      if (e.seq <= cursor) continue;
      const senderId = e.message?.senderId;
      const name =
        senderId === undefined ? "" : (deps.names.peek(senderId) ?? (await deps.names.get(senderId)));
      const frame = roomEventTemplate(
        hubEventFromStore(e, name),
        destination,
        deps.ephemeralId,
      ).forSubscription(sub.id);
      if (sub.cancelled || !conn.send(frame)) return false;
      cursor = e.seq;
    }
  }
}
