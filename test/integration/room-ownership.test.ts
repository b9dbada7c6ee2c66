import { describe, expect, test } from "bun:test";
import {
  type Account,
  createAdmin,
  createRoom,
  expectError,
  expectStatus,
  signup,
  UNKNOWN_ID,
  useTestServer,
  type WireRoom,
} from "./helpers.ts";

const env = useTestServer();

interface Details {
  room: WireRoom;
  myRole: string;
  members: Array<{ userId: string; role: string }>;
}

async function details(who: Account, roomId: string): Promise<Details> {
  const res = await env.api.get(`/rooms/${roomId}`, who.accessToken);
  expectStatus(res, 200);
  return res.body as Details;
}

/** The room's ownerId and every member's role, as a member reads them. */
async function ownership(
  who: Account,
  roomId: string,
): Promise<{ ownerId: string | null; roles: string[][] }> {
  const d = await details(who, roomId);
  return { ownerId: d.room.ownerId, roles: d.members.map((m) => [m.userId, m.role]).sort() };
}

function roles(entries: Array<[Account, string]>): string[][] {
  return entries.map(([a, role]) => [a.user.id, role]).sort();
}

const transfer = (roomId: string, userId: unknown, who: Account) =>
  env.api.post(`/rooms/${roomId}/owner`, { userId }, who.accessToken);

