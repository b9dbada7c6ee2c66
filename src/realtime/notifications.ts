import type { Logger } from "pino";
import type { Broker } from "../ports/broker.ts";
import type { RoomRepository } from "../ports/store.ts";
import { userTopic } from "./channels.ts";
import type { Connection } from "./connection.ts";
import { notificationHead, notificationTail } from "./frames.ts";
import type { HubEvent } from "./hub-event.ts";
import type { HubLease, HubRegistry } from "./hub-registry.ts";
import { MessageNoticeBody, type NotificationBody } from "./notification-body.ts";
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

/**
 * How long a user's notification state is kept after their last subscription on this process ends, for a
 * subscription of theirs that comes back (see "Lingering after the last subscription" in docs/realtime.md):
 * a client back from a dropped socket, a deploy or a reconnect storm resubscribes within seconds (the bench
 * storm within about 1 s; @stomp/stompjs retries after 5 s by default), and 20 s leaves room for a retry or two
 * after that. Longer would mostly keep following the rooms of users who are gone for good.
 */
export const NOTIFICATIONS_LINGER_MS = 20_000;

export interface NotificationsDeps {
  readonly hubs: HubRegistry;
  readonly rooms: Pick<RoomRepository, "roomIdsOf" | "readStatesOf">;
  readonly publisher: TopicPublisher;
  readonly logger: Logger;
  readonly messageId: () => string;
  /**
   * The user's connection with this id if it is on this process, to leave it out of its own read notices (a read
   * notice goes to the channel of the user who read, so its origin is one of their connections).
   */
  readonly connection: (userId: string, id: string) => Connection | undefined;
  /** The user's channel: each state holds a reference from its set-up until it closes. */
  readonly userChannels: UserChannelRefs;
  /** Its resyncs say that notices on user channels may have been lost. */
  readonly broker: Pick<Broker, "onResync">;
  /** How long a state lingers after its last subscription (NOTIFICATIONS_LINGER_MS); 0 closes it at once. */
  readonly lingerMs: number;
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

interface UserState {
  readonly userId: string;
  /** Empty while the state lingers (and only then, unless it is closed). */
  readonly subscriptions: Map<string, SubscriptionEntry>;
  readonly rooms: Map<string, RoomState>;
  ready: Promise<void>;
  closed: boolean;
  /** Whether the state holds its reference to the user's channel (taken in #init, given back by #close). */
  holdsChannel: boolean;
  /**
   * False once the counts may differ from the store's in a way that only a fresh read corrects (a notice on the
   * user's channel may have been lost, a room could not be followed, a count was taken or moved inexactly: see
   * #mayBeStale's callers): the state then closes when its last subscription ends instead of lingering, so the
   * next subscription reads the store, as it always did.
   */
  reusable: boolean;
  /** While the state lingers, the timer that closes it; null otherwise. */
  lingering: ReturnType<typeof setTimeout> | null;
}

/**
 * Each user's own stream, on every process that holds one of their /user/queue/notifications subscriptions:
 * that process follows all the user's rooms (through the room hubs) and keeps the unread count per room in
 * memory, starting from the store and moving with the events it sees and the read notices on the user's
 * channel. A room's `room.updated` event is forwarded as it is, so a room list learns of a rename or a new owner
 * from the one room publish, with no message per member. Frames go to topic `u:{userId}:{subscriptionId}`, one
 * publish per distinct subscription id.
 *
 * When the user's last subscription here ends, the state lingers for `lingerMs` instead of closing: it keeps
 * following the rooms (counts move, nothing is sent) and keeps its own reference to the user's channel (held for
 * its whole life, so reads and membership changes still reach it after the user's last connection has gone), and
 * a subscription of the user within that time takes it over as it is, with no store read and no hub to acquire.
 * Its counts are then what a subscription that never ended would hold. A state that may have fallen behind the
 * store (`UserState.reusable`), or whose set-up failed, is closed rather than kept; so is every state on a broker
 * resync (a notice may have been lost), on `close()`, and when the period ends with no subscription.
 */
export class Notifications {
  readonly #users = new Map<string, UserState>();
  readonly #messageBody = new MessageNoticeBody();
  readonly #stopResync: () => void;
  /** Set by close(): nothing lingers from then on. */
  #shutDown = false;

