import { AppError } from "../domain/errors.ts";
import { roomTopic, userTopic } from "./channels.ts";
import type { Connection, NotificationsSubscription, RoomSubscription, Subscription } from "./connection.ts";
import { type GatewayContext, replyError } from "./context.ts";
import { subscribeTarget } from "./destinations.ts";
import { receiptFrame } from "./frames.ts";
import { seqOf } from "./json-body.ts";
import { replayThenGoLive } from "./resume.ts";
import { header, type StompFrame } from "./stomp/frame.ts";

/**
 * SUBSCRIBE. Membership is checked on every subscribe; a missing id or destination is a protocol error,
 * everything else that fails answers on /user/queue/errors and the connection stays open.
 */
export async function handleSubscribe(
  ctx: GatewayContext,
  conn: Connection,
  frame: StompFrame,
): Promise<void> {
  const id = header(frame, "id");
  const destination = header(frame, "destination");
  if (id === undefined || id === "" || destination === undefined) {
    conn.fail("MALFORMED_FRAME", "SUBSCRIBE needs id and destination headers.");
    return;
  }
  const receipt = header(frame, "receipt");
  try {
    if (conn.subscriptions.has(id)) {
      throw new AppError(
        "DUPLICATE_SUBSCRIPTION",
        "This connection already has a subscription with that id.",
      );
    }
    if (conn.subscriptions.size >= ctx.config.wsMaxSubscriptions) {
      throw new AppError(
        "TOO_MANY_SUBSCRIPTIONS",
        `At most ${ctx.config.wsMaxSubscriptions} subscriptions per connection.`,
      );
    }
    const target = subscribeTarget(destination);
    switch (target.kind) {
      case "room": {
        const since = header(frame, "since-seq");
        const live = await subscribeRoom(
          ctx,
          conn,
          id,
          target.roomId,
          since === undefined ? undefined : seqOf(since, "since-seq"),
        );
        if (!live) return;
        break;
      }
      case "notifications":
        await subscribeNotifications(ctx, conn, id, skipFollowedOf(header(frame, "skip-followed")));
        break;
      case "errors":
        conn.subscriptions.set(id, { kind: "errors", id });
        break;
      case "bad-room":
        throw new AppError("ROOM_NOT_FOUND");
      case "unknown":
        throw new AppError(
          "UNKNOWN_DESTINATION",
          "SUBSCRIBE destinations: /sub/chat/room/{roomId}, /user/queue/notifications, /user/queue/errors.",
        );
    }
    if (receipt !== undefined) conn.send(receiptFrame(receipt));
  } catch (err) {
    replyError(ctx, conn, err, receipt);
  }
}

/**
 * The subscription is reserved first (so removal from the room or UNSUBSCRIBE can cancel it while it is
 * being set up), then the hub is activated, then membership is checked: a member.left committed after that
 * check is delivered by the already active hub and ends the subscription.
 */
async function subscribeRoom(
  ctx: GatewayContext,
  conn: Connection,
  id: string,
  roomId: string,
  sinceSeq: number | undefined,
): Promise<boolean> {
  const principal = conn.principal;
  const ws = conn.ws;
  if (principal === null || ws === null) return false;
  const sub: RoomSubscription = {
    kind: "room",
    id,
    roomId,
    lease: null,
    live: false,
    cancelled: false,
  };
  conn.subscriptions.set(id, sub);
  try {
    sub.lease = await ctx.hubs.acquire(roomId);
    await ctx.services.rooms.requireMember(principal, roomId);
  } catch (err) {
    endRoomSubscription(ctx, conn, sub);
    throw err;
  }
  const hub = sub.lease.hub;
  // The hub's strings from now on: the subscription outlives this frame, the frame's copies need not.
  sub.roomId = hub.roomId;
  sub.id = hub.internSubscriptionId(id);
  const goLive = (): void => {
    hub.addSubscriber(sub.id);
    ws.subscribe(roomTopic(sub.roomId, sub.id));
    sub.live = true;
    ctx.presence.add(sub.roomId, principal.userId);
  };
  let live = false;
  if (sub.cancelled || !conn.isOpen) live = false;
  else if (sinceSeq === undefined) {
    goLive();
    live = true;
  } else {
    live = await replayThenGoLive(
      {
        messages: ctx.services.deps.store.messages,
        names: ctx.names,
        backlog: ctx.config.wsReplayBacklog,
        ephemeralId: ctx.nextMessageId,
      },
      hub,
      sinceSeq,
      conn,
      sub,
      goLive,
    );
  }
  if (!live) endRoomSubscription(ctx, conn, sub);
  return live;
}

/** The `skip-followed` header of a notifications SUBSCRIBE: absent or "false" is off, "true" on. */
function skipFollowedOf(value: string | undefined): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw new AppError("VALIDATION_FAILED", 'skip-followed must be "true" or "false".');
}

async function subscribeNotifications(
  ctx: GatewayContext,
  conn: Connection,
  id: string,
  skipFollowed: boolean,
): Promise<void> {
  const userId = conn.userId;
  if (userId === null || conn.ws === null) return;
  const topic = userTopic(userId, id);
  const sub: NotificationsSubscription = { kind: "notifications", id, skipFollowed };
  conn.subscriptions.set(id, sub);
  conn.ws.subscribe(topic);
  try {
    await ctx.notifications.subscribe(userId, id, skipFollowed ? conn : null);
  } catch (err) {
    conn.subscriptions.delete(id);
    conn.ws?.unsubscribe(topic);
    throw err;
  }
}

/** Ends a room subscription in whatever state it is; idempotent. */
export function endRoomSubscription(ctx: GatewayContext, conn: Connection, sub: RoomSubscription): void {
  sub.cancelled = true;
  if (conn.subscriptions.get(sub.id) === sub) conn.subscriptions.delete(sub.id);
  if (sub.live) {
    sub.live = false;
    if (conn.phase !== "closed") conn.ws?.unsubscribe(roomTopic(sub.roomId, sub.id));
    sub.lease?.hub.removeSubscriber(sub.id);
    if (conn.userId !== null) ctx.presence.remove(sub.roomId, conn.userId);
  }
  sub.lease?.release();
  sub.lease = null;
}

/** UNSUBSCRIBE: an unknown id is not an error (the subscription may already have ended on its own). */
export function handleUnsubscribe(ctx: GatewayContext, conn: Connection, frame: StompFrame): void {
  const id = header(frame, "id");
  if (id === undefined) {
    conn.fail("MALFORMED_FRAME", "UNSUBSCRIBE needs an id header.");
    return;
  }
  const sub = conn.subscriptions.get(id);
  if (sub !== undefined) endSubscription(ctx, conn, sub);
  const receipt = header(frame, "receipt");
  if (receipt !== undefined) conn.send(receiptFrame(receipt));
}

/** Ends any subscription of the connection; idempotent. */
export function endSubscription(ctx: GatewayContext, conn: Connection, sub: Subscription): void {
  switch (sub.kind) {
    case "room":
      endRoomSubscription(ctx, conn, sub);
      return;
    case "notifications":
      conn.subscriptions.delete(sub.id);
      if (conn.phase !== "closed" && conn.userId !== null)
        conn.ws?.unsubscribe(userTopic(conn.userId, sub.id));
      if (conn.userId !== null)
        ctx.notifications.unsubscribe(conn.userId, sub.id, sub.skipFollowed ? conn : null);
      return;
    case "errors":
      conn.subscriptions.delete(sub.id);
      return;
  }
}
