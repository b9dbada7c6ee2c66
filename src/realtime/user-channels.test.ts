import { describe, expect, test } from "bun:test";
import pino from "pino";
import { memoryBroker } from "../adapters/broker/memory-broker.ts";
import type { Broker, BrokerHandler, BrokerSubscription } from "../ports/broker.ts";
import { userChannel } from "./channels.ts";
import { LocalUsers } from "./local-users.ts";
import { UserChannels } from "./user-channels.ts";
import type { UserNotice } from "./user-notice.ts";

const logger = pino({ level: "silent" });
const revoked = JSON.stringify({ type: "sessions.revoked", sessionIds: "all" });

/** A broker whose subscribes wait for `settle` and then succeed or fail, counting live subscriptions. */
function gatedBroker(): { broker: Broker; live: () => number; settle: (ok: boolean) => void } {
  let live = 0;
  const waiting: ((ok: boolean) => void)[] = [];
  const broker = {
    subscribe: (channel: string, _handler: BrokerHandler) =>
      new Promise<BrokerSubscription>((resolve, reject) => {
        waiting.push((ok) => {
          if (!ok) return reject(new Error("broker down"));
          live++;
          resolve({ channel, unsubscribe: async () => void live-- });
        });
      }),
  } as unknown as Broker;
  return {
    broker,
    live: () => live,
    settle: (ok) => {
      for (const f of waiting.splice(0)) f(ok);
    },
  };
}

describe("UserChannels", () => {
  test("one subscription per user, shared by every reference, dropped with the last one", async () => {
    const broker = memoryBroker();
    const users = new LocalUsers();
    const notices: [string, UserNotice][] = [];
    const channels = new UserChannels(
      users,
      broker,
      (userId, notice) => notices.push([userId, notice]),
      logger,
    );
    await channels.acquire("u1");
    await channels.acquire("u1");
    await broker.publish(userChannel("u1"), revoked);
    await Bun.sleep(0);
    expect(notices).toEqual([["u1", { type: "sessions.revoked", sessionIds: "all" }]]);
    channels.release("u1");
    await broker.publish(userChannel("u1"), revoked);
    await Bun.sleep(0);
    expect(notices.length).toBe(2);
    channels.release("u1");
    await Bun.sleep(0);
    expect(users.get("u1")).toBeUndefined();
    await broker.publish(userChannel("u1"), revoked);
    await Bun.sleep(0);
    expect(notices.length).toBe(2);
  });

  test("waiters of one pending subscribe share it; a later acquire reuses it; the last release unsubscribes", async () => {
    const { broker, live, settle } = gatedBroker();
    const channels = new UserChannels(new LocalUsers(), broker, () => {}, logger);
    const first = channels.acquire("u1");
    const second = channels.acquire("u1");
    settle(true);
    await Promise.all([first, second]);
    expect(live()).toBe(1);
    const third = channels.acquire("u1");
    await third;
    channels.release("u1");
    channels.release("u1");
    expect(live()).toBe(1);
    channels.release("u1");
    await Bun.sleep(0);
    expect(live()).toBe(0);
  });

  test("a failed subscribe rejects every waiter, holds nothing, and the next acquire subscribes afresh", async () => {
    const { broker, live, settle } = gatedBroker();
    const users = new LocalUsers();
    const channels = new UserChannels(users, broker, () => {}, logger);
    const waiters = [channels.acquire("u1"), channels.acquire("u1")];
    settle(false);
    const results = await Promise.allSettled(waiters);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(users.get("u1")).toBeUndefined();
    const again = channels.acquire("u1");
    settle(true);
    await again;
    expect(live()).toBe(1);
    expect(users.get("u1")?.channelRefs).toBe(1);
  });
});
