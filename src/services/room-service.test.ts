import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ulidIds } from "../adapters/ids/ulid-ids.ts";
import { memoryRateLimiter } from "../adapters/rate-limit/memory-rate-limiter.ts";
import { memoryTokenBucket } from "../adapters/rate-limit/memory-token-bucket.ts";
import { openSqliteStore } from "../adapters/store/sqlite/open-sqlite-store.ts";
import { AppError, type ErrorCode } from "../domain/errors.ts";
import type { Room, RoomKind } from "../domain/room.ts";
import type { Role, UserRecord } from "../domain/user.ts";
import type { Clock } from "../ports/clock.ts";
import type { DomainEvent } from "../ports/domain-events.ts";
import type { Store } from "../ports/store.ts";
import type { Principal } from "./principal.ts";
import { RoomService } from "./room-service.ts";

const T0 = 1_700_000_000_000;
const clock: Clock = { now: () => T0 };
const ids = ulidIds();

let store: Store;
let rooms: RoomService;
/** Each announcement with the room as a reader saw it at that moment. */
let announced: Array<{ event: DomainEvent; roomThen: Room | null | undefined }>;

beforeEach(async () => {
  store = openSqliteStore({ path: ":memory:" });
  await store.migrate();
  announced = [];
  rooms = new RoomService({
    store,
    clock,
    ids,
    hasher: { hash: async (p) => p, verify: async (p, h) => p === h },
    limiter: memoryRateLimiter(clock),
    buckets: memoryTokenBucket(clock),
    events: {
      emit(event) {
        const entry: (typeof announced)[number] = { event, roomThen: undefined };
        announced.push(entry);
        // The SQLite adapter reads synchronously, so this sees exactly what was committed when emit ran.
        if (event.kind === "room.updated")
          void store.rooms.findById(event.room.id).then((r) => {
            entry.roomThen = r;
          });
      },
    },
  });
});
afterEach(() => store.close());

let n = 0;
async function user(role: Role = "user"): Promise<{ record: UserRecord; p: Principal }> {
  n += 1;
  const record = await store.users.create({
    id: ids.next(),
    username: `user${n}`,
    email: `user${n}@example.com`,
    displayName: `User ${n}`,
    passwordHash: "h",
    role,
    createdAt: T0,
  });
  return { record, p: { userId: record.id, sessionId: ids.next(), role } };
}

/** A room of `kind` owned by the first of `members`. */
async function room(kind: RoomKind, members: ReadonlyArray<{ record: UserRecord }>): Promise<string> {
  const owner = members[0]?.record.id ?? null;
  const r = await store.rooms.create(
    { id: ids.next(), kind, name: "", topic: "", ownerId: owner, createdAt: T0 },
    members.map((m, i) => ({
      userId: m.record.id,
      role: i === 0 ? ("owner" as const) : ("member" as const),
    })),
  );
  return r.id;
}

async function refusal(p: Promise<unknown>): Promise<ErrorCode> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e.code;
}

