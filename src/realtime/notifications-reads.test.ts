import { afterEach, describe, expect, test } from "bun:test";
import {
  ANN,
  closeSetup,
  liveUnread,
  ME,
  ROOM,
  readNotice,
  setup,
} from "../../test/support/notifications-fixture.ts";
import { MOVES_KEPT } from "./unread-count.ts";

afterEach(closeSetup);

describe("Notifications: read notices and the events around them", () => {
  test("a message above the new marker, counted by the notice but delivered after it, is not counted again", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    // Messages 2 and 3 commit; the user reads up to 2; the notice (counting 3) arrives before the hub delivers them.
    const m2 = s.store.send(ANN);
    const m3 = s.store.send(ANN);
    const read = s.store.markRead(ME, 2);
    expect(read).toEqual({ readSeq: 2, unreadCount: 1, countedSeq: 3 });
    s.notifications.onNotice(ME, readNotice(read));
    await s.publish(m2, m3);
    await s.settle();
    expect(s.sent).toEqual([{ type: "read", roomId: ROOM, readSeq: 2, unreadCount: 1 }]);
    expect(await liveUnread(s)).toBe(s.store.unread(ME) - 1);
    expect(s.store.unread(ME)).toBe(2);
  });

  test("a deletion above the new marker, counted by the notice but delivered after it, is not taken off again", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    const m3 = s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const del = s.store.delete(m3.seq, ANN);
    const read = s.store.markRead(ME, 1);
    expect(read).toEqual({ readSeq: 1, unreadCount: 1, countedSeq: 4 });
    s.notifications.onNotice(ME, readNotice(read));
    await s.publish(del);
    await s.settle();
    expect(s.sent).toEqual([{ type: "read", roomId: ROOM, readSeq: 1, unreadCount: 1 }]);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a notice without countedSeq (an older version) counts the events up to its marker only, as before", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const m2 = s.store.send(ANN);
    const m3 = s.store.send(ANN);
    const { countedSeq: _, ...old } = readNotice(s.store.markRead(ME, 2));
    s.notifications.onNotice(ME, old);
    await s.publish(m2, m3);
    await s.settle();
    // Message 3 was in the count already; without the seq to tell, it is counted once more.
    expect(s.sent).toEqual([
      { type: "read", roomId: ROOM, readSeq: 2, unreadCount: 1 },
      { type: "message", roomId: ROOM, seq: 3, senderId: ANN, unreadCount: 2 },
    ]);
  });

  test("a message after the count, delivered before the notice, stays counted", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const read = s.store.markRead(ME, 1);
    // Message 2 commits after the count was read and reaches the hub before the notice reaches this process.
    await s.publish(s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: 2, senderId: ANN, unreadCount: 2 },
      { type: "read", roomId: ROOM, readSeq: 1, unreadCount: 1 },
    ]);
    expect(s.store.unread(ME)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a deletion after the count, delivered before the notice, stays applied; one at or below the marker does not count", async () => {
    const s = setup();
    s.store.send(ANN);
    s.store.send(ANN);
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const read = s.store.markRead(ME, 1);
    expect(read).toEqual({ readSeq: 1, unreadCount: 2, countedSeq: 3 });
    await s.publish(s.store.delete(1, ANN), s.store.delete(3, ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent).toEqual([
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: 2 },
      { type: "message.deleted", roomId: ROOM, messageSeq: 3, unreadCount: 1 },
      { type: "read", roomId: ROOM, readSeq: 1, unreadCount: 1 },
    ]);
    expect(s.store.unread(ME)).toBe(1);
    expect(await liveUnread(s)).toBe(1);
  });

  test("a notice no newer than the count held, for the same marker, leaves it", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.notifications.subscribe(ME, "n");
    const first = s.store.markRead(ME, 1);
    const m2 = s.store.send(ANN);
    const second = s.store.markRead(ME, 1);
    s.notifications.onNotice(ME, readNotice(second));
    await s.publish(m2, s.store.send(ANN));
    await s.settle();
    // The earlier read's notice comes last: its count (0, at seq 1) is older than the one held (2, at seq 3).
    s.notifications.onNotice(ME, readNotice(first));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 1, unreadCount: 2 });
    expect(await liveUnread(s)).toBe(2);
  });

  test(`a count read before more than ${MOVES_KEPT} counted events is taken as it comes`, async () => {
    const s = setup();
    await s.notifications.subscribe(ME, "n");
    const exact = s.store.markRead(ME, 0);
    for (let i = 0; i < MOVES_KEPT; i++) await s.publish(s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(exact));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 0, unreadCount: MOVES_KEPT });

    const late = s.store.markRead(ME, MOVES_KEPT);
    for (let i = 0; i <= MOVES_KEPT; i++) await s.publish(s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(late));
    // The moves it would need are no longer all kept: the count is the notice's, short of what came after it.
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: MOVES_KEPT, unreadCount: 0 });
    expect(s.store.unread(ME)).toBe(MOVES_KEPT + 1);
  });
});
