/**
 * A user's notification state lingers after their last subscription ends: a subscription within the period takes
 * it over with no store read and with the counts the gap's events and notices moved; anything that may leave it
 * behind the store closes it instead, and so does the end of the period.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  ANN,
  closeSetup,
  liveUnread,
  ME,
  ROOM,
  readNotice,
  type Setup,
  setup,
} from "../../test/support/notifications-fixture.ts";
import { Connection, type RoomSubscription } from "./connection.ts";

afterEach(closeSetup);

/** Longer than any test: a state lingers for the whole test unless something closes it. */
const LONG_MS = 60_000;
/** Short enough to wait out. */
const SHORT_MS = 20;

/** A connection of the user comes: it holds the user's channel, then subscribes, as CONNECT and SUBSCRIBE do. */
async function connect(s: Setup, skipper: Connection | null = null): Promise<void> {
  await s.channels.acquire(ME);
  await s.notifications.subscribe(ME, "n", skipper);
}

/** The connection goes: its subscription ends, then its reference to the channel, as the gateway's close does. */
function disconnect(s: Setup, skipper: Connection | null = null): void {
  s.notifications.unsubscribe(ME, "n", skipper);
  s.channels.release(ME);
}

const listeners = (s: Setup): number => s.hubs.get(ROOM)?.listeners.size ?? 0;

