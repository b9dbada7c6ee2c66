import { StringMap } from "../lib/string-map.ts";
import type { BrokerSubscription } from "../ports/broker.ts";
import type { Connection } from "./connection.ts";
import type { OneOrMany } from "./one-or-many.ts";

/**
 * What this process keeps about one user while it keeps anything: one record per user, shared by three owners
 * that each read and write only their own part of it:
 *
 * - `connections` belongs to `ConnectionRegistry` (connection-registry.ts),
 * - `channelRefs` and `channel` to `UserChannels` (user-channels.ts),
 * - `presentIn` to `PresenceTracker` (presence-tracker.ts).
 *
 * One record instead of a Map per owner because every connected user would otherwise be an entry in three
 * process-wide Maps, and an entry of a Map with tens of thousands of them costs 40–180 bytes of hash table
 * (JSC grows a table fourfold at each step), more than the record itself; the one table left is a StringMap
 * for the same reason. The parts stay independent: an owner never looks at another's fields, and each keeps the
 * meaning it documents below whatever the others do.
 */
export class LocalUser {
  /** ConnectionRegistry's: the user's connections here; the connection itself while one, an array from two. */
  connections: OneOrMany<Connection> = null;
  /**
   * UserChannels': references to the user's broker channel, held or waited for by connections and by the user's
   * notification state (notifications.ts); 0 when none.
   */
  channelRefs = 0;
  /** UserChannels': the broker's pending subscribe until it settles, then the subscription; null at 0 refs. */
  channel: Promise<BrokerSubscription> | BrokerSubscription | null = null;
  /**
   * PresenceTracker's: the rooms the user is present in from here, each with its number of live subscriptions
   * here; the room id alone while one room with one subscription (the usual case), a Map room → count otherwise.
   */
  presentIn: string | Map<string, number> | null = null;

  constructor(readonly id: string) {}

  /** True when no owner keeps anything here, so the record may go. */
  get unused(): boolean {
    return this.connections === null && this.channelRefs === 0 && this.presentIn === null;
  }
}

/**
 * The records of this process's users. A record exists while some owner keeps something in it: an owner gets it
 * with `obtain` before writing, and calls `dropIfUnused` after clearing its part, which removes the record once
 * every part is empty (so memory follows the users actually here, not every user ever seen).
 */
export class LocalUsers {
  readonly #byId = new StringMap<LocalUser>();

  get(userId: string): LocalUser | undefined {
    return this.#byId.get(userId);
  }

  /** The user's record, made (empty) if there was none. */
  obtain(userId: string): LocalUser {
    let user = this.#byId.get(userId);
    if (user === undefined) {
      user = new LocalUser(userId);
      this.#byId.set(userId, user);
    }
    return user;
  }

  dropIfUnused(user: LocalUser): void {
    if (user.unused && this.#byId.get(user.id) === user) this.#byId.delete(user.id);
  }

  /** Every record, as a snapshot: a caller may clear parts (and drop records) while it walks it. */
  values(): readonly LocalUser[] {
    return this.#byId.values();
  }
}
