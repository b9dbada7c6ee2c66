/** Store contract part: full-text search over the messages of the user's rooms. */
import { describe, expect, test } from "bun:test";
import { type StoreFixture, T0 } from "./fixtures.ts";

export function searchContract(fx: StoreFixture): void {
  const { store, user, room, send } = fx;
  describe("messages: search", () => {
    const world = async () => {
      const alice = await user();
      const bob = await user();
      const carol = await user();
      const kitchen = await room([alice, bob], { name: "Kitchen" });
      const garden = await room([alice, carol], { name: "Garden" });
      const secret = await room([bob, carol], { name: "Secret" });
      const m1 = await send(kitchen.id, bob, "apple pie recipe");
      const m2 = await send(garden.id, carol, "Apple trees in the garden");
      const m3 = await send(secret.id, bob, "apple secret");
      const m4 = await send(kitchen.id, alice, "hello world");
      const m5 = await send(garden.id, alice, "another apple for you");
      return { alice, bob, carol, kitchen, garden, secret, m1, m2, m3, m4, m5 };
    };
    const hitIds = async (
      userId: string,
      q: string,
      opts: { roomId?: string; before?: string; limit?: number } = {},
    ) => (await store().messages.search(userId, q, { limit: 50, ...opts })).map((h) => h.message.id);

    test("finds messages only in the user's rooms, newest first, with the room name", async () => {
      const w = await world();
      const hits = await store().messages.search(w.alice.id, "apple", { limit: 50 });
      expect(hits).toEqual([
        { message: w.m5, roomName: "Garden" },
        { message: w.m2, roomName: "Garden" },
        { message: w.m1, roomName: "Kitchen" },
      ]);
      expect(await hitIds(w.bob.id, "apple")).toEqual([w.m3.id, w.m1.id]);
      expect(await hitIds(w.alice.id, "apple", { roomId: w.kitchen.id })).toEqual([w.m1.id]);
      expect(await hitIds(w.alice.id, "apple", { roomId: w.secret.id })).toEqual([]);
    });

    test("pages with the before cursor and limit", async () => {
      const w = await world();
      expect(await hitIds(w.alice.id, "apple", { limit: 2 })).toEqual([w.m5.id, w.m2.id]);
      expect(await hitIds(w.alice.id, "apple", { limit: 2, before: w.m2.id })).toEqual([w.m1.id]);
      expect(await hitIds(w.alice.id, "apple", { limit: 2, before: w.m1.id })).toEqual([]);
    });

    test("excludes deleted messages and follows edits", async () => {
      const w = await world();
      await store().messages.softDelete(w.garden.id, w.m2.id, w.carol.id, T0 + 5000);
      expect(await hitIds(w.alice.id, "apple")).toEqual([w.m5.id, w.m1.id]);
      expect(await hitIds(w.alice.id, "trees")).toEqual([]);
      await store().messages.edit(w.kitchen.id, w.m4.id, "goodbye moon", w.alice.id, T0 + 5001);
      expect(await hitIds(w.alice.id, "hello")).toEqual([]);
      const hits = await store().messages.search(w.alice.id, "moon", { limit: 10 });
      expect(hits.map((h) => h.message.body)).toEqual(["goodbye moon"]);
    });

    test("matches whole words case-insensitively, with a prefix match on the last word only", async () => {
      const w = await world();
      expect(await hitIds(w.alice.id, "APPLE")).toEqual([w.m5.id, w.m2.id, w.m1.id]);
      expect(await hitIds(w.alice.id, "appl")).toEqual([w.m5.id, w.m2.id, w.m1.id]);
      expect(await hitIds(w.alice.id, "apple pi")).toEqual([w.m1.id]);
      expect(await hitIds(w.alice.id, "pie apple")).toEqual([w.m1.id]);
      expect(await hitIds(w.alice.id, "appl pie")).toEqual([]);
      expect(await hitIds(w.alice.id, "ppl")).toEqual([]);
      expect(await hitIds(w.alice.id, "  hello   world  ")).toEqual([w.m4.id]);
    });

    test("the query is plain text: hostile input neither throws nor matches wrongly", async () => {
      const w = await world();
      const uni = await send(w.kitchen.id, w.bob, "Grüße aus München");
      const sql = await send(w.kitchen.id, w.bob, "'; DROP TABLE users; --");
      const none = [
        '"',
        "*",
        "OR",
        "NEAR(",
        "NEAR(apple pie)",
        "%",
        "   ",
        "",
        "🎉",
        "apple OR hello",
        "body:apple",
        "\u0000",
      ];
      for (const q of none) expect({ q, hits: await hitIds(w.alice.id, q) }).toEqual({ q, hits: [] });
      expect(await hitIds(w.alice.id, "apple -pie")).toEqual([w.m1.id]);
      // Operators are words like any other: "and" is required as a term, so nothing matches.
      expect(await hitIds(w.alice.id, '"apple" AND (pie')).toEqual([]);
      expect(await hitIds(w.alice.id, "München")).toEqual([uni.id]);
      expect(await hitIds(w.alice.id, "Grüße")).toEqual([uni.id]);
      expect(await hitIds(w.alice.id, "'; DROP TABLE users; --")).toEqual([sql.id]);
      expect((await store().users.findById(w.alice.id))?.id).toBe(w.alice.id);
      expect((await store().messages.findById(w.kitchen.id, sql.id))?.body).toBe("'; DROP TABLE users; --");
    });
  });
}
