/**
 * What one message costs the SQLite store under seed's shape: many senders in rooms of 50, appends arriving in
 * groups that share one commit. Prints CPU time and bytes written (WAL frames and checkpoints, from /proc/self/io)
 * per message, and the latency of a group's commit. Bytes written depend on how many distinct B-tree pages each
 * commit dirties, so they tell a schema change's effect apart from this machine's noise better than CPU time.
 *
 *   bun bench/profile/store-write-bytes.ts [--messages 30000] [--group 30] [--users 15000] [--room-size 50]
 *                                          [--rate N]
 *
 * Users, rooms and memberships are written directly in one transaction (no signups). Appends go through the
 * store's port: by default with commit pacing off and --group calls started together, so they share one commit;
 * with --rate, at N a second spread evenly over each millisecond, with the store's default commit pacing, as a
 * server receives them (groups then form by time, and "group commit" latencies are per call).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openSqliteStore } from "../../src/adapters/store/sqlite/open-sqlite-store.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "30000" },
    group: { type: "string", default: "30" },
    users: { type: "string", default: "15000" },
    "room-size": { type: "string", default: "50" },
    rate: { type: "string" },
  },
});
const rate = values.rate === undefined ? null : Number(values.rate);
const messages = Number(values.messages);
const group = Number(values.group);
const users = Number(values.users);
const roomSize = Number(values["room-size"]);

const roomId = (r: number) => `room-${String(r).padStart(8, "0")}`;

function writtenBytes(): number {
  const io = readFileSync("/proc/self/io", "utf8");
  return Number(/wchar: (\d+)/.exec(io)?.[1] ?? Number.NaN);
}

const dir = mkdtempSync(join(tmpdir(), "parley-write-bytes-"));
const path = join(dir, "parley.db");
try {
  const migrated = openSqliteStore({ path });
  await migrated.migrate();
  await migrated.close();

  const db = new Database(path);
  db.transaction(() => {
    const user = db.prepare(
      `INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
       VALUES (?1, ?1, ?1 || '@example.com', ?1, 'x', 'user', 1)`,
    );
    const room = db.prepare(
      "INSERT INTO rooms (id, kind, name, topic, owner_id, created_at) VALUES (?1, 'group', ?1, '', ?2, 1)",
    );
    const member = db.prepare(
      "INSERT INTO members (room_id, user_id, role, joined_at) VALUES (?, ?, 'member', 1)",
    );
    for (let u = 0; u < users; u++) user.run(`u${u}`);
    for (let r = 0; r * roomSize < users; r++) {
      room.run(roomId(r), `u${r * roomSize}`);
      for (let u = r * roomSize; u < Math.min(users, (r + 1) * roomSize); u++) member.run(roomId(r), `u${u}`);
    }
  })();
  db.close();

  const store = openSqliteStore(rate === null ? { path, commitIntervalMs: 0 } : { path });
  let n = 0;
  const commitMs: number[] = [];
  const appendOne = () => {
    const u = Math.floor(Math.random() * users);
    n++;
    return store.messages.append({
      id: `m${String(n).padStart(25, "0")}`,
      roomId: roomId(Math.floor(u / roomSize)),
      senderId: `u${u}`,
      body: `message ${n} ${"x".repeat(40)}`,
      clientMsgId: null,
      createdAt: Date.now(),
    });
  };
  const appendGroup = async () => {
    const started = performance.now();
    await Promise.all(Array.from({ length: group }, appendOne));
    commitMs.push(performance.now() - started);
  };
  /** `count` appends at `perSecond`, each timed from its start to its commit. */
  const appendAtRate = async (count: number, perSecond: number) => {
    const pending: Promise<unknown>[] = [];
    const started = performance.now();
    let issued = 0;
    while (issued < count) {
      const due = Math.min(count, Math.floor(((performance.now() - started) * perSecond) / 1000) + 1);
      for (; issued < due; issued++) {
        const at = performance.now();
        pending.push(appendOne().then(() => commitMs.push(performance.now() - at)));
      }
      await Bun.sleep(1);
    }
    await Promise.all(pending);
  };
  // Warm-up: statements prepared, the tables' first pages allocated.
  for (let i = 0; i < 2000 / group; i++) await appendGroup();
  commitMs.length = 0;

  const total = rate === null ? Math.ceil(messages / group) * group : messages;
  const cpu0 = process.cpuUsage();
  const bytes0 = writtenBytes();
  const started = performance.now();
  if (rate === null) for (let i = 0; i < total / group; i++) await appendGroup();
  else await appendAtRate(total, rate);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const bytes = writtenBytes() - bytes0;
  await store.close();

  commitMs.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((commitMs[Math.min(commitMs.length - 1, Math.floor(commitMs.length * q))] ?? 0).toFixed(2));
  console.log(
    JSON.stringify({
      messages: total,
      group: rate === null ? group : null,
      rate,
      users,
      roomSize,
      cpuUsPerMessage: Number(((cpu.user + cpu.system) / total).toFixed(1)),
      userUsPerMessage: Number((cpu.user / total).toFixed(1)),
      systemUsPerMessage: Number((cpu.system / total).toFixed(1)),
      bytesWrittenPerMessage: Math.round(bytes / total),
      wallUsPerMessage: Number(((wallMs * 1000) / total).toFixed(1)),
      groupCommitMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
