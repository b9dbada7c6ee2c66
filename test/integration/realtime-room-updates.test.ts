import { describe, expect, test } from "bun:test";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import {
  type Account,
  createAdmin,
  createRoom,
  expectError,
  expectStatus,
  send,
  signup,
  useTestServer,
  type WireRoom,
} from "./helpers.ts";

const env = useTestServer();

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;
const NOTIFICATIONS = "/user/queue/notifications";

const rename = async (who: Account, roomId: string, patch: { name?: string; topic?: string }) => {
  const res = await env.api.patch(`/rooms/${roomId}`, patch, who.accessToken);
  expectStatus(res, 200);
  return (res.body as { room: WireRoom }).room;
};

const transfer = async (who: Account, roomId: string, userId: string) => {
  const res = await env.api.post(`/rooms/${roomId}/owner`, { userId }, who.accessToken);
  expectStatus(res, 200);
  return (res.body as { room: WireRoom }).room;
};

/** The room.updated bodies one subscription has received, in arrival order. */
const updates = (c: StompTestClient, subId: string) =>
  c.messages(subId).filter((e) => e.type === "room.updated");

const isUpdate = (subId: string) => (f: Parameters<typeof bodyJson>[0]) =>
  f.command === "MESSAGE" && header(f, "subscription") === subId && bodyJson(f).type === "room.updated";

/** The room as a member reads it, checked to be the same in GET /rooms/{id} and in the room list. */
const readRoom = async (who: Account, roomId: string): Promise<WireRoom> => {
  const one = await env.api.get(`/rooms/${roomId}`, who.accessToken);
  expectStatus(one, 200);
  const room = (one.body as { room: WireRoom }).room;
  const list = await env.api.get("/rooms", who.accessToken);
  expectStatus(list, 200);
  const listed = (list.body as { rooms: Array<{ room: WireRoom }> }).rooms.find((s) => s.room.id === roomId);
  expect(listed?.room).toEqual(room);
  return room;
};

/**
 * The details a client holds after applying `events` by the documented rule: only a higher version replaces them
 * (an event without one, from a build before versions, is applied as it comes).
 */
const held = (start: WireRoom, events: ReadonlyArray<Record<string, unknown>>) => {
  let details = { version: start.version, name: start.name, topic: start.topic, ownerId: start.ownerId };
  for (const e of events) {
    if (typeof e.version === "number" && e.version <= details.version) continue;
    details = {
      version: typeof e.version === "number" ? e.version : details.version,
      name: e.name as string,
      topic: e.topic as string,
      ownerId: e.ownerId as string | null,
    };
  }
  return details;
};

