import { afterEach, describe, expect, test } from "bun:test";
import { ANN, closeSetup, liveUnread, ME, ROOM, setup } from "../../test/support/notifications-fixture.ts";
import { roomChannel } from "./channels.ts";
import { toWireEvent, type WireMessageEvent } from "./wire.ts";

afterEach(closeSetup);

describe("Notifications: deleted messages", () => {
  test("deleting another's unread message lowers the count and says so; the store agrees", async () => {
    const s = setup();
    const seeded = s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const live = s.store.send(ANN);
    await s.publish(live);
    await s.publish(s.store.delete(seeded.seq, ANN), s.store.delete(live.seq, ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: 2, senderId: ANN, unreadCount: 2 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 1 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 0 },
    ]);
    expect(s.store.unread(ME)).toBe(0);
  });

  test("a deletion published twice moves the count once", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const del = s.store.delete(1, ANN);
    await s.publish(del, del);
    await s.settle();
    expect(s.sent).toEqual([{ type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 1 }]);
    expect(await liveUnread(s)).toBe(s.store.unread(ME) - 1);
  });

  test("my own message deleted, by me or by the owner, changes nothing", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const mine = s.store.send(ME);
    const alsoMine = s.store.send(ME);
    await s.publish(mine, alsoMine, s.store.delete(mine.seq, ANN), s.store.delete(alsoMine.seq, ME));
    await s.settle();
    expect(s.sent).toEqual([]);
    expect(await liveUnread(s)).toBe(1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("a message at or below the read marker deleted changes nothing", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.markRead(ME, 2);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.delete(2, ANN), s.store.delete(1, ANN));
    await s.settle();
    expect(s.sent).toEqual([]);
    expect(await liveUnread(s)).toBe(1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("an edit changes nothing", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.edit(1));
    await s.settle();
    expect(s.sent).toEqual([]);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a deletion from a version that does not send messageSeq leaves the count as it is", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const { messageSeq: _, ...old } = toWireEvent(s.store.delete(1, ANN), "name") as WireMessageEvent;
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(old));
    await s.settle();
    expect(s.sent).toEqual([]);
  });
});

describe("Notifications: deletions while the counts are being read", () => {
  test("count read before the message and its deletion: both are applied from the buffer", async () => {
    const s = setup();
    s.store.send(ANN);
    // The room is followed and its count taken (1 unread, up to seq 1) but not yet applied.
    await s.subscribeDuringCountRead("after", async () => {
      const m = s.store.send(ANN);
      await s.publish(m, s.store.delete(m.seq, ANN), s.store.delete(1, ANN));
    });
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: 2, senderId: ANN, unreadCount: 2 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 1 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 0 },
    ]);
    expect(s.store.unread(ME)).toBe(0);
    expect(await liveUnread(s)).toBe(0);
  });

  test("count read between a message and its deletion: only the deletion is applied", async () => {
    const s = setup();
    s.store.send(ANN);
    const m = s.store.send(ANN);
    // The count taken has both messages (up to seq 2); the deletion reaches the hub while it is held.
    await s.subscribeDuringCountRead("after", () => s.publish(m, s.store.delete(m.seq, ANN)));
    expect(s.sent).toEqual([{ type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 1 }]);
    expect(s.store.unread(ME)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("count read after the message and its deletion: the buffered events are already in it", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.subscribeDuringCountRead("before", async () => {
      const m = s.store.send(ANN);
      await s.publish(m, s.store.delete(m.seq, ANN), s.store.delete(1, ANN));
    });
    expect(s.sent).toEqual([]);
    expect(s.store.unread(ME)).toBe(0);
    expect(await liveUnread(s)).toBe(0);
  });
});

describe("Notifications: reads and deletions", () => {
  test("a read notice that overtakes a message below its marker: the message is not counted again", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    // Message 2 commits, the user reads past it, and the read's notice arrives before the hub delivers it.
    const m = s.store.send(ANN);
    const read = s.store.markRead(ME, 2);
    s.notifications.onNotice(ME, { type: "read", roomId: ROOM, ...read, origin: "other" });
    await s.publish(m);
    await s.settle();
    expect(s.sent).toEqual([{ type: "read", roomId: ROOM, readSeq: 2, unreadCount: 0 }]);
    expect(await liveUnread(s)).toBe(0);
  });

  test("deletions before and after a read: only messages above the marker at the time count", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.delete(2, ANN));
    await s.settle();
    const read = s.store.markRead(ME, 2);
    s.notifications.onNotice(ME, { type: "read", roomId: ROOM, ...read, origin: "other" });
    await s.publish(s.store.delete(1, ANN), s.store.delete(3, ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: 2 },
      { type: "read", roomId: ROOM, readSeq: 2, unreadCount: 1 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 3, unreadCount: 0 },
    ]);
    expect(s.store.unread(ME)).toBe(0);
  });
});
