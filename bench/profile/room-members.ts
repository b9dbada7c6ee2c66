/**
 * What reading a large room's members costs on PostgreSQL: one room of `--members` members (written in bulk into
 * a schema of its own), then `--reads` reads of the first page of `--limit` through the store, one at a time, the
 * way `GET /api/v1/rooms/{roomId}` reads them for its `members`. Per round: the wall time and the client's CPU per
 * read, PostgreSQL's CPU per read (every `postgres` process's, from /proc, so run it where nothing else uses
 * PostgreSQL) and the size of the members as JSON. A store without paging ignores the page and returns the whole
 * room, which is the measurement before paging. The schema is dropped at the end.
 *
 *   bun bench/profile/room-members.ts [--members 70000] [--reads 50] [--limit 100] [--rounds 3]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import type { MemberView } from "../../src/ports/store.ts";
import { cpuSecondsOf, pidsNamed } from "../metrics/proc-stats.ts";

const { values } = parseArgs({
  options: {
    members: { type: "string", default: "70000" },
    reads: { type: "string", default: "50" },
    limit: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    url: {
      type: "string",
      default: process.env.PARLEY_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
    },
  },
});
const members = Number(values.members);
const reads = Number(values.reads);
const limit = Number(values.limit);
const rounds = Number(values.rounds);
const schema = `parley_room_members_${process.pid}`;
const store = openPostgresStore({ url: values.url, schema });
const admin = postgres(values.url, { max: 1, onnotice: () => {} });

/** The first page as the room's details read it; a store without paging takes the room alone and returns all. */
const firstPage = (roomId: string): Promise<MemberView[]> =>
  (store.rooms.listMembers as (roomId: string, after: string | null, limit: number) => Promise<MemberView[]>)(
    roomId,
    null,
    limit,
  );

try {
  await store.migrate();
  const t0 = performance.now();
  const s = admin.unsafe.bind(admin);
  await s(`SET search_path TO ${schema}`);
  // Ids sort as the numbers do (zero-padded), and are ULID-shaped so nothing else in the schema objects to them.
  await s(
    `INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
     SELECT lpad(i::text, 26, '0'), 'member' || i, 'member' || i || '@example.test', 'Member ' || i, 'x', 'user', 0
       FROM generate_series(1, ${members}) AS i`,
  );
  const roomId = "0000000000000000000000ROOM";
  await s(
    `INSERT INTO rooms (id, kind, name, topic, owner_id, created_at) VALUES ('${roomId}', 'group', 'Big', '', lpad('1', 26, '0'), 0)`,
  );
  await s(
    `INSERT INTO members (room_id, user_id, role, joined_at)
     SELECT '${roomId}', lpad(i::text, 26, '0'), CASE WHEN i = 1 THEN 'owner' ELSE 'member' END, i
       FROM generate_series(1, ${members}) AS i`,
  );
  await s("ANALYZE");
  console.log(
    `${members.toLocaleString("en")} members in one room in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (let r = 1; r <= rounds; r++) {
    const pg0 = cpuSecondsOf(pidsNamed("postgres"));
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    let bytes = 0;
    let rows = 0;
    for (let i = 0; i < reads; i++) {
      const page = await firstPage(roomId);
      rows = page.length;
      bytes = JSON.stringify(page).length;
    }
    const wallUs = (performance.now() - start) * 1000;
    const cpu = process.cpuUsage(cpu0);
    const pgUs = (cpuSecondsOf(pidsNamed("postgres")) - pg0) * 1e6;
    console.log(
      `round ${r}: wall ${(wallUs / reads).toFixed(0)} µs, client CPU ${((cpu.user + cpu.system) / reads).toFixed(0)} µs, PostgreSQL ${(pgUs / reads).toFixed(0)} µs per read; ${rows.toLocaleString("en")} members, ${bytes.toLocaleString("en")} B as JSON`,
    );
  }
} finally {
  await store.close();
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
