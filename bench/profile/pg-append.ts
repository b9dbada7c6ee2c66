/**
 * The PostgreSQL store's lone append on its own: one append in flight at a time, so each is a batch of one
 * (appendAlone in src/adapters/store/postgres/messages.ts), as at the message rate of one process in
 * afreeca-rooms. Prints, per round, the client's CPU time and the wall time per append. A schema of its own is
 * created and dropped.
 *
 *   bun bench/profile/pg-append.ts [--messages 1500] [--rounds 3] [--url postgres://postgres@127.0.0.1:5432/test]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import { oneSenderRooms } from "./one-sender-rooms.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1500" },
    rounds: { type: "string", default: "3" },
    url: {
      type: "string",
      default: process.env.PARLEY_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
    },
  },
});
const messages = Number(values.messages);
const rounds = Number(values.rounds);
const url = values.url;
const schema = `parley_pg_append_${process.pid}`;
const store = openPostgresStore({ url, schema });
try {
  await store.migrate();
  const rooms = await oneSenderRooms(store, 10);
  let k = 0;
  const append = (i: number) =>
    store.messages.append({
      id: `m-${++k}`,
      roomId: rooms[i % rooms.length] ?? "room-0",
      senderId: "u1",
      body: "a message of about sixty bytes, as the benchmarks send them",
      clientMsgId: `c-${k}`,
      createdAt: Date.now(),
    });
  // Warm-up: connections open, statements prepared.
  for (let i = 0; i < 100; i++) await append(i);
  for (let round = 1; round <= rounds; round++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < messages; i++) await append(i);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    console.log(
      JSON.stringify({
        round,
        messages,
        cpuUsPerAppend: Number(((cpu.user + cpu.system) / messages).toFixed(1)),
        wallUsPerAppend: Number(((wallMs * 1000) / messages).toFixed(1)),
      }),
    );
  }
} finally {
  await store.close();
  const admin = postgres(url, { onnotice: () => {} });
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
