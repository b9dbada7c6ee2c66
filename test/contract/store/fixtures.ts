/**
 * Shared setup for the Store contract parts: a fresh, migrated store per test, factories for users, rooms,
 * messages and sessions, and assertions on the port's typed errors. Times are arbitrary numbers chosen here.
 */
import { afterEach, beforeEach, expect } from "bun:test";
import { ulidIds } from "../../../src/adapters/ids/ulid-ids.ts";
import { Conflict, NotFound } from "../../../src/domain/errors.ts";
import type { Message } from "../../../src/domain/message.ts";
import type { MemberRole, Room } from "../../../src/domain/room.ts";
import type { Session } from "../../../src/domain/session.ts";
import type { UserRecord } from "../../../src/domain/user.ts";
import type { CommitTiming } from "../../../src/ports/commit-timing.ts";
import type { IdGenerator } from "../../../src/ports/ids.ts";
import type { NewRoom, NewSession, NewUser, Store } from "../../../src/ports/store.ts";

/**
 * Opens a fresh, empty store that nobody else uses. The suite migrates it, closes it after each test, and then
 * calls `cleanup`, which removes what the store left behind (file, schema); `cleanup` must not need the store.
 * The store must hand every group commit's timing to `onCommit` (its open function's option of that name).
 */
export type OpenStore = (opts: {
  readonly onCommit: (timing: CommitTiming) => void;
}) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export const T0 = 1_700_000_000_000;
export const DAY = 86_400_000;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error("expected a rejection, but the promise resolved"),
    (e: unknown) => e,
  );
}

export async function expectConflict(p: Promise<unknown>, key: string): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(Conflict);
  expect((err as Conflict).key).toBe(key);
}

export async function expectNotFound(p: Promise<unknown>, entity: string): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(NotFound);
  expect((err as NotFound).entity).toBe(entity);
}

/** What every contract part builds on. The functions are free-standing closures, safe to destructure. */
export interface StoreFixture {
  readonly ids: IdGenerator;
  /** The store of the running test; throws when no test is running. */
  readonly store: () => Store;
  /**
   * The counter behind every factory call, as it stands now; `user()` derives its username, email, password
   * hash and createdAt from the value it leaves here.
   */
  readonly serial: () => number;
  /** Every group commit the store of the running test reported (ports/commit-timing.ts), oldest first. */
  readonly commits: () => readonly CommitTiming[];
  /** Records that the test closed the store itself, so teardown does not close it a second time. */
  readonly markClosed: () => void;
  readonly user: (over?: Partial<NewUser>) => Promise<UserRecord>;
  /** A group room; the first member is its owner. */
  readonly room: (members: readonly UserRecord[], over?: Partial<NewRoom>) => Promise<Room>;
  readonly send: (
    roomId: string,
    sender: UserRecord,
    body: string,
    over?: { clientMsgId?: string; createdAt?: number },
  ) => Promise<Message>;
  readonly session: (userId: string, over?: Partial<NewSession>) => Promise<Session>;
  /** The room's last seq, or -1 when the room does not exist. */
  readonly lastSeq: (roomId: string) => Promise<number>;
}

/**
 * Registers the per-test open/migrate and close/cleanup hooks in the calling `describe`, and returns the
 * fixture the parts share. Call it once, at the top of the suite's `describe`.
 */
export function storeFixture(open: OpenStore): StoreFixture {
  const ids = ulidIds();
  let n = 0;
  let opened: { store: Store; cleanup: () => Promise<void>; closed: boolean } | null = null;

  let commits: CommitTiming[] = [];

  beforeEach(async () => {
    const seen: CommitTiming[] = [];
    commits = seen;
    const o = await open({ onCommit: (t) => seen.push(t) });
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

  const session = (userId: string, over: Partial<NewSession> = {}): Promise<Session> =>
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

  return {
    ids,
    store,
    serial: () => n,
    commits: () => commits,
    markClosed: () => {
      if (opened) opened.closed = true;
    },
    user,
    room,
    send,
    session,
    lastSeq,
  };
}
