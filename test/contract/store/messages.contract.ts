/** Store contract part: appending messages, seq assignment, idempotency and payload fidelity. */
import { describe, expect, test } from "bun:test";
import { NotFound } from "../../../src/domain/errors.ts";
import { expectConflict, expectNotFound, type StoreFixture, T0 } from "./fixtures.ts";

export function messagesContract(fx: StoreFixture): void {
  const { ids, store, user, room, send, lastSeq } = fx;
  describe("messages: append", () => {
    test("assigns seq 1, 2, 3 and returns the committed message and event", async () => {
      const a = await user();
      const r = await room([a]);
      const results = [];
      for (let i = 1; i <= 3; i++) {
        const id = ids.next();
        const res = await store().messages.append({
          id,
          roomId: r.id,
          senderId: a.id,
          body: `b${i}`,
          clientMsgId: null,
          createdAt: T0 + i,
        });
        const message = {
          id,
          roomId: r.id,
          seq: i,
          senderId: a.id,
          body: `b${i}`,
          clientMsgId: null,
          createdAt: T0 + i,
          editedAt: null,
          deletedAt: null,
        };
        expect(res).toEqual({
          message,
          created: true,
          event: {
            roomId: r.id,
            seq: i,
            type: "message",
            at: T0 + i,
            actorId: a.id,
            message,
            member: null,
          },
        });
        results.push(res);
      }
      expect(await lastSeq(r.id)).toBe(3);
      expect(await store().messages.findById(r.id, results[1]!.message.id)).toEqual(results[1]!.message);
    });

    test("appends handed over before the last one settled get seqs in call order, across commits", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      const pending: Promise<{ readonly message: { readonly id: string; readonly seq: number } }>[] = [];
      const order: string[] = [];
      // Some calls in the same turn, some a turn or a timer later, while earlier ones are still committing:
      // what a connection that sends back to back does.
      for (let i = 0; i < 40; i++) {
        const id = ids.next();
        order.push(id);
        pending.push(
          store().messages.append({
            id,
            roomId: r.id,
            senderId: i % 3 === 0 ? b.id : a.id,
            body: `m${i}`,
            clientMsgId: null,
            createdAt: T0 + i,
          }),
        );
        if (i % 4 === 1) await new Promise<void>((resolve) => setImmediate(resolve));
        if (i % 9 === 2) await Bun.sleep(2);
      }
      const results = await Promise.all(pending);
      expect(results.map((x) => x.message.id)).toEqual(order);
      expect(results.map((x) => x.message.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const stored = await store().messages.page(r.id, { limit: 40 });
      expect(stored.map((m) => m.id).reverse()).toEqual(order);
    });

    test("is idempotent on (sender, clientMsgId): same message, created=false, no event, no second row", async () => {
      const a = await user();
      const r = await room([a]);
      const first = await store().messages.append({
        id: ids.next(),
        roomId: r.id,
        senderId: a.id,
        body: "hi",
        clientMsgId: "c-1",
        createdAt: T0,
      });
      expect(first.created).toBe(true);
      expect(first.message.clientMsgId).toBe("c-1");
      const again = await store().messages.append({
        id: ids.next(),
        roomId: r.id,
        senderId: a.id,
        body: "other",
        clientMsgId: "c-1",
        createdAt: T0 + 5,
      });
      expect(again).toEqual({ message: first.message, event: null, created: false });
      expect(await lastSeq(r.id)).toBe(1);
      expect(await store().messages.page(r.id, { limit: 10 })).toEqual([first.message]);
    });

    test("20 concurrent appends with one clientMsgId store exactly one message", async () => {
      const a = await user();
      const r = await room([a]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store().messages.append({
            id: ids.next(),
            roomId: r.id,
            senderId: a.id,
            body: `try ${i}`,
            clientMsgId: "same",
            createdAt: T0 + i,
          }),
        ),
      );
      expect(results.filter((x) => x.created).length).toBe(1);
      expect(new Set(results.map((x) => x.message.id)).size).toBe(1);
      expect(results.every((x) => x.message.seq === 1)).toBe(true);
      expect(results.filter((x) => x.event !== null).length).toBe(1);
      expect(await lastSeq(r.id)).toBe(1);
      expect((await store().messages.page(r.id, { limit: 100 })).length).toBe(1);
    });

    test("50 concurrent appends get seqs exactly 1..50", async () => {
      const a = await user();
      const b = await user();
      const r = await room([a, b]);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store().messages.append({
            id: ids.next(),
            roomId: r.id,
            senderId: i % 2 ? a.id : b.id,
            body: `m${i}`,
            clientMsgId: null,
            createdAt: T0 + i,
          }),
        ),
      );
      const seqs = results.map((x) => x.message.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await lastSeq(r.id)).toBe(50);
      expect((await store().messages.listEvents(r.id, 0, 100)).map((e) => e.seq)).toEqual(seqs);
    });

    test("clientMsgId is scoped to the sender; another room for the same pair is Conflict('clientMsgId')", async () => {
      const a = await user();
      const b = await user();
      const r1 = await room([a, b]);
      const r2 = await room([a, b]);
      const x = await store().messages.append({
        id: ids.next(),
        roomId: r1.id,
        senderId: a.id,
        body: "x",
        clientMsgId: "k",
        createdAt: T0,
      });
      const y = await store().messages.append({
        id: ids.next(),
        roomId: r1.id,
        senderId: b.id,
        body: "y",
        clientMsgId: "k",
        createdAt: T0,
      });
      expect(y.created).toBe(true);
      expect(y.message.id).not.toBe(x.message.id);
      await expectConflict(
        store().messages.append({
          id: ids.next(),
          roomId: r2.id,
          senderId: a.id,
          body: "z",
          clientMsgId: "k",
          createdAt: T0,
        }),
        "clientMsgId",
      );
      expect(await lastSeq(r2.id)).toBe(0);
      await expectNotFound(
        store().messages.append({
          id: ids.next(),
          roomId: ids.next(),
          senderId: a.id,
          body: "z",
          clientMsgId: null,
          createdAt: T0,
        }),
        "room",
      );
    });

    test("only a member appends: NotFound('member') stores nothing and takes no seq, a replay included", async () => {
      const a = await user();
      const outsider = await user();
      const r = await room([a, outsider]);
      const kept = await send(r.id, outsider, "while a member", { clientMsgId: "k-left" });
      expect(await store().rooms.removeMember(r.id, outsider.id, outsider.id, T0 + 1)).not.toBeNull();
      const attempt = (clientMsgId: string | null, senderId = outsider.id) =>
        store().messages.append({
          id: ids.next(),
          roomId: r.id,
          senderId,
          body: "no",
          clientMsgId,
          createdAt: T0 + 2,
        });
      await expectNotFound(attempt(null), "member");
      // Checked before the replay: a former member's retry of a stored pair is refused, not answered.
      await expectNotFound(attempt("k-left"), "member");
      await expectNotFound(attempt("k-new"), "member");
      // A user who was never in the room, and one who does not exist, read the same.
      const stranger = await user();
      await expectNotFound(attempt(null, stranger.id), "member");
      await expectNotFound(attempt(null, ids.next()), "member");
      // A missing room is told as such, before membership.
      await expectNotFound(
        store().messages.append({
          id: ids.next(),
          roomId: ids.next(),
          senderId: a.id,
          body: "x",
          clientMsgId: null,
          createdAt: T0,
        }),
        "room",
      );
      expect(await lastSeq(r.id)).toBe(2);
      expect((await store().messages.page(r.id, { limit: 10 })).map((m) => m.id)).toEqual([kept.id]);
      const next = await send(r.id, a, "still open");
      expect(next.seq).toBe(3);
    });

    test("a member removed while appends race gets no message after their member.left", async () => {
      const owner = await user();
      const leaver = await user();
      const r = await room([owner, leaver]);
      const appends = Array.from({ length: 30 }, (_, i) =>
        store()
          .messages.append({
            id: ids.next(),
            roomId: r.id,
            senderId: leaver.id,
            body: `m${i}`,
            clientMsgId: null,
            createdAt: T0 + i,
          })
          .then(
            (res) => res.message.seq,
            (e: unknown) => e,
          ),
      );
      const removal = store().rooms.removeMember(r.id, leaver.id, owner.id, T0 + 15);
      const [outcomes, left] = await Promise.all([Promise.all(appends), removal]);
      expect(left?.type).toBe("member.left");
      const leftSeq = left!.seq;
      const stored = outcomes.filter((o): o is number => typeof o === "number");
      const refused = outcomes.filter((o) => typeof o !== "number");
      expect(stored.every((seq) => seq < leftSeq)).toBe(true);
      for (const e of refused) {
        expect(e).toBeInstanceOf(NotFound);
        expect((e as NotFound).entity).toBe("member");
      }
      expect(stored.length + refused.length).toBe(30);
      const events = await store().messages.listEvents(r.id, 0, 100);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: leftSeq }, (_, i) => i + 1));
      expect(events.filter((e) => e.type === "message" && e.seq > leftSeq)).toEqual([]);
    });

    test("stored SQL and HTML payloads come back byte-for-byte", async () => {
      const a = await user();
      const r = await room([a]);
      const bodies = [
        "'; DROP TABLE users; --",
        "Robert'); DROP TABLE messages;--",
        '<script>alert("x")</script>',
        "<img src=x onerror=alert(1)>&amp;&lt;",
        "  spaced\n\ttabs\r\n  ",
        "emoji 🎉👩‍👩‍👧 combining e\u0301 vs é, RTL \u202Eabc",
        "\\ backslash % percent _ underscore ? $1 :name",
        "x".repeat(5000),
      ];
      const sent = [];
      for (const body of bodies) sent.push(await send(r.id, a, body));
      const page = await store().messages.page(r.id, { limit: 100 });
      expect(page.map((m) => m.body)).toEqual([...bodies].reverse());
      for (const m of sent) expect((await store().messages.findById(r.id, m.id))?.body).toBe(m.body!);
      expect((await store().users.findById(a.id))?.id).toBe(a.id);
    });
  });
}