  constructor(private readonly deps: NotificationsDeps) {
    this.#stopResync = deps.broker.onResync(() => this.#onResync());
  }

  /**
   * Adds a subscription; resolves once the unread counts are known and every room is followed. `skipper` is the
   * connection when it subscribed with `skip-followed` (see SubscriptionEntry.skippers). A lingering state of the
   * user is taken over as it is (resolving at once if its set-up is done); otherwise one is set up from the store.
   */
  async subscribe(userId: string, subscriptionId: string, skipper: Connection | null = null): Promise<void> {
    let state = this.#users.get(userId);
    if (state !== undefined && state.lingering !== null) {
      clearTimeout(state.lingering);
      state.lingering = null;
    }
    if (state === undefined) {
      const created: UserState = {
        userId,
        subscriptions: new Map(),
        rooms: new Map(),
        ready: Promise.resolve(),
        closed: false,
        holdsChannel: false,
        reusable: true,
        lingering: null,
      };
      created.ready = this.#init(created);
      created.ready.catch((err: unknown) => {
        this.deps.logger.warn({ err }, "notifications set-up failed");
        // Forget the failed state so the next subscription tries afresh; its subscribers are told by the caller.
        if (this.#users.get(userId) === created) this.#close(created);
      });
      this.#users.set(userId, created);
      state = created;
    }
    let entry = state.subscriptions.get(subscriptionId);
    if (entry !== undefined) entry.count++;
    else {
      entry = {
        count: 1,
        skippers: null,
        topic: userTopic(userId, subscriptionId),
        head: notificationHead(subscriptionId),
      };
      state.subscriptions.set(subscriptionId, entry);
    }
    if (skipper !== null) entry.skippers = addOne(entry.skippers, skipper);
    await state.ready;
  }

  /**
   * Ends a subscription made with the same arguments. The user's last one here leaves the state lingering (see
   * the class comment), or closes it when it is not to be kept. Its entry goes with it, `skip-followed`
   * connection included: a lingering state holds no connection.
   */
  unsubscribe(userId: string, subscriptionId: string, skipper: Connection | null = null): void {
    const state = this.#users.get(userId);
    if (state === undefined) return;
    const entry = state.subscriptions.get(subscriptionId);
    if (entry !== undefined && entry.count > 1) {
      entry.count--;
      if (skipper !== null) entry.skippers = removeOne(entry.skippers, skipper);
    } else state.subscriptions.delete(subscriptionId);
    if (state.subscriptions.size === 0 && state.lingering === null) this.#idle(state);
  }

  /** Closes every state, lingering or not, and keeps none from then on; for the gateway's shutdown. */
  close(): void {
    this.#shutDown = true;
    this.#stopResync();
    for (const state of [...this.#users.values()]) this.#close(state);
  }

  /** Number of users with a state here, lingering ones included (for tests and metrics). */
  get size(): number {
    return this.#users.size;
  }

  /**
   * The last subscription ended: the state lingers for `lingerMs`, unless it is not to be kept. One still being
   * set up lingers too, its set-up going on (a failure closes it as ever); one whose set-up failed is no longer
   * the user's state and was closed already.
   */
  #idle(state: UserState): void {
    if (this.#shutDown || !state.reusable || this.deps.lingerMs <= 0 || state.closed) {
      this.#close(state);
      return;
    }
    const timer = setTimeout(() => {
      if (state.lingering === timer) this.#close(state);
    }, this.deps.lingerMs);
    // A lingering state must not keep the process alive on its own.
    timer.unref?.();
    state.lingering = timer;
  }

  /**
   * The counts may no longer be the store's in a way only a fresh read corrects: the state is not kept past its
   * last subscription, and goes now if it is lingering (a subscription to come reads the store again).
   */
  #mayBeStale(state: UserState): void {
    state.reusable = false;
    if (state.lingering !== null) this.#close(state);
  }

  /** Notices on any user's channel may have been lost, and no state can tell whether its were. */
  #onResync(): void {
    for (const state of [...this.#users.values()]) this.#mayBeStale(state);
  }

  #close(state: UserState): void {
    state.closed = true;
    if (state.lingering !== null) {
      clearTimeout(state.lingering);
      state.lingering = null;
    }
    if (this.#users.get(state.userId) === state) this.#users.delete(state.userId);
    for (const room of state.rooms.values()) this.#unfollow(room);
    state.rooms.clear();
    if (state.holdsChannel) {
      state.holdsChannel = false;
      this.deps.userChannels.release(state.userId);
    }
  }

  /**
   * Stops following a room. The listener is taken off the hub as well as the lease released: the hub lives on
   * while others on this process follow the room, and would otherwise keep notifying a user who left it.
   */
  #unfollow(room: RoomState): void {
    room.lease?.hub.listeners.delete(room.listener);
    room.lease?.release();
  }

  /** A notice from the user's broker channel. */
  onNotice(userId: string, notice: UserNotice): void {
    const state = this.#users.get(userId);
    if (state === undefined) return;
    switch (notice.type) {
      case "member.joined":
        this.#notify(state, JSON.stringify({ type: "member.joined", roomId: notice.roomId, userId }));
        if (!state.rooms.has(notice.roomId)) void this.#addRoomLate(state, notice.roomId);
        return;
      case "member.left": {
        const room = state.rooms.get(notice.roomId);
        state.rooms.delete(notice.roomId);
        if (room !== undefined) this.#unfollow(room);
        this.#notify(state, JSON.stringify({ type: "member.left", roomId: notice.roomId, userId }));
        return;
      }
      case "read": {
        const room = state.rooms.get(notice.roomId);
        let unreadCount = notice.unreadCount;
        if (room !== undefined && notice.readSeq >= room.readSeq) {
          if (!room.applyRead(notice, room.buffered !== null)) this.#mayBeStale(state);
          unreadCount = room.unread;
        }
        const body: NotificationBody = {
          type: "read",
          roomId: notice.roomId,
          readSeq: notice.readSeq,
          unreadCount,
        };
        this.#notify(state, JSON.stringify(body), this.deps.connection(userId, notice.origin));
        return;
      }
      case "sessions.revoked":
        // Every session ended (the user was deactivated): no connection of theirs can come back without a new
        // login, so a state left behind would be kept for nobody. The gateway closes the sockets themselves.
        if (notice.sessionIds === "all") this.#mayBeStale(state);
        return;
    }
  }

  /** The frame for one subscription of one connection (used for session.revoked, sent before the close). */
  frameFor(subscriptionId: string, body: NotificationBody): string {
    return notificationHead(subscriptionId) + notificationTail(this.deps.messageId(), JSON.stringify(body));
  }

  /**
   * Takes the state's reference to the user's channel before anything is read, so no notice of the state's life
   * can be missed on its account, then follows the rooms and reads the counts. The reference is taken at once
   * (the subscribing connection holds one too); a failure to take it fails the set-up, which closes the state.
   */
  async #init(state: UserState): Promise<void> {
    await this.deps.userChannels.acquire(state.userId);
    if (state.closed) {
      // Closed while the channel was being joined: #close had no reference to give back.
      this.deps.userChannels.release(state.userId);
      return;
    }
    state.holdsChannel = true;
    const roomIds = await this.deps.rooms.roomIdsOf(state.userId);
    await Promise.all(roomIds.map((roomId) => this.#follow(state, roomId)));
    await this.#loadCounts(state);
  }

  /** Follows a room's hub; its events are buffered until the counts are loaded. */
  async #follow(state: UserState, roomId: string): Promise<void> {
    if (state.closed || state.rooms.has(roomId)) return;
    const room = new RoomState((event) => this.#onRoomEvent(state, room, event));
    state.rooms.set(roomId, room);
    let lease: HubLease;
    try {
      lease = await this.deps.hubs.acquire(roomId);
    } catch (err) {
      if (state.rooms.get(roomId) === room) state.rooms.delete(roomId);
      throw err;
    }
    if (state.closed || state.rooms.get(roomId) !== room) {
      lease.release();
      return;
    }
    room.lease = lease;
    lease.hub.listeners.add(room.listener);
  }

  /** Reads unread counts after the hubs are followed, so no event falls between the two. */
  async #loadCounts(state: UserState): Promise<void> {
    const states = await this.deps.rooms.readStatesOf(state.userId);
    if (state.closed) return;
    const current = new Set<string>();
    for (const s of states) {
      current.add(s.roomId);
      const room = state.rooms.get(s.roomId);
      if (room === undefined || room.buffered === null) continue;
      room.load(s);
      const buffered = room.buffered;
      room.buffered = null;
      for (const e of buffered) this.#onRoomEvent(state, room, e);
    }
    for (const [roomId, room] of state.rooms) {
      if (current.has(roomId) || room.buffered === null) continue;
      // Left between the two reads.
      state.rooms.delete(roomId);
      this.#unfollow(room);
    }
  }

  async #addRoomLate(state: UserState, roomId: string): Promise<void> {
    try {
      await state.ready;
      await this.#follow(state, roomId);
      await this.#loadCounts(state);
    } catch (err) {
      this.deps.logger.warn({ err, roomId }, "could not follow a newly joined room");
      // The room is missing until the store is read again.
      this.#mayBeStale(state);
    }
  }

