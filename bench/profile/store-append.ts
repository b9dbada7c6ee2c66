/**
 * The SQLite store's append path on its own: how long one committed message takes, and how many commits per
 * second the store sustains when many senders append at once (the fan-out scenario's shape: one sender per room,
 * 100 rooms). The database file lives in a temporary directory on the same disk as a real data directory.
 *
 *   bun bench/profile/store-append.ts [messages=2000] [rooms=100] [inFlight=1,8,100]
 *
 * Prints one JSON line per concurrency: wall time per message, commits/s and CPU time per message. bun:sqlite is
 * synchronous, so the whole wall time of a commit (CPU and the wait for fsync) blocks the event loop.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/adapters/store/sqlite/open-sqlite-store.ts";
import { oneSenderRooms } from "./one-sender-rooms.ts";

const messages = Number(process.argv[2] ?? 2000);
const rooms = Number(process.argv[3] ?? 100);
const inFlightList = (process.argv[4] ?? "1,8,100").split(",").map(Number);

const dir = await mkdtemp(join(tmpdir(), "parley-append-"));
const store = openSqliteStore({ path: join(dir, "parley.db") });
try {
  await store.migrate();
  const roomIds = await oneSenderRooms(store, rooms);
  let n = 0;
  for (const inFlight of inFlightList) {
    // Warm-up: statements prepared, pages cached.
    for (let i = 0; i < 50; i++) {
      await store.messages.append({
        id: `w-${inFlight}-${i}`,
        roomId: roomIds[i % rooms] ?? "room-0",
        senderId: "u1",
        body: "warm-up",
        clientMsgId: null,
        createdAt: 2,
      });
    }
    let next = 0;
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async (_, lane) => {
        while (next < messages) {
          const i = next++;
          n++;
          await store.messages.append({
            id: `m-${inFlight}-${i}`,
            roomId: roomIds[(lane + i) % rooms] ?? "room-0",
            senderId: "u1",
            body: `message ${i} ${"x".repeat(48)}`,
            clientMsgId: `c-${inFlight}-${i}`,
            createdAt: 3,
          });
        }
      }),
    );
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      JSON.stringify({
        inFlight,
        messages,
        ms: Number(ms.toFixed(1)),
        usPerMessage: Number(((ms * 1000) / messages).toFixed(1)),
        commitsPerSecond: Math.round(messages / (ms / 1000)),
        // CPU time per message; the rest of the wall time is waiting for the disk (fsync) with the loop blocked.
        cpuUsPerMessage: Number(((cpu.user + cpu.system) / messages).toFixed(1)),
      }),
    );
  }
  if (n === 0) console.log("nothing measured");
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
