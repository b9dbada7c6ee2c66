import { describe, expect, test } from "bun:test";
import {
  type Account,
  createAdmin,
  createRoom,
  expectError,
  expectStatus,
  history,
  send,
  signup,
  UNKNOWN_ID,
  useTestServer,
  type WireMessage,
  type WireRoom,
  type WireUser,
} from "./helpers.ts";

const env = useTestServer();

interface Details {
  room: WireRoom;
  myRole: string;
  members: Array<{ userId: string; role: string; joinedAt: string; user: WireUser }>;
  membersNextAfter: string | null;
}

interface MemberPage {
  members: Details["members"];
  nextAfter: string | null;
}

interface Summary {
  room: WireRoom;
  myRole: string;
  lastMessage: WireMessage | null;
  unreadCount: number;
  readSeq: number;
}

async function details(who: Account, roomId: string): Promise<Details> {
  const res = await env.api.get(`/rooms/${roomId}`, who.accessToken);
  expectStatus(res, 200);
  return res.body as Details;
}

async function summaries(who: Account): Promise<Summary[]> {
  const res = await env.api.get("/rooms", who.accessToken);
  expectStatus(res, 200);
  return (res.body as { rooms: Summary[] }).rooms;
}

describe("group rooms", () => {
  test("create with members; details list public profiles and roles", async () => {
    const owner = await signup(env.api, "own");
    const member = await signup(env.api, "mem");
    const res = await env.api.post(
      "/rooms",
      { name: "  Planning  ", topic: "Q3", memberIds: [member.user.id] },
      owner.accessToken,
    );
    expectStatus(res, 201);
    const room = (res.body as { room: WireRoom }).room;
    expect(room).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      kind: "group",
      name: "Planning",
      topic: "Q3",
      ownerId: owner.user.id,
      createdAt: expect.any(String),
      lastSeq: 0,
      version: 1,
    });

    const d = await details(member, room.id);
    expect(d.myRole).toBe("member");
    expect(d.members.map((m) => [m.userId, m.role]).sort()).toEqual(
      [
        [owner.user.id, "owner"],
        [member.user.id, "member"],
      ].sort(),
    );
    expect(d.members.find((m) => m.userId === member.user.id)?.user).toEqual({
      id: member.user.id,
      username: member.user.username,
      displayName: member.user.displayName,
      role: "user",
      status: "active",
    });
    expect(d.membersNextAfter).toBeNull();
    expect(JSON.stringify(d)).not.toContain("@example.test");

    const mine = await summaries(member);
    expect(mine.map((s) => s.room.id)).toEqual([room.id]);
    expect(mine[0]).toMatchObject({ myRole: "member", lastMessage: null, unreadCount: 0, readSeq: 0 });
  });

  test("a large room's details carry its first 100 members by id; GET /members pages through all of them", async () => {
    const owner = await signup(env.api, "big");
    const others: Account[] = [];
    for (let i = 0; i < 100; i++) others.push(await signup(env.api, "big"));
    const res = await env.api.post(
      "/rooms",
      { name: "Big", memberIds: others.map((o) => o.user.id) },
      owner.accessToken,
    );
    expectStatus(res, 201);
    const room = (res.body as { room: WireRoom }).room;
    const all = [owner, ...others].map((a) => a.user.id).sort();

    const d = await details(others[0] as Account, room.id);
    expect(d.members.map((m) => m.userId)).toEqual(all.slice(0, 100));
    expect(d.membersNextAfter).toBe(all[99] ?? "");
    expect(d.myRole).toBe("member");
    const members = (query: string) => env.api.get(`/rooms/${room.id}/members${query}`, owner.accessToken);
    const rest = await members(`?after=${d.membersNextAfter}&limit=100`);
    expectStatus(rest, 200);
    expect((rest.body as MemberPage).members.map((m) => m.userId)).toEqual(all.slice(100));
    expect((rest.body as MemberPage).nextAfter).toBeNull();

    // Page after page of 40: every member once, in order, each with role and public profile.
    const read: Details["members"] = [];
    let after: string | null = null;
    do {
      const page = await members(`?limit=40${after === null ? "" : `&after=${after}`}`);
      expectStatus(page, 200);
      const body = page.body as MemberPage;
      expect(body.members.length).toBeLessThanOrEqual(40);
      read.push(...body.members);
      after = body.nextAfter;
    } while (after !== null);
    expect(read.map((m) => m.userId)).toEqual(all);
    expect(read.find((m) => m.userId === owner.user.id)).toMatchObject({
      role: "owner",
      user: { id: owner.user.id, username: owner.user.username },
    });
    expect(JSON.stringify(read)).not.toContain("@example.test");
    // Without a page size: PAGE_DEFAULT (20).
    const first = (await members("")).body as MemberPage;
    expect(first.members.map((m) => m.userId)).toEqual(all.slice(0, 20));
    expect(first.nextAfter).toBe(all[19] ?? "");
  });

  test("GET /rooms/{roomId}/members: members only; bad page sizes and cursors are refused", async () => {
    const owner = await signup(env.api, "pgm");
    const stranger = await signup(env.api, "pgm");
    const room = await createRoom(env.api, owner, "Paged");
    const ok = await env.api.get(`/rooms/${room.id}/members`, owner.accessToken);
    expectStatus(ok, 200);
    expect((ok.body as MemberPage).members.map((m) => [m.userId, m.role])).toEqual([
      [owner.user.id, "owner"],
    ]);
    expect((ok.body as MemberPage).nextAfter).toBeNull();
    expectError(await env.api.get(`/rooms/${room.id}/members`, stranger.accessToken), "ROOM_NOT_FOUND");
    expectError(await env.api.get(`/rooms/${UNKNOWN_ID}/members`, owner.accessToken), "ROOM_NOT_FOUND");
    expectError(await env.api.get("/rooms/nope/members", owner.accessToken), "INVALID_ID");
    expectError(await env.api.get(`/rooms/${room.id}/members`), "UNAUTHENTICATED");
    for (const limit of ["0", "101", "-1", "2.5", "x", ""])
      expectError(
        await env.api.get(`/rooms/${room.id}/members?limit=${limit}`, owner.accessToken),
        "VALIDATION_FAILED",
      );
    for (const after of ["nope", "%27--", "(", UNKNOWN_ID.toLowerCase()])
      expectError(
        await env.api.get(`/rooms/${room.id}/members?after=${after}`, owner.accessToken),
        "INVALID_CURSOR",
      );
  });

  test("creating with an unknown member id is 404 and creates nothing", async () => {
    const owner = await signup(env.api, "own");
    expectError(
      await env.api.post("/rooms", { name: "x", memberIds: [UNKNOWN_ID] }, owner.accessToken),
      "USER_NOT_FOUND",
    );
    expectError(
      await env.api.post("/rooms", { name: "x", memberIds: ["bad"] }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(await env.api.post("/rooms", { name: "   " }, owner.accessToken), "VALIDATION_FAILED");
    expectError(
      await env.api.post("/rooms", { name: "n".repeat(101) }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expect(await summaries(owner)).toEqual([]);
  });

  test("the owner renames; members are FORBIDDEN; the room is unchanged after refusals", async () => {
    const owner = await signup(env.api, "own");
    const member = await signup(env.api, "mem");
    const room = await createRoom(env.api, owner, "Old", [member.user.id]);
    const res = await env.api.patch(
      `/rooms/${room.id}`,
      { name: "New", topic: "Fresh topic" },
      owner.accessToken,
    );
    expectStatus(res, 200);
    expect((res.body as { room: WireRoom }).room).toMatchObject({ name: "New", topic: "Fresh topic" });

    expectError(
      await env.api.patch(`/rooms/${room.id}`, { name: "Hijacked" }, member.accessToken),
      "FORBIDDEN",
    );
    expectError(
      await env.api.patch(`/rooms/${room.id}`, { name: "" }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.patch(`/rooms/${room.id}`, { owner: member.user.id }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expect((await details(member, room.id)).room).toMatchObject({
      name: "New",
      topic: "Fresh topic",
      ownerId: owner.user.id,
    });
  });

  test("membership: add, duplicate, unknown user, remove, leave, owner constraints", async () => {
    const owner = await signup(env.api, "own");
    const a = await signup(env.api, "a");
    const b = await signup(env.api, "b");
    const room = await createRoom(env.api, owner, "Team");

    const added = await env.api.post(`/rooms/${room.id}/members`, { userId: a.user.id }, owner.accessToken);
    expectStatus(added, 201);
    expect(added.body).toMatchObject({ roomId: room.id, userId: a.user.id, role: "member", seq: 1 });
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: a.user.id }, owner.accessToken),
      "ALREADY_MEMBER",
    );
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: UNKNOWN_ID }, owner.accessToken),
      "USER_NOT_FOUND",
    );
    // A plain member cannot add or remove others.
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: b.user.id }, a.accessToken),
      "FORBIDDEN",
    );
    expectStatus(
      await env.api.post(`/rooms/${room.id}/members`, { userId: b.user.id }, owner.accessToken),
      201,
    );
    expectError(await env.api.del(`/rooms/${room.id}/members/${b.user.id}`, a.accessToken), "FORBIDDEN");

    // The owner cannot leave while others remain.
    expectError(
      await env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, owner.accessToken),
      "INVALID_OPERATION",
    );
    expectError(
      await env.api.del(`/rooms/${room.id}/members/${UNKNOWN_ID}`, owner.accessToken),
      "USER_NOT_FOUND",
    );

    expectStatus(await env.api.del(`/rooms/${room.id}/members/${b.user.id}`, owner.accessToken), 204);
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${a.user.id}`, a.accessToken), 204);
    expect((await details(owner, room.id)).members.map((m) => m.userId)).toEqual([owner.user.id]);
    expect(await summaries(a)).toEqual([]);
    // Alone, the owner may leave; then the room exists for nobody.
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, owner.accessToken), 204);
    expectError(await env.api.get(`/rooms/${room.id}`, owner.accessToken), "ROOM_NOT_FOUND");
  });

  test("a site administrator may manage a room they are not in", async () => {
    const owner = await signup(env.api, "own");
    const outsider = await signup(env.api, "out");
    const admin = await createAdmin(env.server, env.api);
    const room = await createRoom(env.api, owner, "Managed");
    expectStatus(
      await env.api.post(`/rooms/${room.id}/members`, { userId: outsider.user.id }, admin.accessToken),
      201,
    );
    expectStatus(await env.api.patch(`/rooms/${room.id}`, { topic: "set by admin" }, admin.accessToken), 200);
    // Managing is not reading: the admin is still not a member.
    expectError(await env.api.get(`/rooms/${room.id}/messages`, admin.accessToken), "ROOM_NOT_FOUND");
  });
});

describe("direct conversations", () => {
  test("get-or-create: 201 then 200 with the same room, from either side", async () => {
    const a = await signup(env.api, "dma");
    const b = await signup(env.api, "dmb");
    const first = await env.api.post("/dms", { userId: b.user.id }, a.accessToken);
    expectStatus(first, 201);
    const room = (first.body as { room: WireRoom }).room;
    expect(room).toMatchObject({ kind: "dm", ownerId: null });
    const again = await env.api.post("/dms", { userId: b.user.id }, a.accessToken);
    expectStatus(again, 200);
    expect((again.body as { room: WireRoom }).room.id).toBe(room.id);
    const reverse = await env.api.post("/dms", { userId: a.user.id }, b.accessToken);
    expectStatus(reverse, 200);
    expect((reverse.body as { room: WireRoom }).room.id).toBe(room.id);

    expectError(await env.api.post("/dms", { userId: a.user.id }, a.accessToken), "INVALID_OPERATION");
    expectError(await env.api.post("/dms", { userId: UNKNOWN_ID }, a.accessToken), "USER_NOT_FOUND");
    const c = await signup(env.api, "dmc");
    // A DM has exactly its two members, no name and no owner: adding, renaming, removing and leaving are not
    // operations a DM has (INVALID_OPERATION for its participants); to anyone else it does not exist.
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: c.user.id }, a.accessToken),
      "INVALID_OPERATION",
    );
    expectError(await env.api.patch(`/rooms/${room.id}`, { name: "x" }, a.accessToken), "INVALID_OPERATION");
    expectError(
      await env.api.del(`/rooms/${room.id}/members/${b.user.id}`, a.accessToken),
      "INVALID_OPERATION",
    );
    expectError(
      await env.api.del(`/rooms/${room.id}/members/${a.user.id}`, a.accessToken),
      "INVALID_OPERATION",
    );
    expectError(await env.api.patch(`/rooms/${room.id}`, { name: "x" }, c.accessToken), "ROOM_NOT_FOUND");
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: c.user.id }, c.accessToken),
      "ROOM_NOT_FOUND",
    );
    expect((await details(a, room.id)).members).toHaveLength(2);
  });

  test("concurrent first calls create exactly one room", async () => {
    const a = await signup(env.api, "cca");
    const b = await signup(env.api, "ccb");
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? env.api.post("/dms", { userId: b.user.id }, a.accessToken)
          : env.api.post("/dms", { userId: a.user.id }, b.accessToken),
      ),
    );
    const ids = new Set(results.map((r) => (r.body as { room: WireRoom }).room.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(9);
    expect((await summaries(a)).filter((s) => s.room.kind === "dm")).toHaveLength(1);
  });
});

describe("read markers and unread counts", () => {
  test("unread counts others' messages above the marker; the marker only moves forward and is clamped", async () => {
    const a = await signup(env.api, "ra");
    const b = await signup(env.api, "rb");
    const room = await createRoom(env.api, a, "Reading", [b.user.id]);
    const sent: WireMessage[] = [];
    for (let i = 1; i <= 3; i++) sent.push(await send(env.api, a, room.id, `m${i}`));
    await send(env.api, b, room.id, "my own message does not count");

    const before = (await summaries(b)).find((s) => s.room.id === room.id);
    expect(before).toMatchObject({
      unreadCount: 3,
      readSeq: 0,
      lastMessage: { message: "my own message does not count" },
    });

    const r1 = await env.api.post(`/rooms/${room.id}/read`, { seq: sent[1]?.seq }, b.accessToken);
    expectStatus(r1, 200);
    expect(r1.body).toEqual({ readSeq: sent[1]?.seq, unreadCount: 1 });

    const back = await env.api.post(`/rooms/${room.id}/read`, { seq: sent[0]?.seq }, b.accessToken);
    expect(back.body).toEqual({ readSeq: sent[1]?.seq, unreadCount: 1 });

    const far = await env.api.post(`/rooms/${room.id}/read`, { seq: 1_000_000 }, b.accessToken);
    const lastSeq = (await details(b, room.id)).room.lastSeq;
    expect(far.body).toEqual({ readSeq: lastSeq, unreadCount: 0 });
    expect((await summaries(b)).find((s) => s.room.id === room.id)).toMatchObject({
      unreadCount: 0,
      readSeq: lastSeq,
    });
    // The sender's own view is independent.
    expect((await summaries(a)).find((s) => s.room.id === room.id)).toMatchObject({
      unreadCount: 1,
      readSeq: 0,
    });

    expectError(
      await env.api.post(`/rooms/${room.id}/read`, { seq: -1 }, b.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.post(`/rooms/${room.id}/read`, { seq: 1.5 }, b.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.post(`/rooms/${room.id}/read`, { seq: "2" }, b.accessToken),
      "VALIDATION_FAILED",
    );
    expect((await summaries(b)).find((s) => s.room.id === room.id)?.readSeq).toBe(lastSeq);
  });

  test("rooms are listed by most recent activity", async () => {
    const a = await signup(env.api, "order");
    const r1 = await createRoom(env.api, a, "first");
    const r2 = await createRoom(env.api, a, "second");
    // Activity is ordered by millisecond timestamps: make sure the bump is strictly later than r2's creation.
    await Bun.sleep(5);
    await send(env.api, a, r1.id, "bump");
    const order = (await summaries(a)).map((s) => s.room.id);
    expect(order).toEqual([r1.id, r2.id]);
  });
});

describe("authorization: a room exists only for its members", () => {
  test("a stranger and a removed member get ROOM_NOT_FOUND on every room route and never see content", async () => {
    const owner = await signup(env.api, "own");
    const stranger = await signup(env.api, "str");
    const removed = await signup(env.api, "rem");
    const secret = `secret-${crypto.randomUUID()}`;
    const room = await createRoom(env.api, owner, `Room ${secret}`, [removed.user.id]);
    const msg = await send(env.api, owner, room.id, `the ${secret} text`);
    const removedMsg = await send(env.api, removed, room.id, `removed member wrote ${secret}`);
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${removed.user.id}`, owner.accessToken), 204);

    const snapshot = async () => ({
      details: await details(owner, room.id),
      history: await history(env.api, owner, room.id),
    });
    const before = await snapshot();

    for (const who of [stranger, removed]) {
      const t = who.accessToken;
      const calls = [
        env.api.get(`/rooms/${room.id}`, t),
        env.api.patch(`/rooms/${room.id}`, { name: "mine now" }, t),
        env.api.post(`/rooms/${room.id}/members`, { userId: who.user.id }, t),
        env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, t),
        env.api.del(`/rooms/${room.id}/members/${who.user.id}`, t),
        env.api.post(`/rooms/${room.id}/owner`, { userId: who.user.id }, t),
        env.api.get(`/rooms/${room.id}/messages`, t),
        env.api.post(`/rooms/${room.id}/messages`, { message: "let me in" }, t),
        env.api.get(`/rooms/${room.id}/messages/${msg.id}`, t),
        env.api.patch(`/rooms/${room.id}/messages/${msg.id}`, { message: "edited" }, t),
        env.api.patch(`/rooms/${room.id}/messages/${removedMsg.id}`, { message: "my own, edited" }, t),
        env.api.del(`/rooms/${room.id}/messages/${msg.id}`, t),
        env.api.del(`/rooms/${room.id}/messages/${removedMsg.id}`, t),
        env.api.post(`/rooms/${room.id}/read`, { seq: 1 }, t),
        env.api.get(`/search/messages?q=${secret}&roomId=${room.id}`, t),
      ];
      for (const res of await Promise.all(calls)) {
        expectError(res, "ROOM_NOT_FOUND");
        expect(res.text).not.toContain(secret);
      }
      // Neither the room list nor search mentions it.
      const list = await env.api.get("/rooms", t);
      expect(list.text).not.toContain(room.id);
      const search = await env.api.get(`/search/messages?q=${secret}`, t);
      expectStatus(search, 200);
      expect((search.body as { hits: unknown[] }).hits).toEqual([]);
    }
    // And an unknown room looks exactly like a foreign one.
    expectError(await env.api.get(`/rooms/${UNKNOWN_ID}`, stranger.accessToken), "ROOM_NOT_FOUND");

    expect(await snapshot()).toEqual(before);
  });
});