describe("ownership transfer", () => {
  test("the owner hands the room over, leaves as a plain member, and the new owner manages it", async () => {
    const owner = await signup(env.api, "own");
    const heir = await signup(env.api, "heir");
    const other = await signup(env.api, "oth");
    const late = await signup(env.api, "late");
    const room = await createRoom(env.api, owner, "Handover", [heir.user.id, other.user.id]);

    // Before the transfer the owner is stuck, and is told how to get out.
    const stuck = expectError(
      await env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, owner.accessToken),
      "INVALID_OPERATION",
    );
    expect(stuck.message).toContain("transfer ownership");

    const res = await transfer(room.id, heir.user.id, owner);
    expectStatus(res, 200);
    expect((res.body as { room: WireRoom }).room).toEqual({ ...room, ownerId: heir.user.id, version: 2 });

    // Every member reads the new state: ownerId, both roles, and each one's own role.
    expect(await ownership(other, room.id)).toEqual({
      ownerId: heir.user.id,
      roles: roles([
        [owner, "member"],
        [heir, "owner"],
        [other, "member"],
      ]),
    });
    expect((await details(heir, room.id)).myRole).toBe("owner");
    expect((await details(owner, room.id)).myRole).toBe("member");
    const listed = await env.api.get("/rooms", owner.accessToken);
    expect((listed.body as { rooms: Array<{ room: WireRoom; myRole: string }> }).rooms[0]).toMatchObject({
      room: { id: room.id, ownerId: heir.user.id },
      myRole: "member",
    });

    // The previous owner lost every owner right.
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: late.user.id }, owner.accessToken),
      "FORBIDDEN",
    );
    expectError(await env.api.patch(`/rooms/${room.id}`, { name: "mine" }, owner.accessToken), "FORBIDDEN");
    expectError(await transfer(room.id, owner.user.id, owner), "FORBIDDEN");

    // ... and may now leave.
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, owner.accessToken), 204);
    expectError(await env.api.get(`/rooms/${room.id}`, owner.accessToken), "ROOM_NOT_FOUND");

    // The new owner manages members and details, and is now the one who cannot leave while others remain.
    expectStatus(
      await env.api.post(`/rooms/${room.id}/members`, { userId: late.user.id }, heir.accessToken),
      201,
    );
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${other.user.id}`, heir.accessToken), 204);
    expectStatus(await env.api.patch(`/rooms/${room.id}`, { name: "Renamed" }, heir.accessToken), 200);
    expectError(
      await env.api.del(`/rooms/${room.id}/members/${heir.user.id}`, heir.accessToken),
      "INVALID_OPERATION",
    );
    expect(await ownership(late, room.id)).toEqual({
      ownerId: heir.user.id,
      roles: roles([
        [heir, "owner"],
        [late, "member"],
      ]),
    });
  });

  test("a site administrator transfers any room, also one they are not in, and may not remove the owner", async () => {
    const owner = await signup(env.api, "own");
    const member = await signup(env.api, "mem");
    const admin = await createAdmin(env.server, env.api);
    const room = await createRoom(env.api, owner, "Administered", [member.user.id]);

    expectError(
      await env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, admin.accessToken),
      "INVALID_OPERATION",
    );
    const res = await transfer(room.id, member.user.id, admin);
    expectStatus(res, 200);
    expect((res.body as { room: WireRoom }).room.ownerId).toBe(member.user.id);
    expect(await ownership(owner, room.id)).toEqual({
      ownerId: member.user.id,
      roles: roles([
        [owner, "member"],
        [member, "owner"],
      ]),
    });
    // The administrator is still not a member: managing is not reading.
    expectError(await env.api.get(`/rooms/${room.id}`, admin.accessToken), "ROOM_NOT_FOUND");
    // And can hand it back, to a member of their choosing.
    expectStatus(await transfer(room.id, owner.user.id, admin), 200);
    expect((await ownership(member, room.id)).ownerId).toBe(owner.user.id);
  });

  test("an administrator gives an owner again to a room whose owner left", async () => {
    const owner = await signup(env.api, "own");
    const newcomer = await signup(env.api, "new");
    const third = await signup(env.api, "thr");
    const admin = await createAdmin(env.server, env.api);
    const room = await createRoom(env.api, owner, "Orphaned");
    // Alone, the owner may leave; the room then has members only if an administrator adds them.
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${owner.user.id}`, owner.accessToken), 204);
    expectStatus(
      await env.api.post(`/rooms/${room.id}/members`, { userId: newcomer.user.id }, admin.accessToken),
      201,
    );
    // The departed owner is not a member, so the room has nobody to manage it until the transfer.
    expectError(
      await env.api.post(`/rooms/${room.id}/members`, { userId: third.user.id }, newcomer.accessToken),
      "FORBIDDEN",
    );
    expectError(await transfer(room.id, owner.user.id, admin), "USER_NOT_FOUND");
    expectStatus(await transfer(room.id, newcomer.user.id, admin), 200);
    expectStatus(
      await env.api.post(`/rooms/${room.id}/members`, { userId: third.user.id }, newcomer.accessToken),
      201,
    );
    expect(await ownership(third, room.id)).toEqual({
      ownerId: newcomer.user.id,
      roles: roles([
        [newcomer, "owner"],
        [third, "member"],
      ]),
    });
  });

  test("naming the current owner answers 200 and changes nothing", async () => {
    const owner = await signup(env.api, "own");
    const member = await signup(env.api, "mem");
    const admin = await createAdmin(env.server, env.api);
    const room = await createRoom(env.api, owner, "Same", [member.user.id]);
    const before = await ownership(member, room.id);
    for (const who of [owner, admin]) {
      const res = await transfer(room.id, owner.user.id, who);
      expectStatus(res, 200);
      // The room as it was, version included: nothing changed, so no version was taken.
      expect((res.body as { room: WireRoom }).room).toEqual(room);
    }
    expect(await ownership(member, room.id)).toEqual(before);
  });

  test("two transfers racing from one owner: exactly one applies, the other is FORBIDDEN, one owner remains", async () => {
    const owner = await signup(env.api, "own");
    const b = await signup(env.api, "b");
    const c = await signup(env.api, "c");
    const room = await createRoom(env.api, owner, "Race", [b.user.id, c.user.id]);
    const [toB, toC] = await Promise.all([
      transfer(room.id, b.user.id, owner),
      transfer(room.id, c.user.id, owner),
    ]);
    const statuses = [toB.status, toC.status].sort();
    expect(statuses).toEqual([200, 403]);
    expectError(toB.status === 403 ? toB : toC, "FORBIDDEN");
    const winner = toB.status === 200 ? b : c;
    const loser = winner === b ? c : b;
    expect(await ownership(owner, room.id)).toEqual({
      ownerId: winner.user.id,
      roles: roles([
        [owner, "member"],
        [winner, "owner"],
        [loser, "member"],
      ]),
    });
  });
});

