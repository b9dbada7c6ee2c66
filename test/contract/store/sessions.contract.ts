/** Store contract part: refresh sessions, their rotation with reuse detection, listing and revocation. */
import { describe, expect, test } from "bun:test";
import { DAY, type StoreFixture, T0 } from "./fixtures.ts";

export function sessionsContract(fx: StoreFixture): void {
  const { ids, store, user, session } = fx;
  describe("sessions", () => {
    test("create returns the session; findById finds it", async () => {
      const u = await user();
      const s = await session(u.id, { createdAt: T0 + 5, expiresAt: T0 + DAY, userAgent: null, ip: null });
      expect(s).toMatchObject({ userId: u.id, createdAt: T0 + 5, lastUsedAt: T0 + 5, expiresAt: T0 + DAY });
      expect(s).toMatchObject({ revokedAt: null, userAgent: null, ip: null });
      expect(await store().sessions.findById(s.id)).toEqual(s);
      const t = await session(u.id);
      expect(t).toMatchObject({ userAgent: "agent/1.0", ip: "192.0.2.1" });
      expect(await store().sessions.findById(ids.next())).toBeNull();
    });

    test("findWithAccount: the session with its user's role and status as they stand, whatever its state", async () => {
      const u = await user();
      const admin = await user({ role: "admin" });
      const s = await session(u.id);
      expect(await store().sessions.findWithAccount(s.id)).toEqual({
        session: s,
        role: "user",
        status: "active",
      });
      const a = await session(admin.id);
      expect(await store().sessions.findWithAccount(a.id)).toEqual({
        session: a,
        role: "admin",
        status: "active",
      });
      // Role and status changes are read, not remembered.
      await store().users.update(u.id, { role: "admin", status: "deactivated" });
      expect(await store().sessions.findWithAccount(s.id)).toEqual({
        session: s,
        role: "admin",
        status: "deactivated",
      });
      // A revoked or expired session is still found, as findById finds it: judging it is the caller's.
      await store().sessions.revoke(u.id, s.id, T0 + 7);
      const revoked = await store().sessions.findWithAccount(s.id);
      expect(revoked?.session).toEqual({ ...s, revokedAt: T0 + 7 });
      expect(revoked?.session).toEqual((await store().sessions.findById(s.id))!);
      const expired = await session(admin.id, { expiresAt: T0 + 1 });
      expect((await store().sessions.findWithAccount(expired.id))?.session).toEqual(expired);
      expect(await store().sessions.findWithAccount(ids.next())).toBeNull();
    });

    test("rotate exchanges the current token and slides the expiry", async () => {
      const u = await user();
      const s = await session(u.id, { refreshTokenHash: "h1" });
      const r = await store().sessions.rotate("h1", {
        nextHash: "h2",
        now: T0 + 100,
        expiresAt: T0 + 100 + DAY,
      });
      expect(r.kind).toBe("rotated");
      if (r.kind !== "rotated") return;
      expect(r.session).toEqual({ ...s, lastUsedAt: T0 + 100, expiresAt: T0 + 100 + DAY });
      expect(await store().sessions.findById(s.id)).toEqual(r.session);
      const r2 = await store().sessions.rotate("h2", {
        nextHash: "h3",
        now: T0 + 200,
        expiresAt: T0 + 200 + DAY,
      });
      expect(r2.kind).toBe("rotated");
    });

    test("a spent token is reuse: the session is revoked and the current token dies with it", async () => {
      const u = await user();
      const s = await session(u.id, { refreshTokenHash: "h1" });
      await store().sessions.rotate("h1", { nextHash: "h2", now: T0 + 100, expiresAt: T0 + DAY });
      const r = await store().sessions.rotate("h1", { nextHash: "hx", now: T0 + 200, expiresAt: T0 + DAY });
      expect(r.kind).toBe("reused");
      if (r.kind !== "reused") return;
      expect(r.session.id).toBe(s.id);
      expect(r.session.revokedAt).toBe(T0 + 200);
      expect((await store().sessions.findById(s.id))?.revokedAt).toBe(T0 + 200);
      const after = await store().sessions.rotate("h2", {
        nextHash: "h3",
        now: T0 + 300,
        expiresAt: T0 + DAY,
      });
      expect(after).toEqual({ kind: "invalid" });
      expect(
        (await store().sessions.rotate("hx", { nextHash: "h4", now: T0 + 300, expiresAt: T0 + DAY })).kind,
      ).toBe("invalid");
    });

    test("unknown, expired and revoked tokens are invalid and change nothing", async () => {
      const u = await user();
      const next = { nextHash: "n", now: T0 + 500, expiresAt: T0 + DAY };
      expect(await store().sessions.rotate("unknown", next)).toEqual({ kind: "invalid" });
      const expired = await session(u.id, { refreshTokenHash: "e1", expiresAt: T0 + 100 });
      expect(await store().sessions.rotate("e1", { ...next, nextHash: "e2" })).toEqual({ kind: "invalid" });
      expect(await store().sessions.findById(expired.id)).toEqual(expired);
      const revoked = await session(u.id, { refreshTokenHash: "r1" });
      expect(await store().sessions.revoke(u.id, revoked.id, T0 + 10)).toBe(true);
      expect(await store().sessions.rotate("r1", { ...next, nextHash: "r2" })).toEqual({ kind: "invalid" });
      expect(await store().sessions.findById(revoked.id)).toEqual({ ...revoked, revokedAt: T0 + 10 });
    });

    test("20 concurrent rotations of one token: at most one rotated, the rest reused, session revoked", async () => {
      const u = await user();
      const s = await session(u.id, { refreshTokenHash: "c1" });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store().sessions.rotate("c1", { nextHash: `c1-next-${i}`, now: T0 + 100, expiresAt: T0 + DAY }),
        ),
      );
      expect(results.filter((r) => r.kind === "rotated").length).toBeLessThanOrEqual(1);
      expect(results.filter((r) => r.kind === "reused").length).toBeGreaterThanOrEqual(19);
      expect((await store().sessions.findById(s.id))?.revokedAt).not.toBeNull();
      for (let i = 0; i < 20; i++) {
        const r = await store().sessions.rotate(`c1-next-${i}`, {
          nextHash: "z",
          now: T0 + 200,
          expiresAt: T0 + DAY,
        });
        expect(r.kind).toBe("invalid");
      }
    });

    test("listLive returns live sessions, most recently used first", async () => {
      const u = await user();
      const other = await user();
      const s1 = await session(u.id, { refreshTokenHash: "l1", createdAt: T0 });
      const s2 = await session(u.id, { createdAt: T0 + 10 });
      const s3 = await session(u.id, { createdAt: T0 + 20 });
      await session(u.id, { createdAt: T0 + 5, expiresAt: T0 + 50 });
      await session(other.id, { createdAt: T0 + 40 });
      await store().sessions.revoke(u.id, s3.id, T0 + 25);
      await store().sessions.rotate("l1", { nextHash: "l2", now: T0 + 30, expiresAt: T0 + DAY });
      const live = await store().sessions.listLive(u.id, T0 + 100);
      expect(live.map((s) => s.id)).toEqual([s1.id, s2.id]);
      expect(live[0]?.lastUsedAt).toBe(T0 + 30);
      expect(await store().sessions.listLive(u.id, T0 + 2 * DAY)).toEqual([]);
    });

    test("revoke ends only the caller's own, unrevoked session", async () => {
      const u = await user();
      const other = await user();
      const mine = await session(u.id);
      const theirs = await session(other.id);
      expect(await store().sessions.revoke(u.id, theirs.id, T0 + 1)).toBe(false);
      expect((await store().sessions.findById(theirs.id))?.revokedAt).toBeNull();
      expect(await store().sessions.revoke(u.id, mine.id, T0 + 2)).toBe(true);
      expect((await store().sessions.findById(mine.id))?.revokedAt).toBe(T0 + 2);
      expect(await store().sessions.revoke(u.id, mine.id, T0 + 3)).toBe(false);
      expect((await store().sessions.findById(mine.id))?.revokedAt).toBe(T0 + 2);
      expect(await store().sessions.revoke(u.id, ids.next(), T0 + 4)).toBe(false);
    });

    test("revokeAll revokes every live session except one and returns their ids", async () => {
      const u = await user();
      const other = await user();
      const a = await session(u.id);
      const keep = await session(u.id);
      const b = await session(u.id);
      const old = await session(u.id);
      const expired = await session(u.id, { expiresAt: T0 + 50 });
      const theirs = await session(other.id);
      await store().sessions.revoke(u.id, old.id, T0 + 10);
      const revoked = await store().sessions.revokeAll(u.id, T0 + 100, keep.id);
      expect([...revoked].sort()).toEqual([a.id, b.id].sort());
      expect((await store().sessions.findById(a.id))?.revokedAt).toBe(T0 + 100);
      expect((await store().sessions.findById(keep.id))?.revokedAt).toBeNull();
      expect((await store().sessions.findById(old.id))?.revokedAt).toBe(T0 + 10);
      expect((await store().sessions.findById(expired.id))?.expiresAt).toBe(T0 + 50);
      expect((await store().sessions.findById(theirs.id))?.revokedAt).toBeNull();
      expect(await store().sessions.revokeAll(u.id, T0 + 200)).toEqual([keep.id]);
      expect(await store().sessions.listLive(u.id, T0 + 300)).toEqual([]);
    });
  });
}