describe("room.updated", () => {
  test("a rename reaches the room's subscribers and its members' notification streams, without seq; nobody else", async () => {
    const owner = await signup(env.api, "ru");
    const member = await signup(env.api, "ru");
    const removed = await signup(env.api, "ru");
    const outsider = await signup(env.api, "ru");
    const room = await createRoom(env.api, owner, "Before", [member.user.id, removed.user.id]);
    const other = await createRoom(env.api, owner, "Elsewhere", [outsider.user.id, removed.user.id]);

    const cm = await StompTestClient.connect(env.server.wsUrl, member.accessToken);
    await cm.subscribeWithReceipt(roomDest(room.id), "s");
    await cm.subscribeWithReceipt(NOTIFICATIONS, "n");
    const co = await StompTestClient.connect(env.server.wsUrl, outsider.accessToken);
    await co.subscribeWithReceipt(roomDest(other.id), "s");
    await co.subscribeWithReceipt(NOTIFICATIONS, "n");
    // A former member, whose notification stream followed the room until the removal; the room stays followed on
    // this server through the member's subscription.
    const cr = await StompTestClient.connect(env.server.wsUrl, removed.accessToken);
    await cr.subscribeWithReceipt(roomDest(room.id), "s");
    await cr.subscribeWithReceipt(NOTIFICATIONS, "n");
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${removed.user.id}`, owner.accessToken), 204);
    await cr.waitFor((f) => header(f, "subscription") === "n" && bodyJson(f).type === "member.left", 3000);

    const renamed = await rename(owner, room.id, { name: "After", topic: "Fresh topic" });
    expect([renamed.name, renamed.topic]).toEqual(["After", "Fresh topic"]);
    const expected = {
      type: "room.updated",
      roomId: room.id,
      version: 2,
      name: "After",
      topic: "Fresh topic",
      ownerId: owner.user.id,
      previousOwnerId: null,
      actorId: owner.user.id,
    };
    const frame = await cm.waitFor(isUpdate("s"));
    expect(bodyJson(frame)).toEqual(expected);
    expect(header(frame, "seq")).toBeUndefined();
    expect(header(frame, "destination")).toBe(roomDest(room.id));
    expect(header(frame, "message-id")).toBeString();
    const note = await cm.waitFor(isUpdate("n"));
    expect(bodyJson(note)).toEqual(expected);
    expect(header(note, "destination")).toBe(NOTIFICATIONS);

    await send(env.api, owner, room.id, "after the rename");
    await cm.waitFor((f) => header(f, "subscription") === "s" && bodyJson(f).message === "after the rename");
    // A message in the other room, sent after the member had both: by its arrival, anything the rename or that
    // message would have sent to the outsider or the former member has arrived too.
    await send(env.api, owner, other.id, "sentinel");
    await co.waitFor((f) => header(f, "subscription") === "s" && bodyJson(f).message === "sentinel");
    await co.waitFor((f) => header(f, "subscription") === "n" && bodyJson(f).type === "message");
    await cr.waitFor((f) => header(f, "subscription") === "n" && bodyJson(f).type === "message");
    for (const c of [co, cr]) {
      expect(c.frames.filter((f) => f.command === "MESSAGE" && bodyJson(f).type === "room.updated")).toEqual(
        [],
      );
    }
    // The former member's stream no longer follows the room at all: no rename, no message notice.
    expect(cr.messages("n").filter((e) => e.roomId === room.id && e.type !== "member.left")).toEqual([]);
    // One announcement per subscription.
    expect(updates(cm, "s")).toHaveLength(1);
    expect(updates(cm, "n")).toHaveLength(1);
    for (const c of [cm, co, cr]) c.close();
  });

  test("an ownership transfer announces the new owner and the replaced one; a no-op transfer announces nothing", async () => {
    const owner = await signup(env.api, "ro");
    const heir = await signup(env.api, "ro");
    const third = await signup(env.api, "ro");
    const admin = await createAdmin(env.server, env.api);
    const room = await createRoom(env.api, owner, "Handover", [heir.user.id, third.user.id]);
    const ch = await StompTestClient.connect(env.server.wsUrl, heir.accessToken);
    await ch.subscribeWithReceipt(roomDest(room.id), "s");
    // Only the room list: no subscription to the room itself.
    const ct = await StompTestClient.connect(env.server.wsUrl, third.accessToken);
    await ct.subscribeWithReceipt(NOTIFICATIONS, "n");

    await transfer(owner, room.id, heir.user.id);
    const first = {
      type: "room.updated",
      roomId: room.id,
      version: 2,
      name: "Handover",
      topic: "",
      ownerId: heir.user.id,
      previousOwnerId: owner.user.id,
      actorId: owner.user.id,
    };
    expect(bodyJson(await ch.waitFor(isUpdate("s")))).toEqual(first);
    expect(bodyJson(await ct.waitFor(isUpdate("n")))).toEqual(first);
    // What the event says is what the room now says.
    const read = await env.api.get(`/rooms/${room.id}`, third.accessToken);
    const details = read.body as { room: WireRoom; members: Array<{ userId: string; role: string }> };
    expect(details.room.ownerId).toBe(heir.user.id);
    const role = (a: Account) => details.members.find((m) => m.userId === a.user.id)?.role;
    expect([role(heir), role(owner)]).toEqual(["owner", "member"]);

    // Naming the current owner, by the owner or an administrator: 200, nothing announced.
    await transfer(heir, room.id, heir.user.id);
    await transfer(admin, room.id, heir.user.id);
    // An administrator's transfer, who is not a member, names them as the actor.
    await transfer(admin, room.id, third.user.id);
    // A rename by the new owner closes the sequence: anything the no-ops sent would have arrived before it.
    await rename(third, room.id, { topic: "Under new management" });
    await ch.until(() => updates(ch, "s").length >= 3);
    await ct.until(() => updates(ct, "n").length >= 3);
    // The no-ops took no version: the next change has the one after the first transfer's.
    const rest = [
      { ...first, version: 3, ownerId: third.user.id, previousOwnerId: heir.user.id, actorId: admin.user.id },
      {
        ...first,
        version: 4,
        topic: "Under new management",
        ownerId: third.user.id,
        previousOwnerId: null,
        actorId: third.user.id,
      },
    ];
    expect(updates(ch, "s")).toEqual([first, ...rest]);
    expect(updates(ct, "n")).toEqual([first, ...rest]);
    ch.close();
    ct.close();
  });

  test("the announcement takes no seq and a resume replays only stored events, with no gap or duplicate", async () => {
    const owner = await signup(env.api, "rr");
    const member = await signup(env.api, "rr");
    const room = await createRoom(env.api, owner, "Resumable", [member.user.id]);
    const watcher = await StompTestClient.connect(env.server.wsUrl, owner.accessToken);
    await watcher.subscribeWithReceipt(roomDest(room.id), "s");
    const first = await StompTestClient.connect(env.server.wsUrl, member.accessToken);
    await first.subscribeWithReceipt(roomDest(room.id), "s");
    await send(env.api, owner, room.id, "m1");
    await send(env.api, owner, room.id, "m2");
    await first.waitFor((f) => header(f, "seq") === "2");
    first.close();
    await first.closed;

    // Missed while disconnected: a rename between two stored events.
    await rename(owner, room.id, { name: "Renamed while away" });
    await send(env.api, owner, room.id, "m3");
    await watcher.waitFor((f) => header(f, "seq") === "3");
    // A live subscriber got the rename between m2 and m3, and the seqs stay contiguous around it.
    const live = watcher
      .messages("s")
      .filter((e) => e.type !== "presence")
      .map((e) => (e.type === "room.updated" ? e.name : e.seq));
    expect(live).toEqual([1, 2, "Renamed while away", 3]);

    const again = await StompTestClient.connect(env.server.wsUrl, member.accessToken);
    await again.subscribeWithReceipt(roomDest(room.id), "s", [["since-seq", "2"]]);
    await send(env.api, owner, room.id, "m4");
    await again.waitFor((f) => header(f, "seq") === "4");
    const stored = again.framesOf("s").filter((f) => header(f, "seq") !== undefined);
    expect(stored.map((f) => [header(f, "seq"), bodyJson(f).message])).toEqual([
      ["3", "m3"],
      ["4", "m4"],
    ]);
    expect(updates(again, "s")).toEqual([]);
    // What a resuming client does instead: read the room again.
    const read = await env.api.get(`/rooms/${room.id}`, member.accessToken);
    expect((read.body as { room: WireRoom }).room).toMatchObject({
      name: "Renamed while away",
      lastSeq: 4,
      version: 2,
    });
    watcher.close();
    again.close();
  });

  test("the event, the change's answer and a later GET carry the same version; refusals and no-ops take none", async () => {
    const owner = await signup(env.api, "rv");
    const member = await signup(env.api, "rv");
    const outsider = await signup(env.api, "rv");
    const room = await createRoom(env.api, owner, "Versioned", [member.user.id]);
    expect(room.version).toBe(1);
    const cm = await StompTestClient.connect(env.server.wsUrl, member.accessToken);
    await cm.subscribeWithReceipt(roomDest(room.id), "s");
    await cm.subscribeWithReceipt(NOTIFICATIONS, "n");

    const renamed = await rename(owner, room.id, { name: "Versioned again" });
    expect(renamed.version).toBe(2);
    const event = bodyJson(await cm.waitFor(isUpdate("s")));
    expect(event).toMatchObject({ version: 2, name: "Versioned again" });
    expect(bodyJson(await cm.waitFor(isUpdate("n")))).toEqual(event);
    expect(await readRoom(member, room.id)).toEqual(renamed);

    // Bad input and refused changes get the answers they always got, and commit nothing: no version is taken.
    const path = `/rooms/${room.id}`;
    expectError(await env.api.patch(path, { name: "   " }, owner.accessToken), "VALIDATION_FAILED");
    expectError(await env.api.patch(path, { name: 5 }, owner.accessToken), "VALIDATION_FAILED");
    // The version is the server's to give: a body naming it is refused like any unknown field.
    expectError(await env.api.patch(path, { version: 9 }, owner.accessToken), "VALIDATION_FAILED");
    expectError(
      await env.api.patch(path, { name: "Mine", version: 9 }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.request("PATCH", path, { raw: "{", token: owner.accessToken }),
      "MALFORMED_JSON",
    );
    expectError(await env.api.patch(path, { name: "Mine" }, member.accessToken), "FORBIDDEN");
    expectError(await env.api.patch(path, { name: "Mine" }, outsider.accessToken), "ROOM_NOT_FOUND");
    const ownerPath = `${path}/owner`;
    expectError(
      await env.api.post(ownerPath, { userId: "not-an-id" }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.post(ownerPath, { userId: outsider.user.id }, owner.accessToken),
      "USER_NOT_FOUND",
    );
    expectError(await env.api.post(ownerPath, { userId: member.user.id }, member.accessToken), "FORBIDDEN");
    // Naming the current owner: 200 with the room as it is, version included.
    expect(await transfer(owner, room.id, owner.user.id)).toEqual(renamed);
    expect(await readRoom(member, room.id)).toEqual(renamed);

    // The next change takes the next version and is the next announcement: nothing was announced in between.
    const handed = await transfer(owner, room.id, member.user.id);
    expect(handed.version).toBe(3);
    await cm.until(() => updates(cm, "s").length >= 2 && updates(cm, "n").length >= 2);
    expect(updates(cm, "s").map((e) => [e.version, e.ownerId])).toEqual([
      [2, owner.user.id],
      [3, member.user.id],
    ]);
    expect(updates(cm, "n")).toEqual(updates(cm, "s"));
    expect(await readRoom(member, room.id)).toEqual(handed);
    cm.close();
  });

  test("two racing PATCHes get distinct versions; the higher one's details are what GET returns and a client keeps", async () => {
    const owner = await signup(env.api, "rc");
    const member = await signup(env.api, "rc");
    const admin = await createAdmin(env.server, env.api);
    for (let round = 0; round < 3; round++) {
      const room = await createRoom(env.api, owner, `Raced ${round}`, [member.user.id]);
      const cm = await StompTestClient.connect(env.server.wsUrl, member.accessToken);
      await cm.subscribeWithReceipt(roomDest(room.id), "s");
      await cm.subscribeWithReceipt(NOTIFICATIONS, "n");
      const answers = await Promise.all([
        rename(owner, room.id, { name: `By the owner ${round}`, topic: "owner's" }),
        rename(admin, room.id, { name: `By the administrator ${round}` }),
      ]);
      expect(answers.map((a) => a.version).sort()).toEqual([2, 3]);
      await cm.until(() => updates(cm, "s").length >= 2 && updates(cm, "n").length >= 2);
      const after = await readRoom(member, room.id);
      const newest = answers.find((a) => a.version === 3);
      expect(after).toEqual(newest!);
      for (const sub of ["s", "n"]) {
        const events = updates(cm, sub);
        // Each announcement is the details its own change committed, under that change's version.
        expect(events.map((e) => e.version).sort()).toEqual([2, 3]);
        for (const e of events) {
          const answer = answers.find((a) => a.version === e.version)!;
          expect(e).toMatchObject({ name: answer.name, topic: answer.topic, ownerId: answer.ownerId });
        }
        // Whatever order they arrived in, the version rule leaves the client with what GET returns.
        expect(held(room, events)).toEqual(held(after, []));
      }
      cm.close();
    }
  });
});