describe("Notifications: lingering after the last subscription", () => {
  test("a subscription within the period reads nothing and gets the counts the gap's events moved", async () => {
    const s = setup({ lingerMs: LONG_MS });
    s.store.send(ANN);
    await connect(s);
    expect(s.store.reads).toBe(2);
    disconnect(s);
    await s.publish(s.store.send(ANN), s.store.send(ANN));
    const deleted = s.store.send(ANN);
    await s.publish(deleted, s.store.delete(deleted.seq, ANN));
    await s.settle();
    // Nothing is sent while nobody is subscribed.
    expect(s.sent).toEqual([]);
    expect(s.notifications.size).toBe(1);

    await connect(s);
    expect(s.store.reads).toBe(2);
    // The same listener, not a second one: the hub was not acquired again.
    expect(listeners(s)).toBe(1);
    expect(await liveUnread(s)).toBe(3);
    expect(s.store.unread(ME)).toBe(4);
  });

  test("a read during the gap reaches the state through its own reference to the user's channel", async () => {
    const s = setup({ lingerMs: LONG_MS });
    for (let i = 0; i < 3; i++) s.store.send(ANN);
    await connect(s);
    expect(s.users.get(ME)?.channelRefs).toBe(2);
    disconnect(s);
    // The connection's reference is gone; the state's is left.
    expect(s.users.get(ME)?.channelRefs).toBe(1);
    await s.notice(readNotice(s.store.markRead(ME, 2)));
    await s.settle();

    await connect(s);
    expect(s.store.reads).toBe(2);
    expect(await liveUnread(s)).toBe(1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("membership changes during the gap reach it too: a room left is no longer followed", async () => {
    const s = setup({ lingerMs: LONG_MS });
    const other = await s.hubs.acquire(ROOM);
    await connect(s);
    disconnect(s);
    s.store.leave(ME);
    await s.notice({ type: "member.left", roomId: ROOM, seq: s.store.lastSeq });
    await s.settle();
    expect(other.hub.listeners.size).toBe(0);
    await connect(s);
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent).toEqual([]);
    other.release();
  });

  test("after the period the state closes, releasing its hubs and channel; the next subscription reads the store", async () => {
    const s = setup({ lingerMs: SHORT_MS });
    s.store.send(ANN);
    await connect(s);
    expect(listeners(s)).toBe(1);
    disconnect(s);
    expect(s.notifications.size).toBe(1);
    await Bun.sleep(3 * SHORT_MS);
    expect(s.notifications.size).toBe(0);
    // No other follower: the hub itself is gone, and so is the user's channel.
    expect(s.hubs.get(ROOM)).toBeUndefined();
    expect(s.users.get(ME)).toBeUndefined();

    s.store.send(ANN);
    s.store.markRead(ME, 1);
    await connect(s);
    expect(s.store.reads).toBe(4);
    expect(listeners(s)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a subscription in the period stops the close: the state lingers again from its next last subscription", async () => {
    const s = setup({ lingerMs: 5 * SHORT_MS });
    await connect(s);
    disconnect(s);
    await Bun.sleep(SHORT_MS);
    await connect(s);
    await Bun.sleep(10 * SHORT_MS);
    expect(s.notifications.size).toBe(1);
    expect(listeners(s)).toBe(1);
    disconnect(s);
    await Bun.sleep(10 * SHORT_MS);
    expect(s.notifications.size).toBe(0);
    expect(s.store.reads).toBe(2);
  });

  test("a state still being set up when its last subscription ends goes on and is taken over", async () => {
    const s = setup({ lingerMs: LONG_MS });
    s.store.send(ANN);
    const release = s.store.hold(2, "before");
    await s.channels.acquire(ME);
    const first = s.notifications.subscribe(ME, "n");
    await s.settle();
    disconnect(s);
    await s.publish(s.store.send(ANN));
    await s.settle();
    const second = connect(s);
    release();
    await Promise.all([first, second]);
    expect(s.store.reads).toBe(2);
    expect(await liveUnread(s)).toBe(2);
  });

  test("a state whose set-up failed is not kept, holds nothing, and the next subscription tries afresh", async () => {
    const s = setup({ lingerMs: LONG_MS });
    s.store.send(ANN);
    s.store.fail(2);
    await s.channels.acquire(ME);
    await expect(s.notifications.subscribe(ME, "n")).rejects.toThrow("store down");
    await s.settle();
    expect(s.notifications.size).toBe(0);
    expect(listeners(s)).toBe(0);
    // Only the connection's reference is left.
    expect(s.users.get(ME)?.channelRefs).toBe(1);
    await s.notifications.subscribe(ME, "n");
    expect(s.store.reads).toBe(4);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a broker resync closes a lingering state, and keeps a subscribed one from lingering", async () => {
    const s = setup({ lingerMs: LONG_MS });
    await connect(s);
    disconnect(s);
    s.resync();
    await s.settle();
    expect(s.notifications.size).toBe(0);
    expect(listeners(s)).toBe(0);
    expect(s.users.get(ME)).toBeUndefined();

    await connect(s);
    expect(s.store.reads).toBe(4);
    s.resync();
    await s.settle();
    expect(s.notifications.size).toBe(1);
    disconnect(s);
    expect(s.notifications.size).toBe(0);
    expect(s.users.get(ME)).toBeUndefined();
  });

  test("revoking every session closes a lingering state; revoking some does not", async () => {
    const s = setup({ lingerMs: LONG_MS });
    await connect(s);
    disconnect(s);
    await s.notice({ type: "sessions.revoked", sessionIds: ["s1"] });
    await s.settle();
    expect(s.notifications.size).toBe(1);
    await s.notice({ type: "sessions.revoked", sessionIds: "all" });
    await s.settle();
    expect(s.notifications.size).toBe(0);
    expect(s.users.get(ME)).toBeUndefined();
  });

  test("a count that may be inexact is not kept: a read notice without countedSeq during the gap closes the state", async () => {
    const s = setup({ lingerMs: LONG_MS });
    for (let i = 0; i < 3; i++) s.store.send(ANN);
    await connect(s);
    disconnect(s);
    const { countedSeq: _, ...older } = readNotice(s.store.markRead(ME, 1));
    await s.notice(older);
    await s.settle();
    expect(s.notifications.size).toBe(0);
    await connect(s);
    expect(s.store.reads).toBe(4);
    expect(await liveUnread(s)).toBe(2);
  });

  test("skip-followed holders of ended subscriptions do not stay behind", async () => {
    const s = setup({ lingerMs: LONG_MS });
    const conn = new Connection("c1", 0, 1024);
    const roomSub: RoomSubscription = {
      kind: "room",
      id: "r",
      roomId: ROOM,
      lease: null,
      live: true,
      cancelled: false,
    };
    conn.subscriptions.set("r", roomSub);
    await connect(s, conn);
    await s.publish(s.store.send(ANN));
    await s.settle();
    // Left out: its one holder follows the room.
    expect(s.sent).toEqual([]);
    disconnect(s, conn);
    // The next subscription with the same id, without skip-followed, gets every message notice, though the
    // connection that skipped them still follows the room.
    await connect(s);
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent.map((n) => n.type)).toEqual(["message"]);
    expect(s.store.reads).toBe(2);
  });

  test("close() closes lingering states and keeps none after it", async () => {
    const s = setup({ lingerMs: LONG_MS });
    await connect(s);
    disconnect(s);
    s.notifications.close();
    expect(s.notifications.size).toBe(0);
    expect(listeners(s)).toBe(0);
    expect(s.users.get(ME)).toBeUndefined();
    await connect(s);
    disconnect(s);
    expect(s.notifications.size).toBe(0);
  });

  test("with a period of 0 the state closes with its last subscription", async () => {
    const s = setup({ lingerMs: 0 });
    await connect(s);
    disconnect(s);
    expect(s.notifications.size).toBe(0);
    expect(listeners(s)).toBe(0);
    expect(s.users.get(ME)).toBeUndefined();
  });
});
