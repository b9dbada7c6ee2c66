import type { Broker } from "../ports/broker.ts";
import type { Connection } from "./connection.ts";
import { notificationHead, notificationTail } from "./frames.ts";
import { MessageNoticeBody, type NotificationBody } from "./notification-body.ts";
import type { UserNotice } from "./user-notice.ts";
import {
  UserNotifications,
  type UserNotificationsContext,
  type UserNotificationsDeps,
} from "./user-notifications.ts";

/**
 * How long a user's notification state is kept after their last subscription on this process ends, for a
 * subscription of theirs that comes back (see "Lingering after the last subscription" in docs/realtime.md):
 * a client back from a dropped socket, a deploy or a reconnect storm resubscribes within seconds (the bench
 * storm within about 1 s; @stomp/stompjs retries after 5 s by default), and 20 s leaves room for a retry or two
 * after that. Longer would mostly keep following the rooms of users who are gone for good.
 */
export const NOTIFICATIONS_LINGER_MS = 20_000;

export interface NotificationsDeps extends UserNotificationsDeps {
  /** Its resyncs say that notices on user channels may have been lost. */
  readonly broker: Pick<Broker, "onResync">;
  /** How long a state lingers after its last subscription (NOTIFICATIONS_LINGER_MS); 0 closes it at once. */
  readonly lingerMs: number;
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
 * store (`UserNotifications.reusable`), or whose set-up failed, is closed rather than kept; so is every state on
 * a broker resync (a notice may have been lost), on `close()`, and when the period ends with no subscription.
 *
 * One user's state itself — subscriptions, followed rooms, counts, frames — is `UserNotifications`
 * (user-notifications.ts); this class keeps one per user and decides how long each lives.
 */
export class Notifications {
  readonly #users = new Map<string, UserNotifications>();
  /** What every user's state shares (user-notifications.ts). */
  readonly #ctx: UserNotificationsContext;
  readonly #stopResync: () => void;
  /** Set by close(): nothing lingers from then on. */
  #shutDown = false;

  constructor(private readonly deps: NotificationsDeps) {
    this.#ctx = {
      ...deps,
      messageBody: new MessageNoticeBody(),
      onStale: (state) => {
        // A lingering state that may be stale goes now: a subscription to come reads the store again.
        if (state.lingering !== null) this.#close(state);
      },
    };
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
      const created = new UserNotifications(userId, this.#ctx);
      created.ready = created.init();
      created.ready.catch((err: unknown) => {
        this.deps.logger.warn({ err }, "notifications set-up failed");
        // Forget the failed state so the next subscription tries afresh; its subscribers are told by the caller.
        if (this.#users.get(userId) === created) this.#close(created);
      });
      this.#users.set(userId, created);
      state = created;
    }
    state.addSubscription(subscriptionId, skipper);
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
    state.removeSubscription(subscriptionId, skipper);
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

  /** A notice from the user's broker channel, for their state here if there is one. */
  onNotice(userId: string, notice: UserNotice): void {
    this.#users.get(userId)?.onNotice(notice);
  }

  /** The frame for one subscription of one connection (used for session.revoked, sent before the close). */
  frameFor(subscriptionId: string, body: NotificationBody): string {
    return notificationHead(subscriptionId) + notificationTail(this.deps.messageId(), JSON.stringify(body));
  }

  /**
   * The last subscription ended: the state lingers for `lingerMs`, unless it is not to be kept. One still being
   * set up lingers too, its set-up going on (a failure closes it as ever); one whose set-up failed is no longer
   * the user's state and was closed already.
   */
  #idle(state: UserNotifications): void {
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

  /** Notices on any user's channel may have been lost, and no state can tell whether its were. */
  #onResync(): void {
    for (const state of [...this.#users.values()]) state.markStale();
  }

  #close(state: UserNotifications): void {
    if (this.#users.get(state.userId) === state) this.#users.delete(state.userId);
    state.close();
  }
}
