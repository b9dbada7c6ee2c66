/**
 * PostgreSQL-specific risks the shared contract cannot see: several pools (as several processes would have)
 * migrating and writing at once, schema isolation, and what the tsvector column does with punctuation.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import postgres from "postgres";
import { MIGRATIONS } from "../../src/adapters/store/postgres/migrations.ts";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import { Conflict } from "../../src/domain/errors.ts";
import type { Store } from "../../src/ports/store.ts";
import { PG_URL, postgresAvailable } from "../support/services.ts";

const available = await postgresAvailable();

/** Whether a session may load auto_explain (a contrib module), which the batch append's plan test reads plans by. */
async function autoExplainLoads(): Promise<boolean> {
  if (!available) return false;
  const conn = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await conn`LOAD 'auto_explain'`;
    return true;
  } catch (e) {
    const why = `auto_explain cannot be loaded: ${(e as Error).message}`;
    if (process.env.CI === "true") throw new Error(`${why}, and CI=true requires it`);
    console.warn(`skipping the batch append's plan test: ${why}`);
    return false;
  } finally {
    await conn.end();
  }
}
const autoExplain = await autoExplainLoads();

function freshSchema(): string {
  return `parley_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

describe.skipIf(!available)("PostgreSQL store", () => {
  const schemas: string[] = [];
  const stores: Store[] = [];

  /** `n` independent pools on one fresh schema, each behaving as a separate process would. */
  function pools(n: number, schema = freshSchema()): Store[] {
    if (!schemas.includes(schema)) schemas.push(schema);
    const opened = Array.from({ length: n }, () =>
      openPostgresStore({ url: PG_URL, schema, maxConnections: 4 }),
    );
    stores.push(...opened);
    return opened;
  }

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    for (const s of schemas) await admin`DROP SCHEMA IF EXISTS ${admin(s)} CASCADE`;
    await admin.end();
  });

  let n = 0;
  async function user(store: Store, name = `user${++n}`) {
    return store.users.create({
      id: `U${String(++n).padStart(25, "0")}`,
      username: name,
      email: `${name}@example.com`,
      displayName: name,
      passwordHash: "x",
      role: "user",
      createdAt: 1_700_000_000_000 + n,
    });
  }

  async function room(store: Store, ownerId: string, memberIds: string[] = []) {
    const id = `R${String(++n).padStart(25, "0")}`;
    return store.rooms.create(
      { id, kind: "group", name: `room ${id}`, topic: "", ownerId, createdAt: 1_700_000_000_000 },
      [
        { userId: ownerId, role: "owner" },
        ...memberIds.map((userId) => ({ userId, role: "member" as const })),
      ],
    );
  }

  test("pools migrating one new schema at once all succeed and apply each migration once", async () => {
    const schema = freshSchema();
    const ps = pools(4, schema);
    await Promise.all(ps.map((s) => s.migrate()));
    await ps[0]!.migrate();
    const admin = postgres(PG_URL, { max: 1 });
    try {
      const rows = await admin`SELECT version FROM ${admin(schema)}.schema_migrations ORDER BY version`;
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await admin.end();
    }
    await ps[3]!.ping();
  });

  /**
   * A fresh schema as the build of migration `version` left it, with `fill` run in the same transaction to put
   * rows in it; returns the schema's name.
   */
  async function schemaAt(
    version: number,
    fill: (tx: postgres.TransactionSql) => Promise<void>,
  ): Promise<string> {
    const schema = freshSchema();
    schemas.push(schema);
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.begin(async (tx) => {
        await tx`CREATE SCHEMA ${tx(schema)}`;
        await tx.unsafe(`SET LOCAL search_path TO "${schema}"`);
        await tx`CREATE TABLE schema_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`;
        for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
          await tx.unsafe(m.sql);
          await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
        }
        await tx`INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
                 VALUES ('u1', 'ann', 'ann@example.com', 'Ann', 'h', 'user', 1)`;
        await fill(tx);
      });
    } finally {
      await admin.end();
    }
    return schema;
  }

  test("the details-version migration gives rooms created before it version 1, and later changes raise it", async () => {
    // The schema as the build before the version column left it, with a room in it.
    const schema = await schemaAt(1, async (tx) => {
      await tx`INSERT INTO rooms (id, kind, name, topic, owner_id, created_at)
               VALUES ('r1', 'group', 'Old', '', 'u1', 1)`;
    });
    const [s] = pools(1, schema);
    await s!.migrate();
    expect(await s!.rooms.findById("r1")).toMatchObject({ name: "Old", version: 1 });
    expect(await s!.rooms.update("r1", { name: "New" })).toMatchObject({ name: "New", version: 2 });
  });

  test("the idempotency-key migration keeps stored keys unique and indexes only messages that carry one", async () => {
    // Schema 2, with a message sent with a client id and one without.
    const schema = await schemaAt(2, async (tx) => {
      for (const r of ["r1", "r2"]) {
        await tx`INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq)
                 VALUES (${r}, 'group', ${r}, '', 'u1', 1, ${r === "r1" ? 2 : 0})`;
        await tx`INSERT INTO members (room_id, user_id, role, joined_at) VALUES (${r}, 'u1', 'owner', 1)`;
      }
      for (const [seq, id, clientMsgId] of [
        [1, "m1", "c1"],
        [2, "m2", null],
      ] as const) {
        await tx`INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, created_at)
                 VALUES (${id}, 'r1', ${seq}, 'u1', ${id}, ${clientMsgId}, 2)`;
        await tx`INSERT INTO events (room_id, seq, type, at, actor_id, message_id)
                 VALUES ('r1', ${seq}, 'message', 2, 'u1', ${id})`;
      }
    });
    const [s] = pools(1, schema);
    await s!.migrate();
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      const indexes = await admin`SELECT indexdef FROM pg_indexes
                                   WHERE schemaname = ${schema} AND indexname = 'messages_client_msg_id_key'`;
      expect(indexes.map((i) => i.indexdef as string)).toEqual([
        expect.stringContaining("(sender_id, client_msg_id) WHERE (client_msg_id IS NOT NULL)"),
      ]);
      const constraints =
        await admin`SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                                       WHERE n.nspname = ${schema} AND c.conname = 'messages_client_msg_id_key'`;
      expect(constraints).toHaveLength(0);
    } finally {
      await admin.end();
    }
    const send = (id: string, roomId: string, clientMsgId: string | null) =>
      s!.messages.append({ id, roomId, senderId: "u1", body: id, clientMsgId, createdAt: 3 });
    expect(await send("m3", "r1", "c1")).toMatchObject({ created: false, message: { id: "m1", seq: 1 } });
    await expect(send("m4", "r2", "c1")).rejects.toMatchObject({ key: "clientMsgId" });
    expect((await send("m5", "r1", null)).message.seq).toBe(3);
    expect((await send("m6", "r1", null)).message.seq).toBe(4);
    expect((await s!.rooms.findById("r2"))?.lastSeq).toBe(0);
  });

  test("message events stored as event rows by earlier builds read the same from messages after migration 4", async () => {
    // Schema 3: three messages with their event rows, as those builds wrote them, one edited and one deleted.
    const schema = await schemaAt(3, async (tx) => {
      await tx`INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq)
               VALUES ('r1', 'group', 'r1', '', 'u1', 1, 5)`;
      await tx`INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r1', 'u1', 'owner', 1)`;
      for (const [seq, id] of [
        [1, "m1"],
        [2, "m2"],
        [3, "m3"],
      ] as const) {
        await tx`INSERT INTO messages (id, room_id, seq, sender_id, body, created_at)
                 VALUES (${id}, 'r1', ${seq}, 'u1', ${`body ${id}`}, ${10 + seq})`;
        await tx`INSERT INTO events (room_id, seq, type, at, actor_id, message_id)
                 VALUES ('r1', ${seq}, 'message', ${10 + seq}, 'u1', ${id})`;
      }
      await tx`UPDATE messages SET body = 'edited', edited_at = 20 WHERE id = 'm1'`;
      await tx`INSERT INTO events (room_id, seq, type, at, actor_id, message_id)
               VALUES ('r1', 4, 'message.edited', 20, 'u1', 'm1')`;
      await tx`UPDATE messages SET deleted_at = 21 WHERE id = 'm2'`;
      await tx`INSERT INTO events (room_id, seq, type, at, actor_id, message_id)
               VALUES ('r1', 5, 'message.deleted', 21, 'u1', 'm2')`;
    });
    const [s] = pools(1, schema);
    await s!.migrate();
    const stream = await s!.messages.listEvents("r1", 0, 100);
    expect(stream.map((e) => [e.seq, e.type, e.at, e.actorId, e.message?.id, e.message?.body])).toEqual([
      [1, "message", 11, "u1", "m1", "edited"],
      [2, "message", 12, "u1", "m2", null],
      [3, "message", 13, "u1", "m3", "body m3"],
      [4, "message.edited", 20, "u1", "m1", "edited"],
      [5, "message.deleted", 21, "u1", "m2", null],
    ]);
    expect((await s!.messages.listEvents("r1", 1, 3)).map((e) => e.seq)).toEqual([2, 3, 4]);
    // New appends continue the stream without event rows.
    const next = await s!.messages.append({
      id: "m6",
      roomId: "r1",
      senderId: "u1",
      body: "new",
      clientMsgId: null,
      createdAt: 30,
    });
    expect(next.event).toMatchObject({ seq: 6, type: "message", at: 30, actorId: "u1" });
    expect(await s!.messages.listEvents("r1", 5, 10)).toEqual(next.event === null ? [] : [next.event]);
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      const types = await admin`SELECT type FROM ${admin(schema)}.events ORDER BY seq`;
      expect(types.map((r) => r.type)).toEqual(["message.edited", "message.deleted"]);
    } finally {
      await admin.end();
    }
  });

  test("after migration 7 a connection plans the batch append's statement once and keeps the plan", async () => {
    // Schema 6, with a room already holding two messages: the batch function is replaced, not created.
    const schema = await schemaAt(6, async (tx) => {
      await tx`INSERT INTO rooms (id, kind, name, topic, owner_id, created_at, last_seq)
               VALUES ('r1', 'group', 'r1', '', 'u1', 1, 2)`;
      await tx`INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r1', 'u1', 'owner', 1)`;
      for (const seq of [1, 2])
        await tx`INSERT INTO messages (id, room_id, seq, sender_id, body, created_at)
                 VALUES (${`m${seq}`}, 'r1', ${seq}, 'u1', 'old', ${seq})`;
    });
    const [s] = pools(1, schema);
    await s!.migrate();
    const conn = postgres(PG_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
    try {
      const call = (k: number) =>
        conn`SELECT n, outcome, (message).seq::int AS seq FROM parley_append_batch(
               ${[`a${k}`, `b${k}`]}, ${["r1", "r1"]}, ${["u1", "u1"]}, ${["x", "y"]},
               ${[`ca${k}`, `cb${k}`]}, ${[k, k]}::bigint[])`;
      expect([...(await call(1))]).toEqual([
        { n: 1, outcome: "created", seq: 3 },
        { n: 2, outcome: "created", seq: 4 },
      ]);
      expect([...(await call(2))].map((r) => r.seq)).toEqual([5, 6]);
      // A statement run by EXECUTE (migration 6) is planned on every call and leaves no plan behind; this one
      // leaves its generic plan in the connection's plan cache.
      const plans = await conn`
        SELECT count(*)::int AS n FROM pg_backend_memory_contexts
         WHERE name = 'CachedPlan' AND ltrim(ident) LIKE 'WITH v AS%'`;
      expect(plans[0]?.n).toBe(1);
    } finally {
      await conn.end();
    }
  });

  test.skipIf(!autoExplain)(
    "the batch append's plan, cached while its tables are empty and never analyzed, probes them by index",
    async () => {
      const schema = freshSchema();
      const [s] = pools(1, schema);
      await s!.migrate();
      const owner = await user(s!);
      const r = await room(s!, owner.id);
      const notices: string[] = [];
      const conn = postgres(PG_URL, {
        max: 1,
        connection: { search_path: schema },
        onnotice: (notice) => notices.push(String(notice.message)),
      });
      try {
        await conn`LOAD 'auto_explain'`;
        await conn`SET auto_explain.log_min_duration = 0`;
        await conn`SET auto_explain.log_nested_statements = on`;
        await conn`SET auto_explain.log_level = notice`;
        for (const k of [1, 2, 3]) {
          await conn`SELECT count(*) FROM parley_append_batch(
                   ${[`a${k}`, `b${k}`]}, ${[r.id, r.id]}, ${[owner.id, owner.id]}, ${["x", "y"]},
                   ${[`ca${k}`, `cb${k}`]}, ${[k, k]}::bigint[])`;
        }
      } finally {
        await conn.end();
      }
      const plans = notices.filter((text) => text.includes("WITH v AS"));
      expect(plans).toHaveLength(3);
      for (const plan of plans) {
        // Had the plan hashed or scanned a table, it would go on doing so for every batch once the table is large.
        expect(plan).not.toMatch(/Seq Scan|Bitmap/);
        for (const index of ["rooms_pkey", "members_pkey", "messages_pkey", "messages_client_msg_id_key"])
          expect(plan).toContain(`using ${index}`);
      }
    },
  );

  test("renames and transfers of one room racing on three pools get versions 2..n+1; the room is the highest", async () => {
    const ps = pools(3);
    await ps[0]!.migrate();
    const owner = await user(ps[0]!);
    const others = [await user(ps[0]!), await user(ps[0]!), await user(ps[0]!)];
    const r = await room(
      ps[0]!,
      owner.id,
      others.map((o) => o.id),
    );
    const calls = Array.from({ length: 30 }, (_, i) => {
      const s = ps[i % ps.length]!;
      return i % 5 === 4
        ? s.rooms.transferOwnership(r.id, others[i % others.length]!.id).then((t) => t.room)
        : s.rooms.update(r.id, i % 2 === 0 ? { name: `name ${i}` } : { topic: `topic ${i}` });
    });
    const committed = (await Promise.all(calls)).sort((a, b) => a.version - b.version);
    // Transfers naming the owner at the time change nothing and keep the version they found: count the others.
    const changed = committed.filter((c, i) => i === 0 || c.version !== committed[i - 1]!.version);
    expect(changed.map((c) => c.version)).toEqual(Array.from({ length: changed.length }, (_, i) => i + 2));
    expect(await ps[1]!.rooms.findById(r.id)).toEqual(committed.at(-1)!);
  });

  test("schemas are isolated: the same username lives in two schemas, rows do not cross", async () => {
    const [a] = pools(1);
    const [b] = pools(1);
    await Promise.all([a!.migrate(), b!.migrate()]);
    const ua = await user(a!, "samename");
    const ub = await user(b!, "SameName");
    expect(await b!.users.findById(ua.id)).toBeNull();
    expect((await a!.users.findByLogin("SAMENAME"))?.id).toBe(ua.id);
    expect((await b!.users.findByLogin("samename"))?.id).toBe(ub.id);
  });

  test("times and seqs come back as numbers, not strings or bigints", async () => {
    const [s] = pools(1);
    await s!.migrate();
    const u = await user(s!);
    const r = await room(s!, u.id);
    const { message } = await s!.messages.append({
      id: "M00000000000000000000000001",
      roomId: r.id,
      senderId: u.id,
      body: "hi",
      clientMsgId: null,
      createdAt: 1_700_000_000_123,
    });
    expect(message.seq).toBe(1);
    expect(message.createdAt).toBe(1_700_000_000_123);
    expect(typeof u.createdAt).toBe("number");
    expect(await s!.users.countByRole("user")).toBe(1);
  });

  test("concurrent appends from three pools to one room get contiguous seqs 1..N", async () => {
    const ps = pools(3);
    await ps[0]!.migrate();
    const u = await user(ps[0]!);
    const r = await room(ps[0]!, u.id);
    const perPool = 20;
    const results = await Promise.all(
      ps.flatMap((s, p) =>
        Array.from({ length: perPool }, (_, i) =>
          s.messages.append({
            id: `M${p}${String(i).padStart(24, "0")}`,
            roomId: r.id,
            senderId: u.id,
            body: `m ${p} ${i}`,
            clientMsgId: null,
            createdAt: 1_700_000_000_000 + i,
          }),
        ),
      ),
    );
    const total = ps.length * perPool;
    const seqs = results.map((x) => x.message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(results.every((x) => x.created && x.event?.seq === x.message.seq)).toBe(true);
    const events = await ps[1]!.messages.listEvents(r.id, 0, 1000);
    expect(events.map((e) => e.seq)).toEqual(seqs);
    expect((await ps[2]!.rooms.findById(r.id))?.lastSeq).toBe(total);
  });

  test("identical idempotent appends racing on several pools store one message", async () => {
    const ps = pools(3);
    await ps[0]!.migrate();
    const u = await user(ps[0]!);
    const r = await room(ps[0]!, u.id);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        ps[i % ps.length]!.messages.append({
          id: `M${String(i).padStart(25, "0")}`,
          roomId: r.id,
          senderId: u.id,
          body: "once",
          clientMsgId: "retry-1",
          createdAt: 1_700_000_000_000,
        }),
      ),
    );
    expect(results.filter((x) => x.created)).toHaveLength(1);
    expect(new Set(results.map((x) => x.message.id)).size).toBe(1);
    expect(results.filter((x) => !x.created).every((x) => x.event === null)).toBe(true);
    expect(await ps[0]!.messages.page(r.id, { limit: 50 })).toHaveLength(1);
    // The losers rolled back their seq claims: the stream is exactly one event long.
    expect((await ps[0]!.rooms.findById(r.id))?.lastSeq).toBe(1);
  });

  test("one clientMsgId raced into two rooms: one stored, the other call sees Conflict", async () => {
    const ps = pools(3);
    await ps[0]!.migrate();
    const u = await user(ps[0]!);
    const r1 = await room(ps[0]!, u.id);
    const r2 = await room(ps[0]!, u.id);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        ps[i % ps.length]!.messages.append({
          id: `M${String(i).padStart(25, "0")}`,
          roomId: i % 2 === 0 ? r1.id : r2.id,
          senderId: u.id,
          body: "x",
          clientMsgId: "cross-room",
          createdAt: 1_700_000_000_000,
        }),
      ),
    );
    const ok = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    const failed = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
    expect(ok.filter((x) => x.created)).toHaveLength(1);
    const winnerRoom = ok.find((x) => x.created)!.message.roomId;
    expect(ok.every((x) => x.message.roomId === winnerRoom)).toBe(true);
    expect(failed.length).toBe(3);
    expect(failed.every((e) => e instanceof Conflict && e.key === "clientMsgId")).toBe(true);
    const loserRoom = winnerRoom === r1.id ? r2.id : r1.id;
    expect((await ps[1]!.rooms.findById(loserRoom))?.lastSeq).toBe(0);
  });

  test("20 concurrent rotations of one token across pools: at most one rotates, the session ends revoked", async () => {
    const ps = pools(3);
    await ps[0]!.migrate();
    const u = await user(ps[0]!);
    await ps[0]!.sessions.create({
      id: "S0000000000000000000000001",
      userId: u.id,
      refreshTokenHash: "h0",
      createdAt: 1000,
      expiresAt: 100_000,
      userAgent: null,
      ip: null,
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ps[i % ps.length]!.sessions.rotate("h0", { nextHash: `h1-${i}`, now: 2000, expiresAt: 200_000 }),
      ),
    );
    const kinds = results.map((r) => r.kind);
    expect(kinds.filter((k) => k === "rotated").length).toBeLessThanOrEqual(1);
    expect(kinds.filter((k) => k === "rotated" || k === "reused")).toHaveLength(20);
    expect((await ps[1]!.sessions.findById("S0000000000000000000000001"))?.revokedAt).toBe(2000);
    // Whoever won holds a token of a revoked family: it is worth nothing now.
    const winner = results.findIndex((r) => r.kind === "rotated");
    if (winner >= 0) {
      const again = await ps[2]!.sessions.rotate(`h1-${winner}`, {
        nextHash: "h2",
        now: 3000,
        expiresAt: 300_000,
      });
      expect(again.kind).toBe("invalid");
    }
  });

  test("rotation then reuse of the first token revokes; the current token is then invalid", async () => {
    const [s] = pools(1);
    await s!.migrate();
    const u = await user(s!);
    await s!.sessions.create({
      id: "S0000000000000000000000002",
      userId: u.id,
      refreshTokenHash: "a0",
      createdAt: 1000,
      expiresAt: 100_000,
      userAgent: "ua",
      ip: "127.0.0.1",
    });
    const first = await s!.sessions.rotate("a0", { nextHash: "a1", now: 2000, expiresAt: 200_000 });
    expect(first.kind).toBe("rotated");
    if (first.kind === "rotated") {
      expect(first.session.lastUsedAt).toBe(2000);
      expect(first.session.expiresAt).toBe(200_000);
    }
    expect((await s!.sessions.rotate("a0", { nextHash: "a2", now: 3000, expiresAt: 300_000 })).kind).toBe(
      "reused",
    );
    expect((await s!.sessions.rotate("a1", { nextHash: "a3", now: 4000, expiresAt: 400_000 })).kind).toBe(
      "invalid",
    );
    expect((await s!.sessions.rotate("nope", { nextHash: "a4", now: 4000, expiresAt: 400_000 })).kind).toBe(
      "invalid",
    );
  });

  test("search splits on punctuation like plain text and treats query syntax as text", async () => {
    const [s] = pools(1);
    await s!.migrate();
    const u = await user(s!);
    const r = await room(s!, u.id);
    const bodies = [
      "mail bob@example.com today",
      "see https://parley.dev/docs/setup",
      "it's 3.14 o'clock",
      "foo & bar | !baz",
    ];
    let i = 0;
    for (const body of bodies) {
      await s!.messages.append({
        id: `M${String(++i).padStart(25, "0")}`,
        roomId: r.id,
        senderId: u.id,
        body,
        clientMsgId: null,
        createdAt: 1_700_000_000_000 + i,
      });
    }
    const hits = async (q: string) =>
      (await s!.messages.search(u.id, q, { limit: 10 })).map((h) => h.message.body).sort();
    expect(await hits("example")).toEqual([bodies[0]!]);
    expect(await hits("bob@example.com")).toEqual([bodies[0]!]);
    expect(await hits("docs setu")).toEqual([bodies[1]!]);
    expect(await hits("14 o'clock")).toEqual([bodies[2]!]);
    expect(await hits("!baz | foo")).toEqual([bodies[3]!]);
    expect(await hits("foo:* & (")).toEqual([bodies[3]!]);
    expect(await hits("&|!()'\\")).toEqual([]);
    expect(await hits("exam")).toEqual([bodies[0]!]);
    expect(await hits("exam today")).toEqual([]);
  });

  test("no text a user can type makes search fail", async () => {
    const [s] = pools(1);
    await s!.migrate();
    const u = await user(s!);
    const queries = [
      ...fc.sample(fc.string({ unit: "grapheme", maxLength: 40 }), { numRuns: 60, seed: 42 }),
      ...fc.sample(fc.string({ unit: "binary", maxLength: 20 }), { numRuns: 30, seed: 7 }),
      "\u0301",
      "a \u0301",
      "x".repeat(3000),
    ].filter((q) => q.isWellFormed() && !q.includes("\u0000"));
    for (const q of queries) expect(await s!.messages.search(u.id, q, { limit: 5 })).toEqual([]);
  });
});
