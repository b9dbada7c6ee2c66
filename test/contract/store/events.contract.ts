/** Store contract part: reading, editing, deleting and paging messages; replaying the event stream. */
import { describe, expect, test } from "bun:test";
import { expectNotFound, type StoreFixture, T0 } from "./fixtures.ts";

export function eventsContract(fx: StoreFixture): void {
  const { ids, store, user, room, send, lastSeq } = fx;
  describe("messages: read, edit, delete", () => {
    test("findById only within the message's room", async () => {
      const a = await user();
      const r1 = await room([a]);
      const r2 = await room([a]);
      const m = await send(r1.id, a, "hello");
      expect(await store().messages.findById(r1.id, m.id)).toEqual(m);
      expect(await store().messages.findById(r2.id, m.id)).toBeNull();
      expect(await store().messages.findById(r1.id, ids.next())).toBeNull();
    });

    test("edit replaces the body and appends message.edited with the next seq", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      const m = await send(r.id, a, "first draft");
      await send(r.id, b, "reply");
      const ev = await store().messages.edit(r.id, m.id, "final", a.id, T0 + 700);
      const edited = { ...m, body: "final", editedAt: T0 + 700 };
      expect(ev).toEqual({
        roomId: r.id,
        seq: 3,
        type: "message.edited",
        at: T0 + 700,
        actorId: a.id,
        message: edited,
        member: null,
      });
      expect(await store().messages.findById(r.id, m.id)).toEqual(edited);
      expect(await lastSeq(r.id)).toBe(3);
      await expectNotFound(store().messages.edit(r.id, ids.next(), "x", a.id, T0), "message");
      const other = await room([a]);
      await expectNotFound(store().messages.edit(other.id, m.id, "x", a.id, T0), "message");
      expect(await lastSeq(r.id)).toBe(3);
    });

    test("softDelete leaves a tombstone and appends message.deleted once", async () => {
      const a = await user();
      const r = await room([a]);
      const m = await send(r.id, a, "secret");
      const ev = await store().messages.softDelete(r.id, m.id, a.id, T0 + 800);
      const tomb = { ...m, body: null, deletedAt: T0 + 800 };
      expect(ev).toEqual({
        roomId: r.id,
        seq: 2,
        type: "message.deleted",
        at: T0 + 800,
        actorId: a.id,
        message: tomb,
        member: null,
      });
      expect(await store().messages.findById(r.id, m.id)).toEqual(tomb);
      expect(await store().messages.softDelete(r.id, m.id, a.id, T0 + 801)).toBeNull();
      await expectNotFound(store().messages.edit(r.id, m.id, "back", a.id, T0 + 802), "message");
      await expectNotFound(store().messages.softDelete(r.id, ids.next(), a.id, T0), "message");
      expect(await lastSeq(r.id)).toBe(2);
      expect(await store().messages.page(r.id, { limit: 10 })).toEqual([tomb]);
    });

    test("page walks 45 messages newest first by seq cursor: 20, 20, 5", async () => {
      const a = await user();
      const r = await room([a]);
      for (let i = 1; i <= 45; i++) await send(r.id, a, `m${i}`);
      const p1 = await store().messages.page(r.id, { limit: 20 });
      expect(p1.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 45 - i));
      expect(p1[0]?.body).toBe("m45");
      const p2 = await store().messages.page(r.id, { limit: 20, before: p1.at(-1)!.seq });
      expect(p2.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
      const p3 = await store().messages.page(r.id, { limit: 20, before: p2.at(-1)!.seq });
      expect(p3.map((m) => m.seq)).toEqual([5, 4, 3, 2, 1]);
      expect(await store().messages.page(r.id, { limit: 20, before: 1 })).toEqual([]);
      expect(await store().messages.page(ids.next(), { limit: 20 })).toEqual([]);
    });

    test("listEvents replays every event type in order, messages in their current state", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a]);
      const m1 = await send(r.id, a, "one", { createdAt: T0 + 1 });
      const m2 = await send(r.id, a, "two", { createdAt: T0 + 2 });
      await store().messages.edit(r.id, m1.id, "one!", a.id, T0 + 3);
      await store().rooms.addMember(r.id, b.id, "member", a.id, T0 + 4);
      await store().messages.softDelete(r.id, m2.id, a.id, T0 + 5);
      await store().rooms.removeMember(r.id, b.id, b.id, T0 + 6);
      const m3 = await send(r.id, a, "three", { createdAt: T0 + 7 });
      const cur1 = { ...m1, body: "one!", editedAt: T0 + 3 };
      const cur2 = { ...m2, body: null, deletedAt: T0 + 5 };
      const joined = { userId: b.id, role: "member" as const };
      const all = await store().messages.listEvents(r.id, 0, 100);
      expect(all).toEqual([
        { roomId: r.id, seq: 1, type: "message", at: T0 + 1, actorId: a.id, message: cur1, member: null },
        { roomId: r.id, seq: 2, type: "message", at: T0 + 2, actorId: a.id, message: cur2, member: null },
        {
          roomId: r.id,
          seq: 3,
          type: "message.edited",
          at: T0 + 3,
          actorId: a.id,
          message: cur1,
          member: null,
        },
        {
          roomId: r.id,
          seq: 4,
          type: "member.joined",
          at: T0 + 4,
          actorId: a.id,
          message: null,
          member: joined,
        },
        {
          roomId: r.id,
          seq: 5,
          type: "message.deleted",
          at: T0 + 5,
          actorId: a.id,
          message: cur2,
          member: null,
        },
        {
          roomId: r.id,
          seq: 6,
          type: "member.left",
          at: T0 + 6,
          actorId: b.id,
          message: null,
          member: joined,
        },
        { roomId: r.id, seq: 7, type: "message", at: T0 + 7, actorId: a.id, message: m3, member: null },
      ]);
      expect(await store().messages.listEvents(r.id, 3, 2)).toEqual(all.slice(3, 5));
      expect(await store().messages.listEvents(r.id, 7, 10)).toEqual([]);
    });
  });
}
