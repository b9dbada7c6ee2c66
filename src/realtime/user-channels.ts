import type { Logger } from "pino";
import type { Broker, BrokerHandler, BrokerSubscription } from "../ports/broker.ts";
import { userChannel, userOfChannel } from "./channels.ts";
import { parseUserNotice, type UserNotice } from "./user-notice.ts";

/**
 * A user's shared subscription. `ready` is the broker's pending subscribe until it resolves; from then on only
 * `subscription` is kept (a settled promise per idle user would be memory for nothing). A subscribe that failed
 * keeps its rejected `ready` until every waiter has released it.
 */
interface Entry {
  refs: number;
  ready: Promise<BrokerSubscription> | null;
  subscription: BrokerSubscription | null;
}

/**
 * One broker subscription to `user:{userId}` per user with at least one connection on this process, shared by
 * all of them. Notices are handed to `onNotice` once per process, whatever the number of local connections.
 *
 * Every user's subscription has the same handler, which reads the user id from the channel name: no closure per
 * user is kept alive by an idle connection.
 */
export class UserChannels {
  readonly #entries = new Map<string, Entry>();
  readonly #handler: BrokerHandler;

  constructor(
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
    let entry = this.#entries.get(userId);
    if (entry === undefined) {
      entry = {
        refs: 1,
        ready: this.broker.subscribe(userChannel(userId), this.#handler),
        subscription: null,
      };
      this.#entries.set(userId, entry);
    } else {
      entry.refs++;
    }
    const held = entry;
    const ready = held.ready;
    if (ready === null) return;
    try {
      held.subscription = await ready;
      held.ready = null;
    } catch (err) {
      this.release(userId, held);
      throw err;
    }
  }

  release(userId: string, entry = this.#entries.get(userId)): void {
    if (entry === undefined) return;
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.#entries.get(userId) === entry) this.#entries.delete(userId);
    const subscribed = entry.subscription === null ? entry.ready : Promise.resolve(entry.subscription);
    subscribed
      ?.then(
        (sub) => sub.unsubscribe(),
        () => {},
      )
      .catch((err: unknown) => this.logger.warn({ err }, "user channel unsubscribe failed"));
  }
}
