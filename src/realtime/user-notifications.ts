import type { Logger } from "pino";
import type { RoomRepository } from "../ports/store.ts";
import { userTopic } from "./channels.ts";
import type { Connection } from "./connection.ts";
import type { FrameId } from "./frame-ids.ts";
import { notificationHead, notificationTail } from "./frames.ts";
import type { HubEvent } from "./hub-event.ts";
import type { HubLease, HubRegistry } from "./hub-registry.ts";
import type { MessageNoticeBody, NotificationBody } from "./notification-body.ts";
import { addOne, type OneOrMany, removeOne, sizeOf } from "./one-or-many.ts";
import type { TopicPublisher } from "./room-hub.ts";
import { UnreadCount } from "./unread-count.ts";
import type { UserNotice } from "./user-notice.ts";

/**
 * A reference to the user's broker channel (`user:{userId}`), whose notices reach `Notifications.onNotice`:
 * UserChannels in the gateway. `acquire` takes the reference at once (before it first awaits), resolves once
 * notices reach this process and rejects holding nothing; each resolved `acquire` is matched by one `release`.
 */
export interface UserChannelRefs {
  acquire(userId: string): Promise<void>;
  release(userId: string): void;
}

/** What a user's state needs from the process (NotificationsDeps holds these and more). */
export interface UserNotificationsDeps {
  readonly hubs: HubRegistry;
  readonly rooms: Pick<RoomRepository, "roomIdsOf" | "readStatesOf">;
  readonly publisher: TopicPublisher;
  readonly logger: Logger;
  readonly messageId: () => FrameId;
  /**
   * The user's connection with this id if it is on this process, to leave it out of its own read notices (a read
   * notice goes to the channel of the user who read, so its origin is one of their connections).
   */
  readonly connection: (userId: string, id: string) => Connection | undefined;
  /** The user's channel: each state holds a reference from its set-up until it closes. */
  readonly userChannels: UserChannelRefs;
}

/** What every user's state of one process shares with the others. */
export interface UserNotificationsContext extends UserNotificationsDeps {
  /** Makes a `message` notice's body once per event for every member. */
  readonly messageBody: MessageNoticeBody;
  /** Told each time a state's counts may no longer be the store's (`reusable` has turned false). */
  readonly onStale: (state: UserNotifications) => void;
}

/** A room the user's state follows: its count (unread-count.ts) and the hub it hears the room's events from. */
class RoomState extends UnreadCount {
  lease: HubLease | null = null;
  /** Events seen before the counts were read; applied (above baseSeq) once they are. */
  buffered: HubEvent[] | null = [];

  constructor(readonly listener: (event: HubEvent) => void) {
    super();
  }
}

/** One subscription id of the user's notification subscriptions here, and what its frames need, made once. */
interface SubscriptionEntry {
  /** The local subscriptions with this id (several connections of the user may use the same id). */
  count: number;
  /**
   * The connections among them that subscribed with `skip-followed`: the one while one, an array from two, null
   * when none. A `message` notice is left out for this id only when every holder is one of these and follows
   * the message's room (any other holder needs it, and they share the topic).
   */
  skippers: OneOrMany<Connection>;
  readonly topic: string;
  /** The frame's part before the message-id (see notificationHead). */
  readonly head: string;
}

/**
 * One user's notification state on this process: their subscriptions here, the rooms it follows through the
 * hubs with an unread count each (read from the store, then moved by the rooms' events and the notices on the
 * user's channel), and the frames it publishes. `Notifications` keeps one per user and decides how long it lives
 * (lingering included); this class never removes itself, it only says when it may be stale (`onStale`).
 */