describe("ownership transfer refusals", () => {
  test("the new owner must be an active member of the room", async () => {
    const owner = await signup(env.api, "own");
    const member = await signup(env.api, "mem");
    const outsider = await signup(env.api, "out");
    const admin = await createAdmin(env.server, env.api);
    const room = await createRoom(env.api, owner, "Members only", [member.user.id]);
    const before = await ownership(owner, room.id);

    expectError(await transfer(room.id, outsider.user.id, owner), "USER_NOT_FOUND");
    expectError(await transfer(room.id, UNKNOWN_ID, owner), "USER_NOT_FOUND");
    expectError(await transfer(room.id, outsider.user.id, admin), "USER_NOT_FOUND");
    // A deactivated member could never use the room they were given.
    expectStatus(
      await env.api.patch(`/admin/users/${member.user.id}`, { status: "deactivated" }, admin.accessToken),
      200,
    );
    expectError(await transfer(room.id, member.user.id, owner), "USER_NOT_FOUND");
    expect(await ownership(owner, room.id)).toEqual(before);
    // Nothing committed, so the details kept their version.
    expect((await details(owner, room.id)).room.version).toBe(1);
  });

  test("a plain member is FORBIDDEN, also when naming themselves or the owner", async () => {
    const owner = await signup(env.api, "own");
    const a = await signup(env.api, "a");
    const b = await signup(env.api, "b");
    const room = await createRoom(env.api, owner, "Rights", [a.user.id, b.user.id]);
    const before = await ownership(owner, room.id);
    for (const target of [a, b, owner]) expectError(await transfer(room.id, target.user.id, a), "FORBIDDEN");
    // Rights are checked before the target: a member naming an outsider is FORBIDDEN too.
    expectError(await transfer(room.id, UNKNOWN_ID, a), "FORBIDDEN");
    expect(await ownership(owner, room.id)).toEqual(before);
    expect((await details(owner, room.id)).room.version).toBe(1);
  });

  test("to a stranger, a removed member or for an unknown room, the room does not exist", async () => {
    const owner = await signup(env.api, "own");
    const stranger = await signup(env.api, "str");
    const removed = await signup(env.api, "rem");
    const room = await createRoom(env.api, owner, "Hidden", [removed.user.id]);
    expectStatus(await env.api.del(`/rooms/${room.id}/members/${removed.user.id}`, owner.accessToken), 204);
    for (const who of [stranger, removed]) {
      for (const target of [owner, who]) {
        const res = await transfer(room.id, target.user.id, who);
        expectError(res, "ROOM_NOT_FOUND");
        expect(res.text).not.toContain("Hidden");
      }
      expectError(await transfer(UNKNOWN_ID, owner.user.id, who), "ROOM_NOT_FOUND");
    }
    expect((await details(owner, room.id)).room.ownerId).toBe(owner.user.id);
  });

  test("a direct conversation has no owner: INVALID_OPERATION for its participants and administrators", async () => {
    const a = await signup(env.api, "dma");
    const b = await signup(env.api, "dmb");
    const outsider = await signup(env.api, "dmo");
    const admin = await createAdmin(env.server, env.api);
    const opened = await env.api.post("/dms", { userId: b.user.id }, a.accessToken);
    expectStatus(opened, 201);
    const dm = (opened.body as { room: WireRoom }).room;
    for (const target of [a, b, outsider]) {
      expectError(await transfer(dm.id, target.user.id, a), "INVALID_OPERATION");
      expectError(await transfer(dm.id, target.user.id, admin), "INVALID_OPERATION");
    }
    expectError(await transfer(dm.id, outsider.user.id, outsider), "ROOM_NOT_FOUND");
    expect(await ownership(a, dm.id)).toEqual({
      ownerId: null,
      roles: roles([
        [a, "member"],
        [b, "member"],
      ]),
    });
  });

  test("malformed requests are refused before anything is looked up", async () => {
    const owner = await signup(env.api, "own");
    const member = await signup(env.api, "mem");
    const room = await createRoom(env.api, owner, "Input", [member.user.id]);
    const path = `/rooms/${room.id}/owner`;
    expectError(await env.api.post(path, {}, owner.accessToken), "VALIDATION_FAILED");
    expectError(await env.api.post(path, { userId: "not-an-id" }, owner.accessToken), "VALIDATION_FAILED");
    expectError(await env.api.post(path, { userId: 42 }, owner.accessToken), "VALIDATION_FAILED");
    expectError(await env.api.post(path, { userId: null }, owner.accessToken), "VALIDATION_FAILED");
    expectError(
      await env.api.post(path, { userId: member.user.id, role: "owner" }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.request("POST", path, { raw: "{", token: owner.accessToken }),
      "MALFORMED_JSON",
    );
    expectError(
      await env.api.request("POST", path, {
        raw: JSON.stringify({ userId: member.user.id }),
        contentType: "text/plain",
        token: owner.accessToken,
      }),
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectError(
      await env.api.post("/rooms/not-an-id/owner", { userId: member.user.id }, owner.accessToken),
      "INVALID_ID",
    );
    expectError(await env.api.post(path, { userId: member.user.id }), "UNAUTHENTICATED");
    expectError(await env.api.request("GET", path, { token: owner.accessToken }), "METHOD_NOT_ALLOWED");
    expect((await details(owner, room.id)).room).toMatchObject({ ownerId: owner.user.id, version: 1 });
  });
});
