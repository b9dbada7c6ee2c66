import { afterEach, describe, expect, test } from "bun:test";
import {
  ANN,
  closeSetup,
  liveUnread,
  ME,
  ROOM,
  type Setup,
  setup,
} from "../../test/support/notifications-fixture.ts";
import { roomChannel } from "./channels.ts";
import { toWireRoomUpdated } from "./wire.ts";

afterEach(closeSetup);

describe("Notifications: room details and leaving", () => {
  const renamed = (s: Setup) => toWireRoomUpdated({ ...s.store.room(), name: "Renamed" }, ANN, null);

  test("room.updated is forwarded as it came, also while the counts are being read, and moves no count", async () => {
    const s = setup();
    s.store.send(ANN);
    await s.subscribeDuringCountRead("after", async () => {
      await s.broker.publish(roomChannel(ROOM), JSON.stringify(renamed(s)));
      await s.settle();
      expect(s.sent).toEqual([renamed(s)]);
    });
    expect(await liveUnread(s)).toBe(1);
  });

  test("after the user's own member.left in the room's stream, nothing of the room reaches them though its hub lives on", async () => {
    const s = setup();
    // Another follower of the room on this process keeps its hub alive.
    const other = await s.hubs.acquire(ROOM);
    await s.notifications.subscribe(ME, "n");
    expect(other.hub.listeners.size).toBe(1);
    await s.publish(s.store.leave(ME));
    await s.settle();
    expect(other.hub.listeners.size).toBe(0);
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(renamed(s)));
    await s.publish(s.store.send(ANN));
    await s.settle();
    // The notice on the user's channel, arriving after the stream's event, still tells the client.
    s.notifications.onNotice(ME, { type: "member.left", roomId: ROOM, seq: 1 });
    expect(s.sent).toEqual([{ type: "member.left", roomId: ROOM, userId: ME }]);
    other.release();
  });

  test("after the member.left notice, a hub that lives on no longer calls the user's listener", async () => {
    const s = setup();
    const other = await s.hubs.acquire(ROOM);
    await s.notifications.subscribe(ME, "n");
    s.store.leave(ME);
    s.notifications.onNotice(ME, { type: "member.left", roomId: ROOM, seq: 1 });
    expect(other.hub.listeners.size).toBe(0);
    await s.broker.publish(roomChannel(ROOM), JSON.stringify(renamed(s)));
    await s.publish(s.store.send(ANN));
    await s.settle();
    expect(s.sent).toEqual([{ type: "member.left", roomId: ROOM, userId: ME }]);
    other.release();
  });
});