  /** Moves the room's count with its events (see UnreadCount) and notifies what moved it. */
  #onRoomEvent(state: UserState, room: RoomState, event: HubEvent): void {
    // A room's new details move no count, so they need not wait for the counts to be read.
    if (event.type === "room.updated") {
      this.#notify(state, event.json);
      return;
    }
    if (event.seq === null) return;
    if (room.buffered !== null) {
      room.buffered.push(event);
      return;
    }
    if (!room.accept(event.seq)) return;
    if (event.type === "member.left" && event.userId === state.userId) {
      // The user left: nothing later in the room's stream is theirs to see, even before the notice on their own
      // channel (which may come later) says so.
      if (state.rooms.get(event.roomId) === room) state.rooms.delete(event.roomId);
      this.#unfollow(room);
      return;
    }
    if (event.senderId === null || event.senderId === state.userId) return;
    if (event.type === "message") {
      // At the cap the count stays there ("that many or more"); the notice still goes out.
      room.onMessage(event.seq);
      const body = this.#messageBody.of(event, event.seq, event.senderId);
      const count = String(room.unread);
      this.#notify(state, body.text(count), undefined, event.roomId, body.bytes(count));
    } else if (event.type === "message.deleted") {
      this.#onDeleted(state, room, event, event.seq);
    }
  }

