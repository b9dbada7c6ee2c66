import type { Store } from "../../src/ports/store.ts";

/**
 * The store-level profile tools' fixture: one user, "u1", owner and only member of `count` group rooms named
 * `room-0`, `room-1`, …; returns the room ids.
 */
export async function oneSenderRooms(store: Store, count: number): Promise<string[]> {
  await store.users.create({
    id: "u1",
    username: "u1",
    email: "u1@example.test",
    displayName: "U1",
    passwordHash: "x",
    role: "user",
    createdAt: 1,
  });
  const roomIds = Array.from({ length: count }, (_, i) => `room-${i}`);
  for (const id of roomIds) {
    await store.rooms.create({ id, kind: "group", name: id, topic: "", ownerId: "u1", createdAt: 1 }, [
      { userId: "u1", role: "owner" },
    ]);
  }
  return roomIds;
}
