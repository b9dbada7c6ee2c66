/**
 * The core flow, end to end, on every store: SQLite always, PostgreSQL when it is reachable. The other files in
 * this folder go deeper on SQLite; this one proves the HTTP contract does not depend on the store underneath.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { postgresAvailable } from "../support/services.ts";
import {
  type Account,
  createRoom,
  expectError,
  expectStatus,
  fullHistory,
  history,
  login,
  rotateThenReuse,
  send,
  signup,
  useTestServer,
  type WireMessage,
  type WireRoom,
} from "./helpers.ts";

const pgReachable = await postgresAvailable();

for (const store of ["sqlite", "postgres"] as const) {
  describe.skipIf(store === "postgres" && !pgReachable)(`core flow on ${store}`, () => {
    let alice: Account;
    let bob: Account;
    let room: WireRoom;

    const env = useTestServer({ store });
    beforeAll(async () => {
      [alice, bob] = await Promise.all([signup(env.api, "alice"), signup(env.api, "bob")]);
    });

    test("accounts: login, refresh rotation, reuse detection, logout", async () => {
      const session = await login(env.api, alice.user.email ?? "", alice.password);
      await rotateThenReuse(env.api, session.refreshToken);

      const other = await login(env.api, alice.user.username, alice.password);
      expectStatus(await env.api.post("/auth/logout", undefined, other.accessToken), 204);
      expectError(await env.api.get("/me", other.accessToken), "SESSION_REVOKED");
      expectStatus(await env.api.get("/me", alice.accessToken), 200);
    });

    test("rooms, idempotent sends, history paging, edits, deletes", async () => {
      room = await createRoom(env.api, alice, "Core", [bob.user.id]);
      const dup = await Promise.all(
        Array.from({ length: 10 }, () =>
          env.api.post(
            `/rooms/${room.id}/messages`,
            { message: "once", clientMsgId: "core-1" },
            alice.accessToken,
          ),
        ),
      );
      expect(dup.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(dup.map((r) => (r.body as WireMessage).id)).size).toBe(1);

      for (let i = 0; i < 24; i++) await send(env.api, i % 2 ? alice : bob, room.id, `m${i}`);
      const p1 = await history(env.api, bob, room.id);
      expect(p1.messages).toHaveLength(20);
      const p2 = await history(env.api, bob, room.id, `?before=${p1.nextBefore}`);
      expect(p2.messages).toHaveLength(5);
      expect(p2.nextBefore).toBeNull();
      const all = [...p2.messages, ...p1.messages];
      expect(all.map((m) => m.message)).toEqual(["once", ...Array.from({ length: 24 }, (_, i) => `m${i}`)]);
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

      const target = all[1] as WireMessage;
      expect(target.senderId).toBe(bob.user.id);
      expectError(
        await env.api.patch(`/rooms/${room.id}/messages/${target.id}`, { message: "no" }, alice.accessToken),
        "FORBIDDEN",
      );
      expectStatus(
        await env.api.patch(
          `/rooms/${room.id}/messages/${target.id}`,
          { message: "edited" },
          bob.accessToken,
        ),
        200,
      );
      expectStatus(await env.api.del(`/rooms/${room.id}/messages/${target.id}`, alice.accessToken), 204);
      const after = await fullHistory(env.api, bob, room.id);
      expect(after[1]).toMatchObject({ id: target.id, message: null });
      expect(after[1]?.editedAt).not.toBeNull();
      expect(after[1]?.deletedAt).not.toBeNull();
      expect(after).toHaveLength(25);
    });

    test("read markers, unread counts, search scoping, strangers", async () => {
      const read = await env.api.post(`/rooms/${room.id}/read`, { seq: 10 }, bob.accessToken);
      expectStatus(read, 200);
      const state = read.body as { readSeq: number; unreadCount: number };
      expect(state.readSeq).toBe(10);
      // m_i has seq i + 2, so above seq 10 are m9..m23; alice wrote the odd ones (9, 11, ..., 23): eight.
      expect(state.unreadCount).toBe(8);
      const back = await env.api.post(`/rooms/${room.id}/read`, { seq: 3 }, bob.accessToken);
      expect((back.body as { readSeq: number }).readSeq).toBe(10);

      const hits = await env.api.get("/search/messages?q=m23", bob.accessToken);
      expectStatus(hits, 200);
      expect(
        (hits.body as { hits: Array<{ message: WireMessage; roomName: string }> }).hits.map((h) => [
          h.message.message,
          h.roomName,
        ]),
      ).toEqual([["m23", "Core"]]);

      const stranger = await signup(env.api, "stranger");
      expectError(await env.api.get(`/rooms/${room.id}/messages`, stranger.accessToken), "ROOM_NOT_FOUND");
      const none = await env.api.get("/search/messages?q=m23", stranger.accessToken);
      expect((none.body as { hits: unknown[] }).hits).toEqual([]);
    });

    test("DM get-or-create under concurrency yields one room", async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          i % 2
            ? env.api.post("/dms", { userId: bob.user.id }, alice.accessToken)
            : env.api.post("/dms", { userId: alice.user.id }, bob.accessToken),
        ),
      );
      expect(new Set(results.map((r) => (r.body as { room: WireRoom }).room.id)).size).toBe(1);
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    });

    test("hostile text round-trips byte-for-byte", async () => {
      const text = "'; DROP TABLE messages; -- <script>alert(1)</script> 😀 \u202e";
      const m = await send(env.api, alice, room.id, text);
      const back = await env.api.get(`/rooms/${room.id}/messages/${m.id}`, bob.accessToken);
      expect((back.body as WireMessage).message).toBe(text);
    });
  });
}
