/**
 * The Store contract: every adapter of src/ports/store.ts runs this suite and must pass it unchanged. It asserts
 * only what the port promises, so it is dialect-agnostic. Times are arbitrary numbers chosen by the tests.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ulidIds } from "../../src/adapters/ids/ulid-ids.ts";
import { Conflict, NotFound } from "../../src/domain/errors.ts";
import type { Message } from "../../src/domain/message.ts";
import { dmKey, type MemberRole, type Room } from "../../src/domain/room.ts";
import type { UserRecord } from "../../src/domain/user.ts";
import type { NewRoom, NewSession, NewUser, Store } from "../../src/ports/store.ts";

/**
 * Opens a fresh, empty store that nobody else uses. The suite migrates it, closes it after each test, and then
 * calls `cleanup`, which removes what the store left behind (file, schema); `cleanup` must not need the store.
 */
export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error("expected a rejection, but the promise resolved"),
    (e: unknown) => e,
  );
}

async function expectConflict(p: Promise<unknown>, key: string): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(Conflict);
  expect((err as Conflict).key).toBe(key);
}

async function expectNotFound(p: Promise<unknown>, entity: string): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(NotFound);
  expect((err as NotFound).entity).toBe(entity);
}

export function storeContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    const ids = ulidIds();
    let n = 0;
    let opened: { store: Store; cleanup: () => Promise<void>; closed: boolean } | null = null;

    beforeEach(async () => {
      const o = await open();
      opened = { ...o, closed: false };
      await o.store.migrate();
    });

    afterEach(async () => {
      const o = opened;
      opened = null;
      if (o === null) return;
      if (!o.closed) await o.store.close();
      await o.cleanup();
    });

    const store = (): Store => {
      if (opened === null) throw new Error("no store is open");
      return opened.store;
    };

    const user = (over: Partial<NewUser> = {}): Promise<UserRecord> => {
      n += 1;
      return store().users.create({
        id: ids.next(),
        username: `user${n}`,
        email: `user${n}@example.com`,
        displayName: `User ${n}`,
        passwordHash: `hash-${n}`,
        role: "user",
        createdAt: T0 + n,
        ...over,
      });
    };

    /** A group room; the first member is its owner. */
    const room = (members: readonly UserRecord[], over: Partial<NewRoom> = {}): Promise<Room> => {
      n += 1;
      return store().rooms.create(
        {
          id: ids.next(),
          kind: "group",
          name: `room ${n}`,
          topic: "",
          ownerId: members[0]?.id ?? null,
          createdAt: T0,
          ...over,
        },
        members.map((m, i) => ({ userId: m.id, role: (i === 0 ? "owner" : "member") as MemberRole })),
      );
    };

    const send = async (
      roomId: string,
      sender: UserRecord,
      body: string,
      over: { clientMsgId?: string; createdAt?: number } = {},
    ): Promise<Message> => {
      n += 1;
      const r = await store().messages.append({
        id: ids.next(),
        roomId,
        senderId: sender.id,
        body,
        clientMsgId: over.clientMsgId ?? null,
        createdAt: over.createdAt ?? T0 + 1000 + n,
      });
      return r.message;
    };

    const session = (userId: string, over: Partial<NewSession> = {}) =>
      store().sessions.create({
        id: ids.next(),
        userId,
        refreshTokenHash: `hash-${ids.next()}`,
        createdAt: T0,
        expiresAt: T0 + DAY,
        userAgent: "agent/1.0",
        ip: "192.0.2.1",
        ...over,
      });

    const lastSeq = async (roomId: string): Promise<number> =>
      (await store().rooms.findById(roomId))?.lastSeq ?? -1;

    describe("lifecycle", () => {
      test("migrate is idempotent, also when called concurrently, and keeps data", async () => {
        const u = await user();
        await store().migrate();
        await Promise.all([store().migrate(), store().migrate()]);
        expect(await store().users.findById(u.id)).toEqual(u);
      });

      test("ping resolves and close resolves", async () => {
        await store().ping();
        if (opened) opened.closed = true;
        await store().close();
      });

      test("dialect names the backend", () => {
        expect(["sqlite", "postgres"]).toContain(store().dialect);
      });
    });

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
        expect(u.passwordHash).toBe(`hash-${n}`);
        expect(u.createdAt).toBe(T0 + n);
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
        expect(r1).toEqual({ ...r, name: "New" });
        const r2 = await store().rooms.update(r.id, { topic: "t1" });
        expect(r2).toEqual({ ...r, name: "New", topic: "t1" });
        expect(await store().rooms.findById(r.id)).toEqual(r2);
        await expectNotFound(store().rooms.update(ids.next(), { name: "x" }), "room");
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
        expect(await store().rooms.unreadCount(r1.id, b.id)).toBe(1);
        expect(await store().rooms.listForUser((await user()).id)).toEqual([]);
      });

      test("listMembers: members by join time with their public profile only", async () => {
        const a = await user();
        const b = await user();
        const c = await user({ displayName: "Carol C." });
        const r = await room([a, b]);
        await store().rooms.addMember(r.id, c.id, "member", a.id, T0 + 500);
        const views = await store().rooms.listMembers(r.id);
        expect(
          views
            .map((v) => v.member.userId)
            .slice(0, 2)
            .sort(),
        ).toEqual([a.id, b.id].sort());
        expect(views[2]?.member).toEqual({ roomId: r.id, userId: c.id, role: "member", joinedAt: T0 + 500 });
        expect(views[2]?.user).toEqual({
          id: c.id,
          username: c.username,
          displayName: "Carol C.",
          role: "user",
          status: "active",
        });
        for (const v of views) {
          expect(Object.keys(v.user).sort()).toEqual(["displayName", "id", "role", "status", "username"]);
        }
        expect(await store().rooms.listMembers(ids.next())).toEqual([]);
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

      test("markRead never moves backwards; NotFound('member') for a non-member", async () => {
        const a = await user();
        const b = await user();
        const r = await room([a, b]);
        for (let i = 0; i < 4; i++) await send(r.id, b, `m${i}`);
        expect(await store().rooms.markRead(r.id, a.id, 3)).toBe(3);
        expect(await store().rooms.markRead(r.id, a.id, 1)).toBe(3);
        expect((await store().rooms.listForUser(a.id))[0]?.readSeq).toBe(3);
        expect(await store().rooms.markRead(r.id, a.id, 4)).toBe(4);
        await expectNotFound(store().rooms.markRead(r.id, (await user()).id, 1), "member");
      });

      test("unreadCount counts others' live messages above the marker", async () => {
        const a = await user();
        const b = await user();
        const r = await room([a, b]);
        const m1 = await send(r.id, b, "1");
        const m2 = await send(r.id, b, "2");
        await send(r.id, a, "mine");
        await send(r.id, b, "3");
        expect(await store().rooms.unreadCount(r.id, a.id)).toBe(3);
        await store().messages.softDelete(r.id, m2.id, b.id, T0 + 9000);
        expect(await store().rooms.unreadCount(r.id, a.id)).toBe(2);
        await store().rooms.markRead(r.id, a.id, m1.seq);
        expect(await store().rooms.unreadCount(r.id, a.id)).toBe(1);
        await store().rooms.markRead(r.id, a.id, await lastSeq(r.id));
        expect(await store().rooms.unreadCount(r.id, a.id)).toBe(0);
      });
    });

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
  });
}
