import { AppError } from "../domain/errors.ts";
import type { Principal } from "../services/principal.ts";
import type { Connection } from "./connection.ts";
import { type GatewayContext, replyError } from "./context.ts";
import { sendTarget } from "./destinations.ts";
import { receiptFrame } from "./frames.ts";
import { jsonObject, roomIdOf, seqOf } from "./json-body.ts";
import { header, type StompFrame } from "./stomp/frame.ts";
import type { WireTypingEvent } from "./wire.ts";

/** How long a client shows a typing indicator unless renewed. */
export const TYPING_EXPIRES_MS = 5000;
/** At most one typing event per user and room per this interval; more are dropped silently. */
export const TYPING_THROTTLE_MS = 1500;
/** How long a RECEIPT waits for the local fan-out of the message it acknowledges. */
const LOCAL_FANOUT_WAIT_MS = 1000;

/**
 * SEND. Application failures (validation, membership, rate limit) answer on /user/queue/errors with the
 * frame's receipt id, and the connection stays open; a SEND without destination is a protocol error.
 *
 * A message SEND is pipelined: this returns once its message is handed to the store (or it failed before that),
 * so the connection's next frame is handled while the message commits; its RECEIPT or error follows once it is
 * committed and fanned out, in frame order (Connection.replyInOrder). The store keeps the order in which appends
 * are handed to it, so a client's messages are still stored in the order it sent them.
 */
export async function handleSend(ctx: GatewayContext, conn: Connection, frame: StompFrame): Promise<void> {
  const destination = header(frame, "destination");
  if (destination === undefined) {
    conn.fail("MALFORMED_FRAME", "SEND needs a destination header.");
    return;
  }
  const receipt = header(frame, "receipt");
  const principal = conn.principal;
  if (principal === null) return;
  try {
    switch (sendTarget(destination)) {
      case "message": {
        let handedOver!: () => void;
        const queued = new Promise<void>((resolve) => {
          handedOver = resolve;
        });
        const finished = sendMessage(ctx, conn, principal, frame, receipt, handedOver).then(
          (reply) => reply,
          (err: unknown) => () => replyError(ctx, conn, err, receipt),
        );
        void finished.then(handedOver);
        conn.replyInOrder(finished, (err) => ctx.logger.error({ err, conn: conn.id }, "SEND reply failed"));
        await queued;
        return;
      }
      case "typing":
        await sendTyping(ctx, conn, principal, frame);
        break;
      case "read":
        await sendRead(ctx, conn, principal, frame, receipt);
        return;
      case "unknown":
        throw new AppError("UNKNOWN_DESTINATION", "SEND destinations: /pub/message, /pub/typing, /pub/read.");
    }
    if (receipt !== undefined) conn.send(receiptFrame(receipt));
  } catch (err) {
    replyError(ctx, conn, err, receipt);
  }
}

/** Whether a frame is a pipelined SEND (see handleSend); any other frame waits for their replies first. */
export function isPipelined(frame: StompFrame): boolean {
  if (frame.command !== "SEND") return false;
  const destination = header(frame, "destination");
  return destination !== undefined && sendTarget(destination) === "message";
}

/**
 * Commit, then fan-out, then RECEIPT: the receipt is sent only after the store has the message, the broker has
 * accepted its event, and (when this process has subscribers of the room) the event has been handed to them.
 * A retried client-msg-id gets the original id and seq; nothing is stored or fanned out again. `handedOver` is
 * called once the message is handed to the store; the result is the reply to send, in frame order.
 */
async function sendMessage(
  ctx: GatewayContext,
  conn: Connection,
  principal: Principal,
  frame: StompFrame,
  receipt: string | undefined,
  handedOver: () => void,
): Promise<() => void> {
  const body = jsonObject(frame.body);
  const roomId = roomIdOf(body);
  if (typeof body.message !== "string") throw new AppError("VALIDATION_FAILED", "message must be a string.");
  const clientMsgId = header(frame, "client-msg-id") ?? null;
  const { wsSendBurst, wsSendRatePerSecond } = ctx.config;
  // The sender's WebSocket budget is taken with the room's, in one step (MessageService.send).
  const { message } = await ctx.services.messages.send(principal, roomId, body.message, clientMsgId, {
    handedOver,
    senderBucket: {
      key: `ws-send:${principal.userId}`,
      limit: { capacity: wsSendBurst, refillPerSecond: wsSendRatePerSecond },
    },
  });
  await ctx.events.settled(roomId);
  await ctx.hubs.get(roomId)?.whenDelivered(message.seq, LOCAL_FANOUT_WAIT_MS);
  return () => {
    if (receipt !== undefined) {
      conn.send(
        receiptFrame(receipt, [
          ["message-id", message.id],
          ["seq", String(message.seq)],
        ]),
      );
    }
  };
}

/**
 * An ephemeral typing event to the room: not stored, no seq, throttled per user and room.
 *
 * A room too large for typing on a process (RoomHubDeps.typingMaxSubscribers) drops typing events where they are
 * delivered. A typing SEND from a connection that follows the room live, on a process where the room is that
 * large, is dropped here already: no membership read and no broker publish (on four processes that saves the
 * servers about 0.4 ms of CPU and PostgreSQL 0.1 ms per event, docs/benchmarks/optimizations.md, "Typing off in
 * large rooms"). Members on processes where the room is small then miss it too, which only a room spread that
 * unevenly shows. Following the room live means the connection was authorized as a member when it subscribed, and
 * a member who leaves loses the subscription, so an outsider still gets ROOM_NOT_FOUND, never a hint of the room's
 * size.
 */
async function sendTyping(
  ctx: GatewayContext,
  conn: Connection,
  principal: Principal,
  frame: StompFrame,
): Promise<void> {
  const roomId = roomIdOf(jsonObject(frame.body));
  const key = `${principal.userId}:${roomId}`;
  const now = ctx.clock.now();
  const last = ctx.typingSentAt.get(key);
  if (last !== undefined && now - last < TYPING_THROTTLE_MS) return;
  ctx.typingSentAt.set(key, now);
  if (ctx.hubs.get(roomId)?.dropsTyping === true && conn.subscriptions.followsRoom(roomId)) return;
  await ctx.services.rooms.requireMember(principal, roomId);
  const event: WireTypingEvent = {
    type: "typing",
    roomId,
    userId: principal.userId,
    expiresInMs: TYPING_EXPIRES_MS,
  };
  await ctx.events.publishEphemeral(roomId, JSON.stringify(event));
}

/** Moves the read marker; the user's other connections (on any process) get a `read` notification. */
async function sendRead(
  ctx: GatewayContext,
  conn: Connection,
  principal: Principal,
  frame: StompFrame,
  receipt: string | undefined,
): Promise<void> {
  const body = jsonObject(frame.body);
  const roomId = roomIdOf(body);
  const seq = seqOf(body.seq, "seq");
  // The service announces the read (a `read` notice to the user's other connections, not this one).
  const { readSeq, unreadCount } = await ctx.services.rooms.markRead(principal, roomId, seq, conn.id);
  if (receipt !== undefined) {
    conn.send(
      receiptFrame(receipt, [
        ["read-seq", String(readSeq)],
        ["unread-count", String(unreadCount)],
      ]),
    );
  }
}
