/** Store contract part: rooms and memberships, DMs, listings, joins, leaves and read markers. */
import { describe, expect, test } from "bun:test";
import { Conflict } from "../../../src/domain/errors.ts";
import { dmKey } from "../../../src/domain/room.ts";
import { UNREAD_COUNT_MAX } from "../../../src/domain/rules.ts";
import { expectConflict, expectNotFound, type StoreFixture, T0 } from "./fixtures.ts";

export function roomsContract(fx: StoreFixture): void {
  const { ids, store, user, room, send, lastSeq } = fx;
  describe("rooms", () => {
    test("create stores the room and its members; the stream starts empty", async () => {
      const a = await user();
      const b = await user();
      const r = await store().rooms.create(
        {
          id: ids.next(),
          kind: "group",
          name: "General",
          topic: "All things",
          ownerId: a.id,
          createdAt: T0 + 7,
        },
        [
          { userId: a.id, role: "owner" },
          { userId: b.id, role: "member" },
        ],
      );
      expect(r).toMatchObject({
        kind: "group",
        name: "General",
        topic: "All things",
        ownerId: a.id,
        createdAt: T0 + 7,
      });
      expect(r.lastSeq).toBe(0);
      expect(await store().rooms.findById(r.id)).toEqual(r);
      expect(await store().rooms.findById(ids.next())).toBeNull();
      expect(await store().rooms.getMember(r.id, a.id)).toEqual({
        roomId: r.id,
        userId: a.id,
        role: "owner",
        joinedAt: T0 + 7,
      });
      expect((await store().rooms.getMember(r.id, b.id))?.role).toBe("member");
      expect(await store().rooms.getMember(r.id, (await user()).id)).toBeNull();
      expect(await store().messages.listEvents(r.id, 0, 100)).toEqual([]);
    });

    test("findMembership reads the room with the user's membership; null member for an outsider, null for no room", async () => {
      const a = await user();
      const b = await user();
      const outsider = await user();
      const r = await store().rooms.create(
        { id: ids.next(), kind: "group", name: "Both", topic: "", ownerId: a.id, createdAt: T0 + 3 },
        [
          { userId: a.id, role: "owner" },
          { userId: b.id, role: "member" },
        ],
      );
      expect(await store().rooms.findMembership(r.id, a.id)).toEqual({
        room: r,
        member: { roomId: r.id, userId: a.id, role: "owner", joinedAt: T0 + 3 },
      });
      expect(await store().rooms.findMembership(r.id, b.id)).toEqual({
        room: r,
        member: { roomId: r.id, userId: b.id, role: "member", joinedAt: T0 + 3 },
      });
      expect(await store().rooms.findMembership(r.id, outsider.id)).toEqual({ room: r, member: null });
      expect(await store().rooms.findMembership(ids.next(), a.id)).toBeNull();
      // A member who left is an outsider again; the room's lastSeq moves with its stream.
      await store().rooms.removeMember(r.id, b.id, a.id, T0 + 4);
      const after = await store().rooms.findMembership(r.id, b.id);
      expect(after?.member).toBeNull();
      expect(after?.room.lastSeq).toBe(1);
    });

    test("a DM is found by its key; a second DM for the same pair is Conflict('dm')", async () => {
      const a = await user();
      const b = await user();
      const key = dmKey(a.id, b.id);
      const members = [
        { userId: a.id, role: "member" as const },
        { userId: b.id, role: "member" as const },
      ];
      const dm = await store().rooms.create(
        { id: ids.next(), kind: "dm", name: "", topic: "", ownerId: null, createdAt: T0, dmKey: key },
        members,
      );
      expect(dm).toMatchObject({ kind: "dm", ownerId: null, lastSeq: 0 });
      expect(await store().rooms.findDm(dmKey(b.id, a.id))).toEqual(dm);
      expect(await store().rooms.findDm(dmKey(a.id, ids.next()))).toBeNull();
      const second = ids.next();
      await expectConflict(
        store().rooms.create(
          { id: second, kind: "dm", name: "", topic: "", ownerId: null, createdAt: T0, dmKey: key },
          members,
        ),
        "dm",
      );
      expect(await store().rooms.findById(second)).toBeNull();
    });

    test("update changes name and topic; NotFound('room') for a missing room", async () => {
      const a = await user();
      const r = await room([a], { name: "Old", topic: "t0" });
      const r1 = await store().rooms.update(r.id, { name: "New" });
      expect(r1).toEqual({ ...r, name: "New", version: 2 });
      const r2 = await store().rooms.update(r.id, { topic: "t1" });
      expect(r2).toEqual({ ...r, name: "New", topic: "t1", version: 3 });
      expect(await store().rooms.findById(r.id)).toEqual(r2);
      await expectNotFound(store().rooms.update(ids.next(), { name: "x" }), "room");
    });

    test("details version: 1 for a new room, one more per update or transfer, unmoved by anything else", async () => {
      const a = await user();
      const b = await user();
      const c = await user();
      const r = await room([a, b]);
      expect(r.version).toBe(1);
      const dm = await store().rooms.create(
        {
          id: ids.next(),
          kind: "dm",
          name: "",
          topic: "",
          ownerId: null,
          createdAt: T0,
          dmKey: dmKey(a.id, b.id),
        },
        [
          { userId: a.id, role: "member" },
          { userId: b.id, role: "member" },
        ],
      );
      expect(dm.version).toBe(1);
      const version = async () => (await store().rooms.findById(r.id))?.version;

      expect((await store().rooms.update(r.id, { name: "Renamed" })).version).toBe(2);
      expect((await store().rooms.update(r.id, { topic: "Topic" })).version).toBe(3);
      expect(
        (await store().rooms.transferOwnership(r.id, b.id, { expectedOwnerId: a.id })).room.version,
      ).toBe(4);
      // An update that repeats the details, or names none, still commits and is announced: it gets a version.
      expect((await store().rooms.update(r.id, { name: "Renamed" })).version).toBe(5);
      expect(await store().rooms.update(r.id, {})).toMatchObject({
        name: "Renamed",
        topic: "Topic",
        version: 6,
      });
      // A transfer to the current owner changes nothing, the version included.
      expect((await store().rooms.transferOwnership(r.id, b.id)).room.version).toBe(6);
      expect(
        (await store().rooms.transferOwnership(r.id, b.id, { expectedOwnerId: b.id })).room.version,
      ).toBe(6);
      // Refused transfers and updates of another room leave it.
      await expectConflict(store().rooms.transferOwnership(r.id, a.id, { expectedOwnerId: a.id }), "owner");
      await expectNotFound(store().rooms.transferOwnership(r.id, c.id), "member");
      await expectNotFound(store().rooms.update(ids.next(), { name: "x" }), "room");
      expect(await version()).toBe(6);
      // Stream events and read markers are not details: the version stays where it is.
      const m = await send(r.id, a, "hello");
      await store().messages.edit(r.id, m.id, "hello again", a.id, T0 + 50);
      await store().messages.softDelete(r.id, m.id, a.id, T0 + 51);
      await store().rooms.addMember(r.id, c.id, "member", b.id, T0 + 52);
      await store().rooms.markRead(r.id, c.id, await lastSeq(r.id));
      await store().rooms.removeMember(r.id, c.id, b.id, T0 + 53);
      expect(await lastSeq(r.id)).toBe(5);
      expect(await version()).toBe(6);
      // Every read of the room carries it.
      expect((await store().rooms.findMembership(r.id, a.id))?.room.version).toBe(6);
      expect((await store().rooms.listForUser(a.id)).find((x) => x.room.id === r.id)?.room.version).toBe(6);
      expect((await store().rooms.findDm(dmKey(a.id, b.id)))?.version).toBe(1);
    });

    test("concurrent updates and transfers of one room get versions 2..n+1 in commit order; the highest is the room", async () => {
      const owner = await user();
      const others = await Promise.all(Array.from({ length: 4 }, () => user()));
      const r = await room([owner, ...others], { name: "n0", topic: "t0" });
      type Change = { name?: string; topic?: string; ownerId?: string };
      const changes: Change[] = [
        ...Array.from({ length: 8 }, (_, i) => ({ name: `name ${i}` })),
        ...Array.from({ length: 4 }, (_, i) => ({ topic: `topic ${i}` })),
        { name: "both", topic: "both" },
        ...others.map((o) => ({ ownerId: o.id })),
      ];
      const results = await Promise.all(
        changes.map(async (change) => {
          const committed =
            change.ownerId === undefined
              ? await store().rooms.update(r.id, change)
              : (await store().rooms.transferOwnership(r.id, change.ownerId)).room;
          return { change, committed };
        }),
      );
      const byVersion = [...results].sort((x, y) => x.committed.version - y.committed.version);
      expect(byVersion.map((x) => x.committed.version)).toEqual(
        Array.from({ length: changes.length }, (_, i) => i + 2),
      );
      // Applying the changes in version order reproduces every committed room: each change saw exactly the
      // details the one below it committed, so the versions are the commit order.
      let expected = r;
      for (const { change, committed } of byVersion) {
        expected = { ...expected, ...change, version: expected.version + 1 };
        expect(committed).toEqual(expected);
      }
      expect(await store().rooms.findById(r.id)).toEqual(byVersion.at(-1)?.committed ?? null);
      const owners = (await store().rooms.listMembers(r.id, null, 100)).filter(
        (v) => v.member.role === "owner",
      );
      expect(owners.map((v) => v.member.userId)).toEqual([expected.ownerId ?? ""]);
    });

    test("listForUser: my rooms by latest activity, with last message, unread count, read marker, role", async () => {
      const a = await user();
      const b = await user();
      const c = await user();
      const r1 = await room([a, b], { createdAt: T0 + 10 });
      const r2 = await room([c, a], { createdAt: T0 + 20 });
      const r3 = await room([a], { createdAt: T0 + 60 });
      await room([b, c], { createdAt: T0 + 500 });
      const m1 = await send(r1.id, b, "one", { createdAt: T0 + 100 });
      const m2 = await send(r1.id, b, "two", { createdAt: T0 + 101 });
      await send(r1.id, a, "own", { createdAt: T0 + 102 });
      const m4 = await send(r1.id, b, "four", { createdAt: T0 + 103 });
      await store().messages.softDelete(r1.id, m2.id, b.id, T0 + 104);
      await store().rooms.markRead(r1.id, a.id, m1.seq);
      const m5 = await send(r2.id, c, "hello", { createdAt: T0 + 50 });

      const list = await store().rooms.listForUser(a.id);
      expect(list.map((s) => s.room.id)).toEqual([r1.id, r3.id, r2.id]);
      const [s1, s3, s2] = list;
      expect(s1).toEqual({
        room: { ...r1, lastSeq: 5 },
        myRole: "owner",
        lastMessage: m4,
        unreadCount: 1,
        readSeq: m1.seq,
      });
      expect(s2).toEqual({
        room: { ...r2, lastSeq: 1 },
        myRole: "member",
        lastMessage: m5,
        unreadCount: 1,
        readSeq: 0,
      });
      expect(s3).toEqual({ room: r3, myRole: "owner", lastMessage: null, unreadCount: 0, readSeq: 0 });
      // A marker at 0 does not move: the call only reads b's count.
      expect(await store().rooms.markRead(r1.id, b.id, 0)).toEqual({
        readSeq: 0,
        unreadCount: 1,
        countedSeq: 5,
      });
      expect(await store().rooms.listForUser((await user()).id)).toEqual([]);
    });

    /**
     * Two writers append, and delete every third of their messages, while `read` takes a's count in the room over
     * and over (two readers at once): each count must hold exactly the room's events up to the seq it says it was
     * read at (`at`). Resolves with the room and users once the writers are done.
     */
    const expectCountsExactWhileWriting = async (
      read: (userId: string, roomId: string) => Promise<{ unreadCount: number; at: number } | undefined>,
    ) => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      let writing = 2;
      const writer = async (w: number) => {
        for (let i = 0; i < 15; i++) {
          const m = await send(r.id, b, `w${w}m${i}`);
          if (i % 3 === 0) await store().messages.softDelete(r.id, m.id, b.id, T0 + 9000 + i);
        }
        writing--;
      };
      const results: Array<{ unreadCount: number; at: number }> = [];
      const reader = async () => {
        while (writing > 0) {
          const result = await read(a.id, r.id);
          if (result !== undefined) results.push(result);
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      };
      await Promise.all([writer(1), writer(2), reader(), reader()]);
      const events = await store().messages.listEvents(r.id, 0, 1000);
      expect(events).toHaveLength(40);
      const expected = (upTo: number) =>
        events.filter((e) => e.seq <= upTo && e.type === "message").length -
        events.filter((e) => e.seq <= upTo && e.type === "message.deleted").length;
      expect(results.length).toBeGreaterThan(0);
      for (const { unreadCount, at } of results) expect(unreadCount).toBe(expected(at));
      return { a, r };
    };

    test("roomIdsOf and readStatesOf: my rooms, and per room what listForUser says of my reading", async () => {
      const a = await user();
      const b = await user();
      const r1 = await room([a, b]);
      const r2 = await room([b, a]);
      const r3 = await room([a]);
      const other = await room([b]);
      const m1 = await send(r1.id, b, "one");
      const m2 = await send(r1.id, b, "two");
      await send(r1.id, a, "own");
      await send(r1.id, b, "four");
      await store().messages.softDelete(r1.id, m2.id, b.id, T0 + 104);
      await store().rooms.markRead(r1.id, a.id, m1.seq);
      await send(r2.id, b, "hello");
      await send(other.id, b, "not mine");

      const byId = <T extends { roomId: string }>(xs: T[]) =>
        [...xs].sort((x, y) => x.roomId.localeCompare(y.roomId));
      expect((await store().rooms.roomIdsOf(a.id)).sort()).toEqual([r1.id, r2.id, r3.id].sort());
      const states = byId(await store().rooms.readStatesOf(a.id));
      const summaries = await store().rooms.listForUser(a.id);
      // The same marker and count as the room list, with the room's last seq.
      expect(states).toEqual(
        byId(
          summaries.map((s) => ({
            roomId: s.room.id,
            readSeq: s.readSeq,
            unreadCount: s.unreadCount,
            lastSeq: s.room.lastSeq,
          })),
        ),
      );
      expect(states.find((s) => s.roomId === r1.id)).toEqual({
        roomId: r1.id,
        readSeq: m1.seq,
        unreadCount: 1,
        lastSeq: 5,
      });
      expect(states.find((s) => s.roomId === r3.id)).toEqual({
        roomId: r3.id,
        readSeq: 0,
        unreadCount: 0,
        lastSeq: 0,
      });

      // Leaving a room takes it out of both; a user in no room has none.
      await store().rooms.removeMember(r2.id, a.id, a.id, T0 + 600);
      expect((await store().rooms.roomIdsOf(a.id)).sort()).toEqual([r1.id, r3.id].sort());
      expect((await store().rooms.readStatesOf(a.id)).map((s) => s.roomId).sort()).toEqual(
        [r1.id, r3.id].sort(),
      );
      const lonely = await user();
      expect(await store().rooms.roomIdsOf(lonely.id)).toEqual([]);
      expect(await store().rooms.readStatesOf(lonely.id)).toEqual([]);
    });

    test("readStatesOf: each count holds exactly the events up to its lastSeq, also while others commit", async () => {
      await expectCountsExactWhileWriting(async (a) => {
        const [state] = await store().rooms.readStatesOf(a);
        return state === undefined ? undefined : { unreadCount: state.unreadCount, at: state.lastSeq };
      });
    });

    test("listMembers: a page of members by user id, with their public profile only", async () => {
      const a = await user();
      const b = await user();
      const c = await user({ displayName: "Carol C." });
      const r = await room([a, b]);
      await store().rooms.addMember(r.id, c.id, "member", a.id, T0 + 500);
      const views = await store().rooms.listMembers(r.id, null, 100);
      expect(views.map((v) => v.member.userId)).toEqual([a.id, b.id, c.id].sort());
      const carol = views.find((v) => v.member.userId === c.id);
      expect(carol?.member).toEqual({ roomId: r.id, userId: c.id, role: "member", joinedAt: T0 + 500 });
      expect(carol?.user).toEqual({
        id: c.id,
        username: c.username,
        displayName: "Carol C.",
        role: "user",
        status: "active",
      });
      for (const v of views) {
        expect(Object.keys(v.user).sort()).toEqual(["displayName", "id", "role", "status", "username"]);
      }
      expect(await store().rooms.listMembers(ids.next(), null, 100)).toEqual([]);
    });

    test("listMembers pages: at most `limit`, above `after` (exclusive), each member once", async () => {
      const everyone = [await user(), await user(), await user(), await user(), await user()];
      const r = await room(everyone);
      const sorted = everyone.map((u) => u.id).sort();
      const page = async (after: string | null, limit: number) =>
        (await store().rooms.listMembers(r.id, after, limit)).map((v) => v.member.userId);
      expect(await page(null, 2)).toEqual(sorted.slice(0, 2));
      expect(await page(sorted[1] ?? null, 2)).toEqual(sorted.slice(2, 4));
      expect(await page(sorted[3] ?? null, 2)).toEqual(sorted.slice(4));
      expect(await page(sorted[4] ?? null, 2)).toEqual([]);
      // A cursor that is no member (one who left, or any id) continues after where it would sort. The room's
      // owner (its first member) may not leave while others remain, so one of the others leaves.
      const at = sorted.findIndex((id) => id !== everyone[0]?.id);
      const gone = sorted[at] ?? "";
      await store().rooms.removeMember(r.id, gone, gone, T0 + 700);
      expect(await page(gone, 10)).toEqual(sorted.slice(at + 1));
      expect(await page(null, 10)).toEqual(sorted.filter((id) => id !== gone));
      expect(await page("", 1)).toEqual(sorted.slice(0, 1));
    });

    test("addMember appends member.joined with the next seq; null when already a member", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a]);
      await send(r.id, a, "before");
      const ev = await store().rooms.addMember(r.id, b.id, "member", a.id, T0 + 300);
      expect(ev).toEqual({
        roomId: r.id,
        seq: 2,
        type: "member.joined",
        at: T0 + 300,
        actorId: a.id,
        message: null,
        member: { userId: b.id, role: "member" },
      });
      expect(await store().rooms.getMember(r.id, b.id)).toEqual({
        roomId: r.id,
        userId: b.id,
        role: "member",
        joinedAt: T0 + 300,
      });
      expect(await store().rooms.addMember(r.id, b.id, "owner", a.id, T0 + 301)).toBeNull();
      expect((await store().rooms.getMember(r.id, b.id))?.role).toBe("member");
      expect(await lastSeq(r.id)).toBe(2);
      await expectNotFound(store().rooms.addMember(ids.next(), b.id, "member", a.id, T0), "room");
      await expectNotFound(store().rooms.addMember(r.id, ids.next(), "member", a.id, T0), "user");
      expect(await lastSeq(r.id)).toBe(2);
    });

    test("removeMember appends member.left; null when not a member", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      const ev = await store().rooms.removeMember(r.id, b.id, a.id, T0 + 400);
      expect(ev).toEqual({
        roomId: r.id,
        seq: 1,
        type: "member.left",
        at: T0 + 400,
        actorId: a.id,
        message: null,
        member: { userId: b.id, role: "member" },
      });
      expect(await store().rooms.getMember(r.id, b.id)).toBeNull();
      expect(await store().rooms.listForUser(b.id)).toEqual([]);
      expect(await store().rooms.removeMember(r.id, b.id, a.id, T0 + 401)).toBeNull();
      expect(await lastSeq(r.id)).toBe(1);
      const again = await store().rooms.addMember(r.id, b.id, "member", a.id, T0 + 402);
      expect(again?.seq).toBe(2);
    });

    test("removeMember refuses the owner while others remain (Conflict('owner')); alone, the owner may leave", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      await expectConflict(store().rooms.removeMember(r.id, a.id, a.id, T0 + 500), "owner");
      expect((await store().rooms.getMember(r.id, a.id))?.role).toBe("owner");
      expect(await lastSeq(r.id)).toBe(0);
      await store().rooms.removeMember(r.id, b.id, a.id, T0 + 501);
      const left = await store().rooms.removeMember(r.id, a.id, a.id, T0 + 502);
      expect(left).toMatchObject({ seq: 2, type: "member.left", member: { userId: a.id, role: "owner" } });
      expect(await store().rooms.listMembers(r.id, null, 100)).toEqual([]);
    });

    test("transferOwnership moves ownerId and both roles in one step, appending no event", async () => {
      const a = await user();
      const b = await user();
      const c = await user();
      const r = await room([a, b, c]);
      await send(r.id, a, "before");
      const t = await store().rooms.transferOwnership(r.id, b.id, { expectedOwnerId: a.id });
      expect(t).toEqual({ room: { ...r, ownerId: b.id, lastSeq: 1, version: 2 }, previousOwnerId: a.id });
      expect(await store().rooms.findById(r.id)).toEqual(t.room);
      const roles = (await store().rooms.listMembers(r.id, null, 100)).map((v) => [
        v.member.userId,
        v.member.role,
      ]);
      expect(roles).toEqual([
        [a.id, "member"],
        [b.id, "owner"],
        [c.id, "member"],
      ]);
      expect((await store().rooms.listForUser(b.id))[0]?.myRole).toBe("owner");
      expect((await store().rooms.listForUser(a.id))[0]?.myRole).toBe("member");
      expect(await lastSeq(r.id)).toBe(1);
      // The previous owner is a plain member now: they may leave, and the new owner may not.
      await expectConflict(store().rooms.removeMember(r.id, b.id, b.id, T0 + 600), "owner");
      expect((await store().rooms.removeMember(r.id, a.id, a.id, T0 + 601))?.member).toEqual({
        userId: a.id,
        role: "member",
      });
    });

    test("transferOwnership: naming the owner changes nothing; a stale expectedOwnerId, a non-member or no room change nothing", async () => {
      const a = await user();
      const b = await user();
      const outsider = await user();
      const r = await room([a, b]);
      const members = async () =>
        (await store().rooms.listMembers(r.id, null, 100)).map((v) => [v.member.userId, v.member.role]);
      const before = await members();

      expect(await store().rooms.transferOwnership(r.id, a.id, { expectedOwnerId: a.id })).toEqual({
        room: r,
        previousOwnerId: a.id,
      });
      await expectConflict(store().rooms.transferOwnership(r.id, a.id, { expectedOwnerId: b.id }), "owner");
      await expectConflict(store().rooms.transferOwnership(r.id, b.id, { expectedOwnerId: b.id }), "owner");
      await expectNotFound(store().rooms.transferOwnership(r.id, outsider.id), "member");
      await expectNotFound(store().rooms.transferOwnership(r.id, ids.next()), "member");
      await expectNotFound(store().rooms.transferOwnership(ids.next(), b.id), "room");
      expect(await store().rooms.findById(r.id)).toEqual(r);
      expect(await members()).toEqual(before);
    });

    test("transferOwnership without expectedOwnerId applies to whoever owns the room, also one whose owner left", async () => {
      const a = await user();
      const b = await user();
      const c = await user();
      const r = await room([a]);
      await store().rooms.removeMember(r.id, a.id, a.id, T0 + 700);
      await store().rooms.addMember(r.id, b.id, "member", c.id, T0 + 701);
      await store().rooms.addMember(r.id, c.id, "member", c.id, T0 + 702);
      expect((await store().rooms.findById(r.id))?.ownerId).toBe(a.id);
      const t = await store().rooms.transferOwnership(r.id, c.id);
      expect(t.previousOwnerId).toBe(a.id);
      expect(t.room.ownerId).toBe(c.id);
      expect((await store().rooms.getMember(r.id, c.id))?.role).toBe("owner");
      expect((await store().rooms.getMember(r.id, b.id))?.role).toBe("member");
      const again = await store().rooms.transferOwnership(r.id, b.id);
      expect(again.previousOwnerId).toBe(c.id);
      expect((await store().rooms.getMember(r.id, c.id))?.role).toBe("member");
      expect((await store().rooms.getMember(r.id, b.id))?.role).toBe("owner");
    });

    /** The room's owner as stored, and every member holding the owner role. */
    const owners = async (
      roomId: string,
    ): Promise<{ ownerId: string | null; withRole: Array<string | null> }> => {
      const r = await store().rooms.findById(roomId);
      if (r === null) throw new Error("no such room");
      const views = await store().rooms.listMembers(roomId, null, 100);
      return {
        ownerId: r.ownerId,
        withRole: views.filter((v) => v.member.role === "owner").map((v) => v.member.userId),
      };
    };

    test("concurrent transfers by one owner to different members: exactly one applies, one owner remains", async () => {
      const a = await user();
      const others = await Promise.all(Array.from({ length: 12 }, () => user()));
      const r = await room([a, ...others]);
      const results = await Promise.allSettled(
        others.map((o) => store().rooms.transferOwnership(r.id, o.id, { expectedOwnerId: a.id })),
      );
      const winners = results.flatMap((x, i) => (x.status === "fulfilled" ? [others[i]!.id] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0] ?? null;
      for (const x of results) {
        if (x.status === "fulfilled") continue;
        expect(x.reason).toBeInstanceOf(Conflict);
        expect((x.reason as Conflict).key).toBe("owner");
      }
      expect(await owners(r.id)).toEqual({ ownerId: winner, withRole: [winner] });
      expect((await store().rooms.getMember(r.id, a.id))?.role).toBe("member");
    });

    test("concurrent unconditional transfers all apply in some order and leave exactly one owner", async () => {
      const a = await user();
      const others = await Promise.all(Array.from({ length: 12 }, () => user()));
      const r = await room([a, ...others]);
      const results = await Promise.all(others.map((o) => store().rooms.transferOwnership(r.id, o.id)));
      // Serialised: each saw the owner the previous one left, so the previous owners form one chain from a.
      const chain = new Map(results.map((t) => [t.previousOwnerId, t.room.ownerId]));
      expect(chain.size).toBe(others.length);
      let last: string | null = a.id;
      for (let i = 0; i < others.length; i++) last = chain.get(last) ?? null;
      expect(last).not.toBeNull();
      expect(await owners(r.id)).toEqual({ ownerId: last, withRole: [last] });
    });

    test("a transfer racing the removal of its target: one of them applies and the room keeps an owner who is a member", async () => {
      for (let round = 0; round < 5; round++) {
        const a = await user();
        const b = await user();
        const c = await user();
        const r = await room([a, b, c]);
        const [transfer, removal] = await Promise.allSettled([
          store().rooms.transferOwnership(r.id, b.id, { expectedOwnerId: a.id }),
          store().rooms.removeMember(r.id, b.id, a.id, T0 + 800),
        ]);
        expect([transfer.status, removal.status].filter((s) => s === "fulfilled")).toHaveLength(1);
        const now = await owners(r.id);
        expect(now.withRole).toEqual([now.ownerId]);
        const memberIds: Array<string | null> = (await store().rooms.listMembers(r.id, null, 100)).map(
          (v) => v.member.userId,
        );
        expect(memberIds).toContain(now.ownerId);
      }
    });

    test("markRead never moves backwards; NotFound('member') for a non-member", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      for (let i = 0; i < 4; i++) await send(r.id, b, `m${i}`);
      expect(await store().rooms.markRead(r.id, a.id, 3)).toEqual({
        readSeq: 3,
        unreadCount: 1,
        countedSeq: 4,
      });
      expect(await store().rooms.markRead(r.id, a.id, 1)).toEqual({
        readSeq: 3,
        unreadCount: 1,
        countedSeq: 4,
      });
      expect((await store().rooms.listForUser(a.id))[0]?.readSeq).toBe(3);
      expect(await store().rooms.markRead(r.id, a.id, 4)).toEqual({
        readSeq: 4,
        unreadCount: 0,
        countedSeq: 4,
      });
      await expectNotFound(store().rooms.markRead(r.id, (await user()).id, 1), "member");
    });

    test("markRead counts others' live messages above the marker, as of the room's last seq", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      const m1 = await send(r.id, b, "1");
      const m2 = await send(r.id, b, "2");
      await send(r.id, a, "mine");
      await send(r.id, b, "3");
      expect(await store().rooms.markRead(r.id, a.id, 0)).toEqual({
        readSeq: 0,
        unreadCount: 3,
        countedSeq: 4,
      });
      await store().messages.softDelete(r.id, m2.id, b.id, T0 + 9000);
      expect(await store().rooms.markRead(r.id, a.id, 0)).toEqual({
        readSeq: 0,
        unreadCount: 2,
        countedSeq: 5,
      });
      expect(await store().rooms.markRead(r.id, a.id, m1.seq)).toEqual({
        readSeq: m1.seq,
        unreadCount: 1,
        countedSeq: 5,
      });
      // A member event moves the seq, not the count.
      await store().rooms.addMember(r.id, (await user()).id, "member", a.id, T0 + 9001);
      expect(await store().rooms.markRead(r.id, a.id, await lastSeq(r.id))).toEqual({
        readSeq: 6,
        unreadCount: 0,
        countedSeq: 6,
      });
    });

    test("markRead's count holds exactly the events up to countedSeq, also while others commit", async () => {
      // a's marker stays at 0: each call only reads the count.
      const { a, r } = await expectCountsExactWhileWriting(async (userId, roomId) => {
        const mark = await store().rooms.markRead(roomId, userId, 0);
        return { unreadCount: mark.unreadCount, at: mark.countedSeq };
      });
      expect(await store().rooms.markRead(r.id, a.id, 0)).toEqual({
        readSeq: 0,
        unreadCount: 20,
        countedSeq: 40,
      });
    });

    test(`unread counts stop at UNREAD_COUNT_MAX (${UNREAD_COUNT_MAX}); below it they are exact, without own or deleted messages`, async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      // Sent concurrently, so the store's group commit takes them in a few transactions; seqs 1..cap+5.
      const cap = UNREAD_COUNT_MAX;
      const sent = await Promise.all(Array.from({ length: cap + 5 }, (_, i) => send(r.id, b, `m${i}`)));
      const unreadOf = async (who: string) =>
        (await store().rooms.listForUser(who)).find((s) => s.room.id === r.id)?.unreadCount;
      expect(await unreadOf(a.id)).toBe(cap);
      expect(await store().rooms.markRead(r.id, a.id, 0)).toEqual({
        readSeq: 0,
        unreadCount: cap,
        countedSeq: cap + 5,
      });
      // The sender's own messages never count, however many there are.
      expect(await unreadOf(b.id)).toBe(0);

      // Below the cap again: the first six deleted (met first by the count, and skipped), three of a's own after.
      for (const m of sent.filter((m) => m.seq <= 6))
        await store().messages.softDelete(r.id, m.id, b.id, T0 + 9000);
      for (let i = 0; i < 3; i++) await send(r.id, a, `own ${i}`);
      expect(await unreadOf(a.id)).toBe(cap - 1);
      expect(await store().rooms.markRead(r.id, a.id, 0)).toEqual({
        readSeq: 0,
        unreadCount: cap - 1,
        countedSeq: cap + 14,
      });
      // Exactly the cap and one more both read as the cap; a marker that leaves one fewer than it, exactly.
      await send(r.id, b, "cap");
      expect(await unreadOf(a.id)).toBe(cap);
      await send(r.id, b, "cap + 1");
      expect(await unreadOf(a.id)).toBe(cap);
      expect(await store().rooms.markRead(r.id, a.id, 7)).toEqual({
        readSeq: 7,
        unreadCount: cap,
        countedSeq: cap + 16,
      });
      expect(await store().rooms.markRead(r.id, a.id, 8)).toEqual({
        readSeq: 8,
        unreadCount: cap - 1,
        countedSeq: cap + 16,
      });
      expect(await unreadOf(a.id)).toBe(cap - 1);
    });
  });
}
