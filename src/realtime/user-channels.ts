import type { Logger } from "pino";
import type { Broker, BrokerHandler, BrokerSubscription } from "../ports/broker.ts";
import { userChannel, userOfChannel } from "./channels.ts";
import type { LocalUsers } from "./local-users.ts";
import { parseUserNotice, type UserNotice } from "./user-notice.ts";

/**
 * One broker subscription to `user:{userId}` per user with at least one connection or notification state on this
 * process, shared by all of them. Notices are handed to `onNotice` once per process, whatever the number of local
 * connections. A connection holds a reference from CONNECT until it closes; a notification state holds its own
 * from its set-up until it closes, so one that lingers after the user's last connection (notifications.ts) still
 * receives their notices.
 *
 * The state is kept in the user's record (local-users.ts), whose `channelRefs` and `channel` this class alone
 * owns: the number of references, and the broker's pending subscribe until it resolves, from then on only the
 * subscription (a settled promise per idle user would be memory for nothing). A subscribe that failed keeps its
 * rejected promise until every waiter has released its reference, so each of them sees the failure.
 *
 * Every user's subscription has the same handler, which reads the user id from the channel name: no closure per
 * user is kept alive by an idle connection.
 */
export class UserChannels {
  readonly #handler: BrokerHandler;

  constructor(
    private readonly users: LocalUsers,
    private readonly broker: Broker,
    onNotice: (userId: string, notice: UserNotice) => void,
    private readonly logger: Logger,
  ) {
    this.#handler = (payload, channel) => {
      const notice = parseUserNotice(payload);
      if (notice !== null) onNotice(userOfChannel(channel), notice);
    };
  }

  /** Resolves once notices to the user reach this process; rejects (holding nothing) if the broker fails. */
  async acquire(userId: string): Promise<void> {
    const user = this.users.obtain(userId);
    if (user.channelRefs === 0) user.channel = this.broker.subscribe(userChannel(userId), this.#handler);
    user.channelRefs++;
    const pending = user.channel;
    if (!(pending instanceof Promise)) return;
    try {
      const subscription = await pending;
      // Still the same subscribe: this caller's reference kept the count above 0 since it was made.
      if (user.channel === pending) user.channel = subscription;
    } catch (err) {
      this.release(userId);
      throw err;
    }
  }

  /** Drops one reference; the last one unsubscribes (once the subscribe has settled, if it succeeded). */
  release(userId: string): void {
    const user = this.users.get(userId);
    if (user === undefined || user.channelRefs === 0) return;
    user.channelRefs--;
    if (user.channelRefs > 0) return;
    const channel = user.channel;
    user.channel = null;
    this.users.dropIfUnused(user);
    const subscribed: Promise<BrokerSubscription> | null =
      channel instanceof Promise || channel === null ? channel : Promise.resolve(channel);
    subscribed
      ?.then(
        (sub) => sub.unsubscribe(),
        () => {},
      )
      .catch((err: unknown) => this.logger.warn({ err }, "user channel unsubscribe failed"));
  }
}
