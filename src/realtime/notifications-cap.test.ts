import { afterEach, describe, expect, test } from "bun:test";
import {
  ANN,
  closeSetup,
  ME,
  ROOM,
  readNotice,
  type Setup,
  setup,
} from "../../test/support/notifications-fixture.ts";
import { UNREAD_COUNT_MAX } from "../domain/rules.ts";

afterEach(closeSetup);

const CAP = UNREAD_COUNT_MAX;

/** Stores `n` messages from another member, before anyone follows the room. */
function seed(s: Setup, n: number): void {
  for (let i = 0; i < n; i++) s.store.send(ANN);
}

describe(`Notifications: counts at the cap (${UNREAD_COUNT_MAX}, "that many or more")`, () => {
  test("messages from another reaching and passing the cap leave the count at it; the notices still go out", async () => {
    const s = setup();
    seed(s, CAP - 1);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.send(ANN), s.store.send(ANN), s.store.send(ME), s.store.send(ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: CAP, senderId: ANN, unreadCount: CAP },
      { type: "message", roomId: ROOM, seq: CAP + 1, senderId: ANN, unreadCount: CAP },
      { type: "message", roomId: ROOM, seq: CAP + 3, senderId: ANN, unreadCount: CAP },
    ]);
    expect(s.store.unread(ME)).toBe(CAP);
    expect(s.store.uncappedUnread(ME)).toBe(CAP + 2);
  });

  test("a count read above the cap starts at it", async () => {
    const s = setup();
    seed(s, CAP + 5);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message", roomId: ROOM, seq: CAP + 6, senderId: ANN, unreadCount: CAP },
    ]);
  });

  test("an unread message deleted at the cap leaves the count at it, and says so: exact while more are unread", async () => {
    const s = setup();
    seed(s, CAP + 2);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.delete(1, ANN), s.store.delete(2, ANN));
    await s.settle();
    expect(s.sent).toEqual([
      { type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: CAP },
      { type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: CAP },
    ]);
    expect(s.store.uncappedUnread(ME)).toBe(CAP);
    expect(s.store.unread(ME)).toBe(CAP);
  });

  test("at exactly the cap a deletion over-states by one until a message takes it back or a read brings the store's count", async () => {
    const s = setup();
    seed(s, CAP);
    await s.notifications.subscribe(ME, "n");
    await s.publish(s.store.delete(1, ANN));
    await s.settle();
    expect(s.sent).toEqual([{ type: "message.deleted", roomId: ROOM, messageSeq: 1, unreadCount: CAP }]);
    expect(s.store.unread(ME)).toBe(CAP - 1);
    // The next message from another makes the count held right again.
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent.at(-1)).toMatchObject({ type: "message", unreadCount: CAP });
    expect(s.store.unread(ME)).toBe(CAP);

    await s.publish(s.store.delete(2, ANN));
    await s.settle();
    expect(s.sent.at(-1)).toEqual({ type: "message.deleted", roomId: ROOM, messageSeq: 2, unreadCount: CAP });
    expect(s.store.unread(ME)).toBe(CAP - 1);
    // A read that leaves the marker where it is, counted at the seq the count held is at, replaces it.
    const read = s.store.markRead(ME, 0);
    expect(read).toEqual({ readSeq: 0, unreadCount: CAP - 1, countedSeq: s.store.lastSeq });
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 0, unreadCount: CAP - 1 });
  });
});

describe("Notifications: read notices replayed at the cap", () => {
  test("messages applied before the notice arrived are replayed onto its count up to the cap, not past it", async () => {
    const s = setup();
    seed(s, CAP);
    await s.notifications.subscribe(ME, "n");
    const read = s.store.markRead(ME, 2);
    expect(read).toEqual({ readSeq: 2, unreadCount: CAP - 2, countedSeq: CAP });
    // Three messages commit after the count was read and reach the hub before the notice reaches this process.
    await s.publish(s.store.send(ANN), s.store.send(ANN), s.store.send(ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 2, unreadCount: CAP });
    expect(s.store.unread(ME)).toBe(CAP);
    // The count held is the cap: one more message leaves it there.
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent.at(-1)).toMatchObject({ type: "message", seq: CAP + 4, unreadCount: CAP });
  });

  test("a deletion replayed onto a count at the cap leaves it there, as the live deletion did", async () => {
    const s = setup();
    seed(s, CAP + 1);
    await s.notifications.subscribe(ME, "n");
    const read = s.store.markRead(ME, 1);
    expect(read).toEqual({ readSeq: 1, unreadCount: CAP, countedSeq: CAP + 1 });
    // A deletion above the new marker commits after the count was read and is applied before the notice.
    await s.publish(s.store.delete(5, ANN));
    await s.settle();
    s.notifications.onNotice(ME, readNotice(read));
    expect(s.sent).toEqual([
      { type: "message.deleted", roomId: ROOM, messageSeq: 5, unreadCount: CAP },
      { type: "read", roomId: ROOM, readSeq: 1, unreadCount: CAP },
    ]);
    // The count stood at exactly the cap, so it over-states by one, as documented, until the next read.
    expect(s.store.unread(ME)).toBe(CAP - 1);
    const next = s.store.markRead(ME, 2);
    s.notifications.onNotice(ME, readNotice(next));
    expect(s.sent.at(-1)).toEqual({ type: "read", roomId: ROOM, readSeq: 2, unreadCount: CAP - 2 });
  });
});
