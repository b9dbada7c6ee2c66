import { describe, expect, test } from "bun:test";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, send, signup, useTestServer } from "./helpers.ts";

const env = useTestServer();

const NOTIFY = "/user/queue/notifications";
const SKIP = [["skip-followed", "true"]] as const;
const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;
const roomMessages = (c: StompTestClient, subId: string) =>
  c
    .messages(subId)
    .filter((m) => m.type === "message")
    .map((m) => (m as { seq: number }).seq);

describe("/user/queue/notifications with skip-followed", () => {
  test("no message notice for a room the connection follows; others', reads and counts as before", async () => {
    const a = await signup(env.api, "sf");
    const b = await signup(env.api, "sf");
    const followed = await createRoom(env.api, a, "Open", [b.user.id]);
    const other = await createRoom(env.api, a, "Sidebar", [b.user.id]);
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    expect((await c.subscribeWithReceipt(roomDest(followed.id), "r")).command).toBe("RECEIPT");
    expect((await c.subscribeWithReceipt(NOTIFY, "n", SKIP)).command).toBe("RECEIPT");

    await send(env.api, a, followed.id, "in the open room");
    await send(env.api, a, followed.id, "again");
    await send(env.api, a, other.id, "elsewhere");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).roomId === other.id);
    // The open room's messages came on its stream only; the other room's as a notice.
    expect(roomMessages(c, "r")).toEqual([1, 2]);
    expect(c.messages("n")).toEqual([
      { type: "message", roomId: other.id, seq: 1, senderId: a.user.id, unreadCount: 1 },
    ]);

    // Reading is announced as before, with the store's count.
    expect((await c.sendWithReceipt("/pub/read", { roomId: followed.id, seq: 1 })).command).toBe("RECEIPT");
    // Once the room is no longer followed, notices carry the absolute count, the skipped messages in it.
    c.send("UNSUBSCRIBE", [
      ["id", "r"],
      ["receipt", "u"],
    ]);
    await c.waitFor((f) => f.command === "RECEIPT" && header(f, "receipt-id") === "u");
    await send(env.api, a, followed.id, "after closing the room");
    await c.waitFor(
      (f) => f.command === "MESSAGE" && bodyJson(f).roomId === followed.id && bodyJson(f).seq === 3,
    );
    expect(c.messages("n").at(-1)).toEqual({
      type: "message",
      roomId: followed.id,
      seq: 3,
      senderId: a.user.id,
      unreadCount: 2,
    });
    c.close();
  });

  test("without the header, or on a connection that does not follow the room, every notice is sent", async () => {
    const a = await signup(env.api, "sf");
    const b = await signup(env.api, "sf");
    const room = await createRoom(env.api, a, "Both", [b.user.id]);
    const plain = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await plain.subscribeWithReceipt(roomDest(room.id), "r");
    await plain.subscribeWithReceipt(NOTIFY, "n");
    // Same user, same subscription id, skip-followed but not following the room: it needs the notice.
    const phone = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await phone.subscribeWithReceipt(NOTIFY, "n", SKIP);
    // Same id again with skip-followed and following the room: it shares the id's topic with the others.
    const laptop = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await laptop.subscribeWithReceipt(roomDest(room.id), "r");
    await laptop.subscribeWithReceipt(NOTIFY, "n", SKIP);

    await send(env.api, a, room.id, "one");
    const notice = { type: "message", roomId: room.id, seq: 1, senderId: a.user.id, unreadCount: 1 };
    for (const c of [plain, phone]) {
      await c.waitFor((f) => f.command === "MESSAGE" && header(f, "subscription") === "n");
      expect(c.messages("n")).toEqual([notice]);
    }

    plain.close();
    phone.close();
    laptop.close();
  });

  test("an id whose every holder skips and follows the room gets no message notice on any of them", async () => {
    const a = await signup(env.api, "sf");
    const b = await signup(env.api, "sf");
    const room = await createRoom(env.api, a, "Open everywhere", [b.user.id]);
    const probe = await createRoom(env.api, a, "Probe", [b.user.id]);
    const tabs = [
      await StompTestClient.connect(env.server.wsUrl, b.accessToken),
      await StompTestClient.connect(env.server.wsUrl, b.accessToken),
    ];
    for (const c of tabs) {
      await c.subscribeWithReceipt(roomDest(room.id), "r");
      await c.subscribeWithReceipt(NOTIFY, "n", SKIP);
    }
    await send(env.api, a, room.id, "one");
    await send(env.api, a, room.id, "two");
    // A notice that must come, sent after them: once it is here, the open room's would have been too.
    await send(env.api, a, probe.id, "probe");
    for (const c of tabs) {
      await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).roomId === probe.id);
      expect(roomMessages(c, "r")).toEqual([1, 2]);
      expect(c.messages("n")).toEqual([
        { type: "message", roomId: probe.id, seq: 1, senderId: a.user.id, unreadCount: 1 },
      ]);
      c.close();
    }
  });

  test("a skip-followed value other than true or false is refused on /user/queue/errors; the connection stays", async () => {
    const b = await signup(env.api, "sf");
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    const refused = await c.subscribeWithReceipt(NOTIFY, "n", [["skip-followed", "yes"]]);
    expect([refused.command, header(refused, "destination"), header(refused, "code")]).toEqual([
      "MESSAGE",
      "/user/queue/errors",
      "VALIDATION_FAILED",
    ]);
    // Nothing was subscribed: the same id can be used again.
    expect((await c.subscribeWithReceipt(NOTIFY, "n", [["skip-followed", "false"]])).command).toBe("RECEIPT");
    c.close();
  });
});
