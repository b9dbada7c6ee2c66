import type { Logger } from "pino";
import type { Broker } from "../ports/broker.ts";
import { USERS_CHANNEL } from "./channels.ts";
import { noticeObject } from "./notice-json.ts";
import type { UserNames } from "./user-names.ts";

/** What travels on USERS_CHANNEL: a user's new sender name. */
export interface RenameNotice {
  readonly type: "user.renamed";
  readonly userId: string;
  readonly name: string;
}

/** Null for a payload that is not a notice this version understands (it is then ignored). */
export function parseRenameNotice(payload: Uint8Array): RenameNotice | null {
  const o = noticeObject(payload);
  if (o === null) return null;
  if (o.type !== "user.renamed" || typeof o.userId !== "string" || typeof o.name !== "string") return null;
  return { type: o.type, userId: o.userId, name: o.name };
}

/**
 * Keeps this process's sender names current: every rename announced on USERS_CHANNEL (by BrokerEvents, on any
 * process) replaces the name in `names` as soon as it arrives. A broker resync says announcements may have been
 * lost, so the names are then forgotten and read from the store again. Resolves once the subscription is
 * active; the broker's close() ends it.
 */
export async function followRenames(broker: Broker, names: UserNames, logger: Logger): Promise<void> {
  await broker.subscribe(USERS_CHANNEL, (payload) => {
    const notice = parseRenameNotice(payload);
    if (notice === null) {
      logger.warn("ignored a rename notice this version does not understand");
      return;
    }
    names.set(notice.userId, notice.name);
  });
  broker.onResync(() => names.clear());
}