describe("RoomService.transferOwnership", () => {
  test("announces room.updated once, after the new owner is committed", async () => {
    const a = await user();
    const b = await user();
    const roomId = await room("group", [a, b]);
    const updated = await rooms.transferOwnership(a.p, roomId, b.record.id);
    expect([updated.ownerId, updated.version]).toEqual([b.record.id, 2]);
    await Bun.sleep(0);
    // The announcement carries the committed room, the same the store held when it was made, and whose
    // ownership it replaced.
    expect(announced).toEqual([
      {
        event: { kind: "room.updated", room: updated, actorId: a.record.id, previousOwnerId: a.record.id },
        roomThen: updated,
      },
    ]);
  });

  test("an administrator's transfer names the administrator as actor and the replaced owner", async () => {
    const a = await user();
    const b = await user();
    const admin = await user("admin");
    const roomId = await room("group", [a, b]);
    const updated = await rooms.transferOwnership(admin.p, roomId, b.record.id);
    expect(announced.map((x) => x.event)).toEqual([
      { kind: "room.updated", room: updated, actorId: admin.record.id, previousOwnerId: a.record.id },
    ]);
  });

  test("naming the current owner and every refusal announce nothing", async () => {
    const a = await user();
    const b = await user();
    const outsider = await user();
    const roomId = await room("group", [a, b]);
    const same = await rooms.transferOwnership(a.p, roomId, a.record.id);
    // Nothing changed, so the details keep their version: no announcement needs a new one.
    expect([same.ownerId, same.version]).toEqual([a.record.id, 1]);
    expect(await refusal(rooms.transferOwnership(b.p, roomId, b.record.id))).toBe("FORBIDDEN");
    expect(await refusal(rooms.transferOwnership(a.p, roomId, outsider.record.id))).toBe("USER_NOT_FOUND");
    expect(await refusal(rooms.transferOwnership(outsider.p, roomId, b.record.id))).toBe("ROOM_NOT_FOUND");
    const dm = await store.rooms.create(
      { id: ids.next(), kind: "dm", name: "", topic: "", ownerId: null, createdAt: T0, dmKey: "k" },
      [
        { userId: a.record.id, role: "member" },
        { userId: b.record.id, role: "member" },
      ],
    );
    expect(await refusal(rooms.transferOwnership(a.p, dm.id, b.record.id))).toBe("INVALID_OPERATION");
    expect(announced).toEqual([]);
    expect((await store.rooms.findById(roomId))?.version).toBe(1);
  });

  test("support rooms follow the group rules: the owner or an administrator hands them over", async () => {
    const customer = await user();
    const agent = await user("agent");
    const lead = await user("agent");
    const admin = await user("admin");
    const roomId = await room("support", [customer, agent, lead]);
    expect(await refusal(rooms.transferOwnership(agent.p, roomId, agent.record.id))).toBe("FORBIDDEN");
    await rooms.transferOwnership(customer.p, roomId, agent.record.id);
    await rooms.transferOwnership(admin.p, roomId, lead.record.id);
    const roles = (await store.rooms.listMembers(roomId, null, 100)).map((v) => [
      v.member.userId,
      v.member.role,
    ]);
    expect(roles).toEqual([
      [customer.record.id, "member"],
      [agent.record.id, "member"],
      [lead.record.id, "owner"],
    ]);
    expect((await store.rooms.findById(roomId))?.ownerId).toBe(lead.record.id);
  });

  test("an owner's transfer that lost a race to their own earlier transfer is FORBIDDEN and changes nothing", async () => {
    const a = await user();
    const b = await user();
    const c = await user();
    const roomId = await room("group", [a, b, c]);
    const results = await Promise.allSettled([
      rooms.transferOwnership(a.p, roomId, b.record.id),
      rooms.transferOwnership(a.p, roomId, c.record.id),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((r) => r.status === "rejected");
    expect(lost?.status === "rejected" && lost.reason instanceof AppError && lost.reason.code).toBe(
      "FORBIDDEN",
    );
    const owners = (await store.rooms.listMembers(roomId, null, 100)).filter(
      (v) => v.member.role === "owner",
    );
    expect(owners.map((v) => v.member.userId)).toEqual([(await store.rooms.findById(roomId))?.ownerId ?? ""]);
    expect(announced).toHaveLength(1);
  });
});

describe("RoomService.update", () => {
  test("announces room.updated once per change, after commit, with the committed name and topic", async () => {
    const a = await user();
    const b = await user();
    const roomId = await room("group", [a, b]);
    const renamed = await rooms.update(a.p, roomId, { name: "  Renamed  " });
    const topical = await rooms.update(a.p, roomId, { topic: "New topic" });
    expect([renamed.name, topical.name, topical.topic]).toEqual(["Renamed", "Renamed", "New topic"]);
    expect([renamed.version, topical.version]).toEqual([2, 3]);
    await Bun.sleep(0);
    expect(announced).toEqual([
      {
        event: { kind: "room.updated", room: renamed, actorId: a.record.id, previousOwnerId: null },
        roomThen: renamed,
      },
      {
        event: { kind: "room.updated", room: topical, actorId: a.record.id, previousOwnerId: null },
        roomThen: topical,
      },
    ]);
  });

  test("refusals announce nothing", async () => {
    const a = await user();
    const b = await user();
    const outsider = await user();
    const roomId = await room("group", [a, b]);
    expect(await refusal(rooms.update(b.p, roomId, { name: "Mine" }))).toBe("FORBIDDEN");
    expect(await refusal(rooms.update(outsider.p, roomId, { name: "Mine" }))).toBe("ROOM_NOT_FOUND");
    const support = await room("support", [a, b]);
    expect(await refusal(rooms.update(a.p, support, { name: "Ours" }))).toBe("INVALID_OPERATION");
    expect(announced).toEqual([]);
    // A refused update commits nothing, so it raises no version either.
    expect((await store.rooms.findById(roomId))?.version).toBe(1);
    expect((await store.rooms.findById(support))?.version).toBe(1);
  });
});

describe("RoomService.removeMember", () => {
  test("the owner cannot leave while others remain and is told to transfer ownership first", async () => {
    const a = await user();
    const b = await user();
    const roomId = await room("group", [a, b]);
    const e = await rooms.removeMember(a.p, roomId, a.record.id).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("INVALID_OPERATION");
    expect((e as AppError).message).toContain("transfer ownership");
    await rooms.transferOwnership(a.p, roomId, b.record.id);
    await rooms.removeMember(a.p, roomId, a.record.id);
    expect(
      (await store.rooms.listMembers(roomId, null, 100)).map((v) => [v.member.userId, v.member.role]),
    ).toEqual([[b.record.id, "owner"]]);
  });
});
