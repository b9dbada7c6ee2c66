/**
 * Accounts and rooms for a multi-process test, created over REST like any client would, plus the skip guard
 * shared by every file in this folder.
 */
import { type Account, type Client, createRoom, signup, type WireRoom } from "../integration/helpers.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";

/** Both servers reachable (under CI=true an unreachable one throws instead, by design of services.ts). */
export async function clusterServicesAvailable(): Promise<boolean> {
  return (await postgresAvailable()) && (await redisAvailable());
}

export function accounts(api: Client, count: number, prefix: string): Promise<Account[]> {
  return Promise.all(Array.from({ length: count }, () => signup(api, prefix)));
}

/** `count` rooms owned by `owner` with `members` in each. */
export function rooms(
  api: Client,
  owner: Account,
  count: number,
  members: readonly Account[],
): Promise<WireRoom[]> {
  const memberIds = members.map((m) => m.user.id);
  return Promise.all(
    Array.from({ length: count }, (_, i) => createRoom(api, owner, `mp room ${i + 1}`, memberIds)),
  );
}

/** Groups committed messages by room. */
export function byRoom<T extends { readonly roomId: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.roomId);
    if (list === undefined) out.set(item.roomId, [item]);
    else list.push(item);
  }
  return out;
}
