import type { Logger } from "pino";
import type { Broker, BrokerSubscription } from "../ports/broker.ts";
import { userChannel } from "./channels.ts";
import { parseUserNotice, type UserNotice } from "./user-notice.ts";

interface Entry {
  refs: number;
  ready: Promise<BrokerSubscription>;
}

/**
 * One broker subscription to `user:{userId}` per user with at least one connection on this process, shared by
 * all of them. Notices are handed to `onNotice` once per process, whatever the number of local connections.
 */
export class UserChannels {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly broker: Broker,
    private readonly onNotice: (userId: string, notice: UserNotice) => void,
    private readonly logger: Logger,
  ) {}

  /** Resolves once notices to the user reach this process; rejects (holding nothing) if the broker fails. */
  async acquire(userId: string): Promise<void> {
    let entry = this.#entries.get(userId);
    if (entry === undefined) {
      const ready = this.broker.subscribe(userChannel(userId), (payload) => {
        const notice = parseUserNotice(payload);
        if (notice !== null) this.onNotice(userId, notice);
      });
      entry = { refs: 1, ready };
      this.#entries.set(userId, entry);
    } else {
      entry.refs++;
    }
    const held = entry;
    try {
      await held.ready;
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
    entry.ready
      .then(
        (sub) => sub.unsubscribe(),
        () => {},
      )
      .catch((err: unknown) => this.logger.warn({ err }, "user channel unsubscribe failed"));
  }
}
