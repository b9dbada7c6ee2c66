/**
 * A read notice's count is exact up to the room's seq it was read at: room events up to that seq that reach a
 * process only after the notice (here held by the room's coalescing window) are already in it and do not move it.
 */
import { describe, expect, test } from "bun:test";
import { StompTestClient } from "../support/stomp-client.ts";
import { createRoom, expectStatus, send, signup, useTestServer } from "./helpers.ts";

const NOTIFY = "/user/queue/notifications";
/** Long enough that a read over HTTP and its notice complete while the room's events are still held. */
const WINDOW_MS = 1000;

const env = useTestServer({ config: { wsCoalesceMs: WINDOW_MS, wsCoalesceMinSubscribers: 0 } });

describe("/user/queue/notifications: reads racing the room's events", () => {
  test("messages committed before a read but delivered after its notice are counted once", async () => {
    const a = await signup(env.api, "rw");
    const b = await signup(env.api, "rw");
    const room = await createRoom(env.api, a, "Window", [b.user.id]);
    await send(env.api, a, room.id, "one");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    expect((await c.subscribeWithReceipt(NOTIFY, "n")).command).toBe("RECEIPT");

    // Both wait in the room's window; the read's count (taken at seq 3) already holds "three".
    await send(env.api, a, room.id, "two");
    await send(env.api, a, room.id, "three");
    const read = await env.api.post(`/rooms/${room.id}/read`, { seq: 2 }, b.accessToken);
    expectStatus(read, 200);
    expect(read.body).toEqual({ readSeq: 2, unreadCount: 1 });

    const probe = await send(env.api, a, room.id, "four");
    await c.until(() => c.messages("n").some((n) => n.seq === probe.seq), 3 * WINDOW_MS + 2000);
    expect(c.messages("n").at(-1)).toEqual({
      type: "message",
      roomId: room.id,
      seq: probe.seq,
      senderId: a.user.id,
      unreadCount: 2,
    });
    const rooms = await env.api.get("/rooms", b.accessToken);
    expectStatus(rooms, 200);
    const summary = (
      rooms.body as { rooms: Array<{ room: { id: string }; unreadCount: number }> }
    ).rooms.find((s) => s.room.id === room.id);
    expect(summary?.unreadCount).toBe(2);
    c.close();
  });
});
