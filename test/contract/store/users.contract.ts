/** Store contract part: user records, from creation and lookup to listing, updates and role counts. */
import { describe, expect, test } from "bun:test";
import type { UserRecord } from "../../../src/domain/user.ts";
import { expectConflict, expectNotFound, type StoreFixture, T0 } from "./fixtures.ts";

export function usersContract(fx: StoreFixture): void {
  const { ids, store, serial, user } = fx;
  describe("users", () => {
    test("create returns the stored record; findById finds it", async () => {
      const u = await user({
        username: "Alice",
        email: "Alice@Example.com",
        displayName: "Alice L.",
        role: "agent",
      });
      expect(u).toMatchObject({
        username: "Alice",
        email: "Alice@Example.com",
        displayName: "Alice L.",
        role: "agent",
      });
      expect(u.status).toBe("active");
      expect(u.passwordHash).toBe(`hash-${serial()}`);
      expect(u.createdAt).toBe(T0 + serial());
      expect(await store().users.findById(u.id)).toEqual(u);
      expect(await store().users.findById(ids.next())).toBeNull();
    });

    test("findByLogin matches username or email case-insensitively; both stored as given", async () => {
      const u = await user({ username: "Alice", email: "Alice@Example.com" });
      await user();
      expect((await store().users.findByLogin("alice"))?.id).toBe(u.id);
      expect((await store().users.findByLogin("ALICE"))?.username).toBe("Alice");
      expect((await store().users.findByLogin("alice@example.COM"))?.email).toBe("Alice@Example.com");
      expect(await store().users.findByLogin("alic")).toBeNull();
      expect(await store().users.findByLogin("nobody@example.com")).toBeNull();
    });

    test("Conflict on a case-insensitive duplicate username or email; nothing stored", async () => {
      await user({ username: "Alice", email: "alice@example.com" });
      await expectConflict(user({ username: "aLICE", email: "other@example.com" }), "username");
      await expectConflict(user({ username: "other", email: "ALICE@EXAMPLE.COM" }), "email");
      expect(await store().users.findByLogin("other")).toBeNull();
      expect(await store().users.findByLogin("other@example.com")).toBeNull();
    });

    test("list orders by id, pages with after/limit, filters by case-insensitive prefix", async () => {
      const alice = await user({ username: "alice", displayName: "Alice Liddell" });
      const alfred = await user({ username: "Alfred", displayName: "Butler" });
      const bob = await user({ username: "bob", displayName: "Alpha Bob" });
      const carol = await user({ username: "carol", displayName: "Carol" });
      const under = await user({ username: "_under", displayName: "Under" });
      const idsOf = (us: UserRecord[]) => us.map((u) => u.id);
      const all = [alice, alfred, bob, carol, under].map((u) => u.id).sort();
      expect(idsOf(await store().users.list({ limit: 10 }))).toEqual(all);
      expect(idsOf(await store().users.list({ limit: 2 }))).toEqual(all.slice(0, 2));
      expect(idsOf(await store().users.list({ limit: 2, after: all[1] }))).toEqual(all.slice(2, 4));
      expect(idsOf(await store().users.list({ limit: 10, after: all[4] }))).toEqual([]);
      const al = [alice, alfred, bob].map((u) => u.id).sort();
      expect(idsOf(await store().users.list({ limit: 10, query: "AL" }))).toEqual(al);
      expect(idsOf(await store().users.list({ limit: 1, query: "al", after: al[0] }))).toEqual([al[1]!]);
      expect(idsOf(await store().users.list({ limit: 10, query: "alpha b" }))).toEqual([bob.id]);
      // Prefix, not substring; and LIKE wildcards are literal characters.
      expect(await store().users.list({ limit: 10, query: "ice" })).toEqual([]);
      expect(await store().users.list({ limit: 10, query: "liddell" })).toEqual([]);
      expect(idsOf(await store().users.list({ limit: 10, query: "_" }))).toEqual([under.id]);
      expect(await store().users.list({ limit: 10, query: "%" })).toEqual([]);
      expect((await store().users.list({ limit: 10 }))[0]).toEqual(
        (await store().users.findById(all[0]!)) ?? undefined,
      );
    });

    test("update changes only the given fields and persists them", async () => {
      const u = await user({ role: "user", displayName: "Old" });
      const r1 = await store().users.update(u.id, { role: "admin" });
      expect(r1).toEqual({ ...u, role: "admin" });
      const r2 = await store().users.update(u.id, { status: "deactivated", displayName: "New" });
      expect(r2).toEqual({ ...u, role: "admin", status: "deactivated", displayName: "New" });
      const r3 = await store().users.update(u.id, { passwordHash: "$argon2id$new" });
      expect(r3.passwordHash).toBe("$argon2id$new");
      expect(await store().users.findById(u.id)).toEqual(r3);
      expect(await store().users.update(u.id, {})).toEqual(r3);
      await expectNotFound(store().users.update(ids.next(), { role: "admin" }), "user");
    });

    test("countByRole counts users per role", async () => {
      await user({ role: "user" });
      const b = await user({ role: "user" });
      await user({ role: "agent" });
      expect(await store().users.countByRole("user")).toBe(2);
      expect(await store().users.countByRole("agent")).toBe(1);
      expect(await store().users.countByRole("admin")).toBe(0);
      await store().users.update(b.id, { role: "admin" });
      expect(await store().users.countByRole("user")).toBe(1);
      expect(await store().users.countByRole("admin")).toBe(1);
    });
  });
}