export class UserNotifications {
  /** Empty while the state lingers (and only then, unless it is closed). */
  readonly subscriptions = new Map<string, SubscriptionEntry>();
  readonly rooms = new Map<string, RoomState>();
  /** The set-up (`init`): the channel reference, the rooms followed, the counts read. */
  ready: Promise<void> = Promise.resolve();
  closed = false;
  /** Whether the state holds its reference to the user's channel (taken in init, given back by close). */
  holdsChannel = false;
  /**
   * False once the counts may differ from the store's in a way that only a fresh read corrects (a notice on the
   * user's channel may have been lost, a room could not be followed, a count was taken or moved inexactly: see
   * markStale's callers): the state then closes when its last subscription ends instead of lingering, so the
   * next subscription reads the store, as it always did.
   */
  reusable = true;
  /** While the state lingers, the timer that closes it (Notifications sets it); null otherwise. */
  lingering: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly userId: string,
    private readonly ctx: UserNotificationsContext,
  ) {}

  /** Counts one more local subscription with this id; `skipper` as in SubscriptionEntry.skippers. */
  addSubscription(subscriptionId: string, skipper: Connection | null): void {
    let entry = this.subscriptions.get(subscriptionId);
    if (entry !== undefined) entry.count++;
    else {
      entry = {
        count: 1,
        skippers: null,
        topic: userTopic(this.userId, subscriptionId),
        head: notificationHead(subscriptionId),
      };
      this.subscriptions.set(subscriptionId, entry);
    }
    if (skipper !== null) entry.skippers = addOne(entry.skippers, skipper);
  }

  /** Ends one local subscription with this id; its entry goes with the last, `skip-followed` connection included. */
  removeSubscription(subscriptionId: string, skipper: Connection | null): void {
    const entry = this.subscriptions.get(subscriptionId);
    if (entry !== undefined && entry.count > 1) {
      entry.count--;
      if (skipper !== null) entry.skippers = removeOne(entry.skippers, skipper);
    } else this.subscriptions.delete(subscriptionId);
  }

  /** The counts may no longer be the store's in a way only a fresh read corrects: see `reusable`. */
  markStale(): void {
    this.reusable = false;
    this.ctx.onStale(this);
  }

  /** Stops following every room and gives back the channel reference; the state is of no use afterwards. */
  close(): void {
    this.closed = true;
    if (this.lingering !== null) {
      clearTimeout(this.lingering);
      this.lingering = null;
    }
    for (const room of this.rooms.values()) this.#unfollow(room);
    this.rooms.clear();
    if (this.holdsChannel) {
      this.holdsChannel = false;
      this.ctx.userChannels.release(this.userId);
    }
  }

  /** A notice from the user's broker channel. */
  onNotice(notice: UserNotice): void {
    switch (notice.type) {
      case "member.joined":
        this.#notify(JSON.stringify({ type: "member.joined", roomId: notice.roomId, userId: this.userId }));
        if (!this.rooms.has(notice.roomId)) void this.#addRoomLate(notice.roomId);
        return;
      case "member.left": {
        const room = this.rooms.get(notice.roomId);
        this.rooms.delete(notice.roomId);
        if (room !== undefined) this.#unfollow(room);
        this.#notify(JSON.stringify({ type: "member.left", roomId: notice.roomId, userId: this.userId }));
        return;
      }
      case "read": {
        const room = this.rooms.get(notice.roomId);
        let unreadCount = notice.unreadCount;
        if (room !== undefined && notice.readSeq >= room.readSeq) {
          if (!room.applyRead(notice, room.buffered !== null)) this.markStale();
          unreadCount = room.unread;
        }
        const body: NotificationBody = {
          type: "read",
          roomId: notice.roomId,
          readSeq: notice.readSeq,
          unreadCount,
        };
        this.#notify(JSON.stringify(body), this.ctx.connection(this.userId, notice.origin));
        return;
      }
      case "sessions.revoked":
        // Every session ended (the user was deactivated): no connection of theirs can come back without a new
        // login, so a state left behind would be kept for nobody. The gateway closes the sockets themselves.
        if (notice.sessionIds === "all") this.markStale();
        return;
    }
  }

  /**
   * Takes the state's reference to the user's channel before anything is read, so no notice of the state's life
   * can be missed on its account, then follows the rooms and reads the counts. The reference is taken at once
   * (the subscribing connection holds one too); a failure to take it fails the set-up, which closes the state.
   */
  async init(): Promise<void> {
    await this.ctx.userChannels.acquire(this.userId);
    if (this.closed) {
      // Closed while the channel was being joined: close() had no reference to give back.
      this.ctx.userChannels.release(this.userId);
      return;
    }
    this.holdsChannel = true;
    const roomIds = await this.ctx.rooms.roomIdsOf(this.userId);
    await Promise.all(roomIds.map((roomId) => this.#follow(roomId)));
    await this.#loadCounts();
  }

  /**
   * Stops following a room. The listener is taken off the hub as well as the lease released: the hub lives on
   * while others on this process follow the room, and would otherwise keep notifying a user who left it.
   */
  #unfollow(room: RoomState): void {
    room.lease?.hub.listeners.delete(room.listener);
    room.lease?.release();
  }

  /** Follows a room's hub; its events are buffered until the counts are loaded. */
  async #follow(roomId: string): Promise<void> {
    if (this.closed || this.rooms.has(roomId)) return;
    const room = new RoomState((event) => this.#onRoomEvent(room, event));
    this.rooms.set(roomId, room);
    let lease: HubLease;
    try {
      lease = await this.ctx.hubs.acquire(roomId);
    } catch (err) {
      if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
      throw err;
    }
    if (this.closed || this.rooms.get(roomId) !== room) {
      lease.release();
      return;
    }
    room.lease = lease;
    lease.hub.listeners.add(room.listener);
  }

  /** Reads unread counts after the hubs are followed, so no event falls between the two. */
  async #loadCounts(): Promise<void> {
    const states = await this.ctx.rooms.readStatesOf(this.userId);
    if (this.closed) return;
    const current = new Set<string>();
    for (const s of states) {
      current.add(s.roomId);
      const room = this.rooms.get(s.roomId);
      if (room === undefined || room.buffered === null) continue;
      room.load(s);
      const buffered = room.buffered;
      room.buffered = null;
      for (const e of buffered) this.#onRoomEvent(room, e);
    }
    for (const [roomId, room] of this.rooms) {
      if (current.has(roomId) || room.buffered === null) continue;
      // Left between the two reads.
      this.rooms.delete(roomId);
      this.#unfollow(room);
    }
  }

  async #addRoomLate(roomId: string): Promise<void> {
    try {
      await this.ready;
      await this.#follow(roomId);
      await this.#loadCounts();
    } catch (err) {
      this.ctx.logger.warn({ err, roomId }, "could not follow a newly joined room");
      // The room is missing until the store is read again.
      this.markStale();
    }
  }

  /** Moves the room's count with its events (see UnreadCount) and notifies what moved it. */
  #onRoomEvent(room: RoomState, event: HubEvent): void {
    // A room's new details move no count, so they need not wait for the counts to be read.
    if (event.type === "room.updated") {
      this.#notify(event.json);
      return;
    }
    if (event.seq === null) return;
    if (room.buffered !== null) {
      room.buffered.push(event);
      return;
    }
    if (!room.accept(event.seq)) return;
    if (event.type === "member.left" && event.userId === this.userId) {
      // The user left: nothing later in the room's stream is theirs to see, even before the notice on their own
      // channel (which may come later) says so.
      if (this.rooms.get(event.roomId) === room) this.rooms.delete(event.roomId);
      this.#unfollow(room);
      return;
    }
    if (event.senderId === null || event.senderId === this.userId) return;
    if (event.type === "message") {
      // At the cap the count stays there ("that many or more"); the notice still goes out.
      room.onMessage(event.seq);
      const body = this.ctx.messageBody.of(event, event.seq, event.senderId);
      const count = String(room.unread);
      this.#notify(body.text(count), undefined, event.roomId, body.bytes(count));
    } else if (event.type === "message.deleted") {
      this.#onDeleted(room, event, event.seq);
    }
  }

  /**
   * Another member's message was deleted by an event above the count's `baseSeq`. A count that may now be
   * inexact (a deletion at the cap, or one without `messageSeq`, from a version that did not send it) is left as
   * it is until a subscription to come reads the store again (markStale).
   */
  #onDeleted(room: RoomState, event: HubEvent, seq: number): void {
    const effect = room.onDeleted(seq, event.messageSeq);
    if (effect === "none") return;
    if (effect !== "moved") this.markStale();
    if (event.messageSeq === null) return;
    const body: NotificationBody = {
      type: "message.deleted",
      roomId: event.roomId,
      messageSeq: event.messageSeq,
      unreadCount: room.unread,
    };
    this.#notify(JSON.stringify(body));
  }

  /**
   * One publish per distinct subscription id of `body` (serialised JSON); `except` (a local connection) does not
   * receive it. `followedRoom`, for a `message` notice: ids whose every holder skips notices of rooms it follows
   * and follows this one are left out. `bodyBytes`: the body's UTF-8 length, when the caller knows it.
   */
  #notify(body: string, except?: Connection, followedRoom?: string, bodyBytes?: number): void {
    if (this.subscriptions.size === 0) return;
    let tail: string | null = null;
    const ws = except?.isOpen ? except.ws : null;
    for (const sub of this.subscriptions.values()) {
      if (followedRoom !== undefined && sub.skippers !== null && allFollow(sub, followedRoom)) continue;
      tail ??= notificationTail(this.ctx.messageId(), body, bodyBytes);
      const frame = sub.head + tail;
      // A socket's own publish reaches every subscriber of the topic but itself.
      if (ws !== null) ws.publish(sub.topic, frame);
      else this.ctx.publisher.publish(sub.topic, frame);
    }
  }
}

/** Whether every holder of the id skipped followed rooms and follows `roomId` live. */
function allFollow(entry: SubscriptionEntry, roomId: string): boolean {
  const skippers = entry.skippers;
  if (skippers === null || sizeOf(skippers) !== entry.count) return false;
  if (!Array.isArray(skippers)) return skippers.subscriptions.followsRoom(roomId);
  for (const conn of skippers) if (!conn.subscriptions.followsRoom(roomId)) return false;
  return true;
}
