/**
 * Group commit of message appends in the PostgreSQL adapter: what batching must keep that the shared contract
 * cannot observe — per-entry outcomes inside one batch, seq order across batches in flight at once, several
 * pools (as several processes would have) locking overlapping rooms, and commit before acknowledgement.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { ulidIds } from "../../src/adapters/ids/ulid-ids.ts";
import { createClient } from "../../src/adapters/store/postgres/client.ts";
import type { GroupCommitOptions } from "../../src/adapters/store/postgres/group-commit.ts";
import {
  type AppendBatchStats,
  type PostgresMessageRepository,
  postgresMessages,
} from "../../src/adapters/store/postgres/messages.ts";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import { Conflict, NotFound } from "../../src/domain/errors.ts";
import type { Message, RoomEvent } from "../../src/domain/message.ts";
import type { NewMessage, Store } from "../../src/ports/store.ts";
import { PG_URL, postgresAvailable } from "../support/services.ts";

const available = await postgresAvailable();

const T0 = 1_700_000_000_000;

type AppendResult = {
  readonly message: Message;
  readonly event: RoomEvent | null;
  readonly created: boolean;
};

describe.skipIf(!available)("PostgreSQL group commit", () => {
  const schemas: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const ids = ulidIds();

  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    for (const s of schemas) await admin`DROP SCHEMA IF EXISTS ${admin(s)} CASCADE`;
    await admin.end();
  });

  /** A fresh, migrated schema and a store on it. */
  async function freshStore(): Promise<{ schema: string; store: Store }> {
    const schema = `parley_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    schemas.push(schema);
    const store = openPostgresStore({ url: PG_URL, schema, maxConnections: 6 });
    closers.push(() => store.close());
    await store.migrate();
    return { schema, store };
  }

  /** Another store on `schema` with a pool of its own, as another process would have. */
  function anotherStore(schema: string): Store {
    const store = openPostgresStore({ url: PG_URL, schema, maxConnections: 6 });
    closers.push(() => store.close());
    return store;
  }

  /** The message repository alone, on a pool of its own, with the given batch limits. */
  function messagesWith(schema: string, options: GroupCommitOptions): PostgresMessageRepository {
    const sql = createClient({ url: PG_URL, schema, maxConnections: 6 });
    closers.push(() => sql.end({ timeout: 5 }));
    return postgresMessages(sql, options);
  }

  function statsOf(store: Store): AppendBatchStats {
    const messages = store.messages as Partial<PostgresMessageRepository>;
    if (messages.appendStats === undefined) throw new Error("not the PostgreSQL message repository");
    return messages.appendStats;
  }

  let n = 0;
  async function user(store: Store) {
    const name = `gc${++n}`;
    return store.users.create({
      id: ids.next(),
      username: name,
      email: `${name}@example.com`,
      displayName: name,
      passwordHash: "x",
      role: "user",
      createdAt: T0,
    });
  }

  async function rooms(store: Store, ownerId: string, count: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const room = await store.rooms.create(
        { id: ids.next(), kind: "group", name: `room ${++n}`, topic: "", ownerId, createdAt: T0 },
        [{ userId: ownerId, role: "owner" }],
      );
      out.push(room.id);
    }
    return out;
  }

  function msg(roomId: string, senderId: string, over: Partial<NewMessage> = {}): NewMessage {
    return {
      id: ids.next(),
      roomId,
      senderId,
      body: `m${++n}`,
      clientMsgId: null,
      createdAt: T0 + n,
      ...over,
    };
  }

  function value<T>(o: PromiseSettledResult<T>): T {
    if (o.status === "rejected") throw new Error(`expected success, got ${String(o.reason)}`);
    return o.value;
  }

  function reason(o: PromiseSettledResult<unknown>): unknown {
    if (o.status === "fulfilled") throw new Error("expected a rejection, but it resolved");
    return o.reason;
  }

  test(
    "600 concurrent appends over 20 rooms: seqs 1..n per room in call order, events as replayed, " +
      "each visible to another pool when it resolves",
    async () => {
      const { schema, store } = await freshStore();
      const other = anotherStore(schema);
      const u = await user(store);
      const roomIds = await rooms(store, u.id, 20);
      // Small batches and three in flight: many batches, several committing at once on different connections.
      const messages = messagesWith(schema, { maxBatch: 64, maxInFlight: 3 });
      const perRoom = 30;
      const calls = Array.from({ length: roomIds.length * perRoom }, (_, i) =>
        msg(roomIds[i % roomIds.length]!, u.id),
      );
      const seenByOther: Promise<Message | null>[] = [];
      const results = await Promise.all(
        calls.map((m) =>
          messages.append(m).then((r) => {
            // Asked the moment the promise resolves, on another pool: only a committed row can be there.
            seenByOther.push(other.messages.findById(m.roomId, m.id));
            return r;
          }),
        ),
      );
      expect((await Promise.all(seenByOther)).every((found) => found !== null)).toBe(true);

      for (const roomId of roomIds) {
        const inRoom = results.filter((_, i) => calls[i]!.roomId === roomId);
        // Call order within a room is seq order, across batches that ran concurrently.
        expect(inRoom.map((r) => r.message.seq)).toEqual(Array.from({ length: perRoom }, (_, k) => k + 1));
        expect(inRoom.every((r) => r.created && r.event?.seq === r.message.seq)).toBe(true);
        expect(await other.messages.listEvents(roomId, 0, 1000)).toEqual(inRoom.map((r) => r.event!));
        expect((await other.rooms.findById(roomId))?.lastSeq).toBe(perRoom);
      }
      const stats = messages.appendStats;
      expect(stats.calls).toBe(calls.length);
      expect(stats.batches).toBeGreaterThanOrEqual(Math.ceil(calls.length / 64));
      expect(stats.batches).toBeLessThan(calls.length / 4);
      expect(stats.fallbacks).toBe(0);
    },
  );

  test("one batch of good and bad entries: each gets its own outcome, the good ones commit", async () => {
    const { schema, store } = await freshStore();
    const a = await user(store);
    const b = await user(store);
    const [roomA, roomB] = (await rooms(store, a.id, 2)) as [string, string];
    const messages = messagesWith(schema, { maxBatch: 256, maxInFlight: 1 });
    const joined = await store.rooms.addMember(roomB, b.id, "member", a.id, T0);
    const elsewhere = await messages.append(msg(roomB, a.id, { clientMsgId: "elsewhere" }));
    const before = await messages.append(msg(roomA, a.id, { clientMsgId: "before" }));
    const batchesBefore = messages.appendStats.batches;

    const calls: NewMessage[] = [
      msg(roomA, a.id), // 0: seq 2
      msg(ids.next(), a.id), // 1: no such room
      msg(roomA, ids.next()), // 2: no such sender: not a member
      msg(roomA, a.id, { id: before.message.id }), // 3: id already stored
      msg(roomA, a.id, { clientMsgId: "k1" }), // 4: seq 3
      msg(roomA, a.id, { clientMsgId: "k1" }), // 5: replay of 4, in the same batch
      msg(roomA, a.id, { clientMsgId: "elsewhere" }), // 6: stored in room B
      msg(roomA, a.id, { clientMsgId: "before" }), // 7: replay of a stored message
      msg(roomB, a.id, { clientMsgId: "k1" }), // 8: taken by 4, in room A
      msg(roomB, b.id), // 9: seq 3 in room B
      msg(ids.next(), b.id, { clientMsgId: "k2" }), // 10: no such room — reserves nothing
      msg(roomB, b.id, { clientMsgId: "k2" }), // 11: seq 4 in room B
    ];
    calls.push(msg(roomA, a.id, { id: calls[0]!.id })); // 12: id taken by 0, in the same batch
    calls.push(msg(roomA, b.id, { clientMsgId: "k3" })); // 13: b is not in room A — reserves nothing
    calls.push(msg(roomB, b.id, { clientMsgId: "k3" })); // 14: seq 5 in room B
    const out = await Promise.allSettled(calls.map((m) => messages.append(m)));

    expect(messages.appendStats.batches).toBe(batchesBefore + 1);
    expect(messages.appendStats.fallbacks).toBe(0);
    const created = (i: number, seq: number) => {
      const r = value(out[i]!);
      expect(r.created).toBe(true);
      expect(r.message).toMatchObject({
        id: calls[i]!.id,
        roomId: calls[i]!.roomId,
        seq,
        body: calls[i]!.body,
      });
      return r;
    };
    const notFound = (i: number, entity: string) => {
      const e = reason(out[i]!);
      expect(e).toBeInstanceOf(NotFound);
      expect((e as NotFound).entity).toBe(entity);
    };
    const conflict = (i: number, key: string) => {
      const e = reason(out[i]!);
      expect(e).toBeInstanceOf(Conflict);
      expect((e as Conflict).key).toBe(key);
    };
    const replayOf = (i: number, original: Message) => {
      expect(value(out[i]!)).toEqual({ message: original, event: null, created: false });
    };

    const r0 = created(0, 2);
    notFound(1, "room");
    notFound(2, "member");
    conflict(3, "id");
    const r4 = created(4, 3);
    replayOf(5, r4.message);
    conflict(6, "clientMsgId");
    replayOf(7, before.message);
    conflict(8, "clientMsgId");
    const r9 = created(9, 3);
    notFound(10, "room");
    const r11 = created(11, 4);
    conflict(12, "id");
    notFound(13, "member");
    const r14 = created(14, 5);

    expect(await store.messages.listEvents(roomA, 0, 100)).toEqual([before.event!, r0.event!, r4.event!]);
    expect(await store.messages.listEvents(roomB, 0, 100)).toEqual([
      joined!,
      elsewhere.event!,
      r9.event!,
      r11.event!,
      r14.event!,
    ]);
    expect((await store.rooms.findById(roomA))?.lastSeq).toBe(3);
    expect((await store.rooms.findById(roomB))?.lastSeq).toBe(5);
    expect(await store.messages.page(roomA, { limit: 10 })).toHaveLength(3);
  });

  test("a batch PostgreSQL rejects is retried entry by entry: only the bad entry fails", async () => {
    const { schema, store } = await freshStore();
    const u = await user(store);
    const [roomId] = (await rooms(store, u.id, 1)) as [string];
    const messages = messagesWith(schema, { maxBatch: 256, maxInFlight: 1 });
    // A NUL character is not valid in a PostgreSQL text value; no pre-check looks for it.
    const calls = [msg(roomId, u.id), msg(roomId, u.id, { body: "a\u0000b" }), msg(roomId, u.id)];
    const out = await Promise.allSettled(calls.map((m) => messages.append(m)));

    expect(messages.appendStats.fallbacks).toBe(1);
    expect(value(out[0]!).message.seq).toBe(1);
    expect(out[1]!.status).toBe("rejected");
    expect(value(out[2]!).message.seq).toBe(2);
    expect((await store.messages.listEvents(roomId, 0, 10)).map((e) => e.message?.id)).toEqual([
      calls[0]!.id,
      calls[2]!.id,
    ]);
    expect((await store.rooms.findById(roomId))?.lastSeq).toBe(2);
  });

  test("appends made while a batch is retried entry by entry follow its entries: seqs in call order", async () => {
    const { schema, store } = await freshStore();
    const u = await user(store);
    const [roomId] = (await rooms(store, u.id, 1)) as [string];
    const messages = messagesWith(schema, { maxBatch: 256, maxInFlight: 2 });
    const first = [msg(roomId, u.id), msg(roomId, u.id, { body: "a\u0000b" }), msg(roomId, u.id)];
    const pending = first.map((m) => messages.append(m));
    // The next turn: the first batch has started; these form a second batch, in flight beside it.
    await new Promise<void>((r) => setImmediate(r));
    const second = [msg(roomId, u.id), msg(roomId, u.id)];
    pending.push(...second.map((m) => messages.append(m)));
    const out = await Promise.allSettled(pending);

    expect(messages.appendStats.fallbacks).toBe(1);
    expect(messages.appendStats.batches).toBe(2);
    expect(out[1]!.status).toBe("rejected");
    expect([0, 2, 3, 4].map((i) => value(out[i]!).message.seq)).toEqual([1, 2, 3, 4]);
    expect((await store.messages.listEvents(roomId, 0, 10)).map((e) => e.message?.id)).toEqual(
      [first[0]!, first[2]!, ...second].map((m) => m.id),
    );
  });

  test("a batch waits for earlier batches of its rooms only: one over other rooms commits meanwhile", async () => {
    const { schema, store } = await freshStore();
    const u = await user(store);
    const [roomA, roomB] = (await rooms(store, u.id, 2)) as [string, string];
    const messages = messagesWith(schema, { maxBatch: 256, maxInFlight: 3 });
    // Another session holds room A's row, as a long edit would.
    const holder = createClient({ url: PG_URL, schema, maxConnections: 1 });
    closers.push(() => holder.end({ timeout: 5 }));
    const held = await holder.reserve();
    await held`BEGIN`;
    await held`SELECT 1 FROM rooms WHERE id = ${roomA} FOR UPDATE`;

    let releasing: Promise<void> | null = null;
    const release = () => {
      releasing ??= held`ROLLBACK`.then(() => held.release());
      return releasing;
    };
    try {
      const inA = Promise.all([msg(roomA, u.id), msg(roomA, u.id)].map((m) => messages.append(m)));
      await new Promise<void>((r) => setImmediate(r));
      const inB = Promise.all([msg(roomB, u.id), msg(roomB, u.id)].map((m) => messages.append(m)));
      await new Promise<void>((r) => setImmediate(r));
      const inBoth = Promise.all([msg(roomA, u.id), msg(roomB, u.id)].map((m) => messages.append(m)));
      let bothSettled = false;
      void inBoth.finally(() => {
        bothSettled = true;
      });

      const timeout = new Promise<"timed out">((r) => setTimeout(() => r("timed out"), 3_000));
      const b = await Promise.race([inB, timeout]);
      if (b === "timed out") throw new Error("the batch over room B waited for room A's lock");
      expect(b.map((r) => r.message.seq)).toEqual([1, 2]);
      await Bun.sleep(100);
      expect(bothSettled).toBe(false);

      await release();
      expect((await inA).map((r) => r.message.seq)).toEqual([1, 2]);
      expect((await inBoth).map((r) => r.message.seq)).toEqual([3, 3]);
    } finally {
      await release();
    }
    expect(messages.appendStats.fallbacks).toBe(0);
  });

  test("two pools append to overlapping rooms in opposite orders, with edits in between: " +
    "no deadlock, no gap, no duplicate", async () => {
    const { schema, store } = await freshStore();
    const other = anotherStore(schema);
    const u = await user(store);
    const roomIds = await rooms(store, u.id, 12);
    const firsts = await Promise.all(roomIds.map((r) => store.messages.append(msg(r, u.id))));
    const perPool = 600;
    const run = (s: Store, order: readonly string[]) =>
      Promise.all(
        Array.from({ length: perPool }, (_, i) => {
          const roomId = order[i % order.length]!;
          if (i % 50 === 49) {
            const first = firsts[roomIds.indexOf(roomId)]!.message.id;
            return s.messages.edit(roomId, first, `edited ${i}`, u.id, T0 + i).then(() => null);
          }
          return s.messages.append(msg(roomId, u.id));
        }),
      );
    const [fromA, fromB] = await Promise.all([run(store, roomIds), run(other, [...roomIds].reverse())]);
    // A deadlock or a racing duplicate would have shown as a fallback (PostgreSQL aborting a batch).
    expect(statsOf(store).fallbacks).toBe(0);
    expect(statsOf(other).fallbacks).toBe(0);

    const appended = [...fromA, ...fromB].filter((r): r is AppendResult => r !== null);
    const events: RoomEvent[] = [];
    for (const roomId of roomIds) {
      const stream = await store.messages.listEvents(roomId, 0, 10_000);
      expect(stream.map((e) => e.seq)).toEqual(Array.from({ length: stream.length }, (_, k) => k + 1));
      expect((await store.rooms.findById(roomId))?.lastSeq).toBe(stream.length);
      events.push(...stream);
    }
    const messageEvents = events.filter((e) => e.type === "message");
    expect(messageEvents).toHaveLength(roomIds.length + appended.length);
    expect(new Set(messageEvents.map((e) => e.message?.id)).size).toBe(messageEvents.length);
    expect(events.filter((e) => e.type === "message.edited")).toHaveLength((2 * perPool) / 50);
    const bySeq = new Map(events.map((e) => [`${e.roomId}/${e.seq}`, e]));
    for (const r of appended)
      expect(bySeq.get(`${r.message.roomId}/${r.message.seq}`)?.message?.id).toBe(r.message.id);
  }, 30_000);

  test("one clientMsgId sent 20 times at once from two pools stores one row", async () => {
    const { schema, store } = await freshStore();
    const other = anotherStore(schema);
    const u = await user(store);
    const [roomId] = (await rooms(store, u.id, 1)) as [string];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? store : other).messages.append(
          msg(roomId, u.id, { body: "once", clientMsgId: "retry" }),
        ),
      ),
    );
    const winners = results.filter((r) => r.created);
    expect(winners).toHaveLength(1);
    expect(results.every((r) => r.message.id === winners[0]!.message.id)).toBe(true);
    expect(results.filter((r) => !r.created).every((r) => r.event === null)).toBe(true);
    expect(await store.messages.page(roomId, { limit: 50 })).toHaveLength(1);
    expect((await other.rooms.findById(roomId))?.lastSeq).toBe(1);
    // Same room, so the room lock ordered the pools: the loser's pre-check saw the winner; no abort needed.
    expect(statsOf(store).fallbacks + statsOf(other).fallbacks).toBe(0);
  });
  test("close() commits the appends already queued before it ends the pool", async () => {
    const { schema, store } = await freshStore();
    const owner = await user(store);
    const [roomId] = await rooms(store, owner.id, 1);
    if (roomId === undefined) throw new Error("no room");
    // Queued, not yet batched (the batch starts on the next turn), when close() is called.
    const pending = Array.from({ length: 40 }, () => store.messages.append(msg(roomId, owner.id)));
    await store.close();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const other = anotherStore(schema);
    expect((await other.messages.listEvents(roomId, 0, 100)).length).toBe(40);
  });

  test("a batch of one takes the single-message path; seqs follow call order across both paths", async () => {
    const { store } = await freshStore();
    const owner = await user(store);
    const [roomId] = await rooms(store, owner.id, 1);
    if (roomId === undefined) throw new Error("no room");
    const before = statsOf(store);
    // Awaited one by one: every batch holds one entry.
    for (let i = 0; i < 5; i++) await store.messages.append(msg(roomId, owner.id));
    const afterSequential = statsOf(store);
    expect(afterSequential.singles - before.singles).toBe(5);
    expect(afterSequential.batches - before.batches).toBe(5);
    // One call per turn, not awaited: consecutive batches of one, two in flight at once (each waits for the
    // previous one's commit before it starts).
    const pending: Promise<AppendResult>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(store.messages.append(msg(roomId, owner.id)));
      await new Promise<void>((r) => setImmediate(r));
    }
    const seqs = (await Promise.all(pending)).map((r) => r.message.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
    // A burst in one turn is one batch through the batch transaction.
    const burst = await Promise.all(
      Array.from({ length: 30 }, () => store.messages.append(msg(roomId, owner.id))),
    );
    expect(burst.map((r) => r.message.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 26));
    const end = statsOf(store);
    expect(end.calls - before.calls).toBe(55);
    expect(end.fallbacks).toBe(0);
    const events = await store.messages.listEvents(roomId, 0, 100);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 55 }, (_, i) => i + 1));
  });
});