  /**
   * Another member's message was deleted by an event above the count's `baseSeq`. A count that may now be
   * inexact (a deletion at the cap, or one without `messageSeq`, from a version that did not send it) is left as
   * it is until a subscription to come reads the store again (#mayBeStale).
   */
  #onDeleted(state: UserState, room: RoomState, event: HubEvent, seq: number): void {
    const effect = room.onDeleted(seq, event.messageSeq);
    if (effect === "none") return;
    if (effect !== "moved") this.#mayBeStale(state);
    if (event.messageSeq === null) return;
    const body: NotificationBody = {
      type: "message.deleted",
      roomId: event.roomId,
      messageSeq: event.messageSeq,
      unreadCount: room.unread,
    };
    this.#notify(state, JSON.stringify(body));
  }

  /**
   * One publish per distinct subscription id of `body` (serialised JSON); `except` (a local connection) does not
   * receive it. `followedRoom`, for a `message` notice: ids whose every holder skips notices of rooms it follows
   * and follows this one are left out. `bodyBytes`: the body's UTF-8 length, when the caller knows it.
   */
  #notify(
    state: UserState,
    body: string,
    except?: Connection,
    followedRoom?: string,
    bodyBytes?: number,
  ): void {
    if (state.subscriptions.size === 0) return;
    let tail: string | null = null;
    const ws = except?.isOpen ? except.ws : null;
    for (const sub of state.subscriptions.values()) {
      if (followedRoom !== undefined && sub.skippers !== null && allFollow(sub, followedRoom)) continue;
      tail ??= notificationTail(this.deps.messageId(), body, bodyBytes);
      const frame = sub.head + tail;
      // A socket's own publish reaches every subscriber of the topic but itself.
      if (ws !== null) ws.publish(sub.topic, frame);
      else this.deps.publisher.publish(sub.topic, frame);
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
