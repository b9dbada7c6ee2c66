/**
 * Where a SEND's time goes between its arrival and its deliveries, stage by stage, on the real components: the
 * SQLite store in a temporary directory, the services, BrokerEvents on the in-process broker, the room hubs, and
 * a Bun server whose sockets subscribe to the rooms' topics; the clients at the other end live in a child
 * process (sink-clients.ts), so this process's CPU time is the server side's alone.
 *
 *   bun bench/profile/send-stages.ts [messages=1000] [rooms=10] [socketsPerRoom=100] [concurrency=1]
 *
 * Each of `concurrency` lanes sends messages, each in its own event-loop turn, the way the gateway's SEND handler does (send-handler.ts): take a
 * token from the sender's bucket, `messages.send` (membership check, commit, emit), wait until the broker
 * accepted the event, wait until the room hub delivered it. Wrappers on the store, the broker and the topic
 * publisher time the inner stages with `performance.now()`. Stages overlap when concurrency > 1 (their sums
 * then exceed the wall time); `blockedMs` is the wall time spent inside synchronous store calls, which the
 * event loop cannot use for anything else.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { memoryBroker } from "../../src/adapters/broker/memory-broker.ts";
import { systemClock } from "../../src/adapters/clock/system-clock.ts";
import { memoryTokenBucket } from "../../src/adapters/rate-limit/memory-token-bucket.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openServices } from "../../src/main.ts";
import { BrokerEvents } from "../../src/realtime/broker-events.ts";
import { roomTopic } from "../../src/realtime/channels.ts";
import { HubRegistry } from "../../src/realtime/hub-registry.ts";
import { UserNames } from "../../src/realtime/user-names.ts";

const messages = Number(process.argv[2] ?? 1000);
const rooms = Number(process.argv[3] ?? 10);
const socketsPerRoom = Number(process.argv[4] ?? 100);
const concurrency = Number(process.argv[5] ?? 1);

/** Accumulated wall time and count per stage. */
class Stages {
  readonly #ms = new Map<string, number>();
  readonly #n = new Map<string, number>();

  add(stage: string, ms: number): void {
    this.#ms.set(stage, (this.#ms.get(stage) ?? 0) + ms);
    this.#n.set(stage, (this.#n.get(stage) ?? 0) + 1);
  }

  async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }

  table(perMessage: number): Record<string, { calls: number; usPerMessage: number }> {
    const out: Record<string, { calls: number; usPerMessage: number }> = {};
    for (const [stage, ms] of this.#ms) {
      out[stage] = {
        calls: this.#n.get(stage) ?? 0,
        usPerMessage: Number(((ms * 1000) / perMessage).toFixed(1)),
      };
    }
    return out;
  }
}

let stages = new Stages();
const dataDir = await mkdtemp(join(tmpdir(), "parley-stages-"));
const logger = pino({ level: "silent" });
// The WebSocket settings (PARLEY_WS_*, e.g. PARLEY_WS_PACE_MS=0) come from the environment, to compare them.
const wsSettings = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PARLEY_WS_")));
const config = loadConfig(
  { ...wsSettings, PARLEY_ROOM_SEND_RATE: "0" },
  {
    dataDir,
    jwtSecret: "bench-secret-bench-secret-bench-secret-0123",
    argon2MemoryKib: 1024,
    argon2TimeCost: 1,
    logLevel: "silent",
  },
);
const broker = memoryBroker();
const bucket = memoryTokenBucket(systemClock);
let events: BrokerEvents | null = null;
let names: UserNames | null = null;
const { store, services } = await openServices(config, {
  logger,
  events: (s) => {
    names = new UserNames({ users: s.users, now: () => Date.now() });
    events = new BrokerEvents(broker, names, logger);
    return events;
  },
});
if (events === null || names === null) throw new Error("events not wired");
const brokerEvents: BrokerEvents = events;

// Instrument the store: every call is synchronous underneath, so its wall time blocks the event loop.
let blockedMs = 0;
function timed<A extends unknown[], R>(stage: string, fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return async (...a: A) => {
    const t = performance.now();
    try {
      return await fn(...a);
    } finally {
      const ms = performance.now() - t;
      blockedMs += ms;
      stages.add(stage, ms);
    }
  };
}
const m = store.messages;
m.append = timed("store.append (commit)", m.append.bind(m));
const r = store.rooms;
r.getMember = timed("store.getMember", r.getMember.bind(r));
r.findById = timed("store.rooms.findById", r.findById.bind(r));

// Sockets subscribe to each room's topic with the id "sub-0", as @stomp/stompjs clients do.
const server = Bun.serve<{ topic: string }>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, srv) {
    const topic = new URL(req.url).searchParams.get("topic") ?? "";
    return srv.upgrade(req, { data: { topic } }) ? undefined : new Response("no", { status: 400 });
  },
  websocket: {
    open(ws) {
      ws.subscribe(ws.data.topic);
    },
    message() {},
  },
});
const sink = Bun.spawn([process.execPath, join(import.meta.dir, "sink-clients.ts")], {
  stdin: "pipe",
  stdout: "pipe",
  stderr: "inherit",
});
const sinkLines = (async function* () {
  let buf = "";
  const reader = sink.stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += new TextDecoder().decode(value);
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  }
})();
async function sinkLine(): Promise<string> {
  const next = await sinkLines.next();
  if (next.done) throw new Error("sink clients exited");
  return next.value;
}
async function sinkCount(): Promise<number> {
  sink.stdin.write("count\n");
  await sink.stdin.flush();
  return Number(await sinkLine());
}
let publishCalls = 0;
const publisher = {
  publish(topic: string, data: string): void {
    const t = performance.now();
    server.publish(topic, data);
    stages.add("topic publish (native fan-out)", performance.now() - t);
    publishCalls++;
  },
};
const hubs = new HubRegistry({
  broker,
  rooms: store.rooms,
  messages: store.messages,
  names,
  publisher,
  logger,
  ephemeralId: () => crypto.randomUUID(),
  onMemberLeft: () => {},
  // As the gateway configures them (gateway.ts).
  coalesceMs: config.wsCoalesceMs,
  coalesceMinSubscribers: config.wsCoalesceMinSubscribers,
  pace: { intervalMs: config.wsPaceMs, burst: config.wsPaceBurst },
});

try {
  const signup = await services.auth.signup(
    { username: "stages", email: "stages@example.test", password: "a long enough password" },
    { ip: null, userAgent: null },
  );
  const principal = await services.auth.authenticate(signup.tokens.accessToken);
  const roomIds: string[] = [];
  const urls: string[] = [];
  for (let i = 0; i < rooms; i++) {
    const room = await services.rooms.create(principal, { name: `Stages ${i}` });
    roomIds.push(room.id);
    const lease = await hubs.acquire(room.id);
    lease.hub.addSubscriber("sub-0");
    const topic = encodeURIComponent(roomTopic(room.id, "sub-0"));
    for (let k = 0; k < socketsPerRoom; k++) urls.push(`ws://127.0.0.1:${server.port}/?topic=${topic}`);
  }
  sink.stdin.write(`${urls.join("\n")}\n\n`);
  await sink.stdin.flush();
  if ((await sinkLine()) !== "ready") throw new Error("sink clients not ready");
  // Warm-up: statements prepared, the sender's name cached.
  for (const roomId of roomIds) await services.messages.send(principal, roomId, "warm-up", null);
  await Bun.sleep(200);

  const expected = (await sinkCount()) + messages * socketsPerRoom;
  stages = new Stages();
  blockedMs = 0;
  publishCalls = 0;
  const timing = new Stages();
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (next < messages) {
        const i = next++;
        const roomId = roomIds[(lane + i) % rooms] ?? "";
        // A SEND arrives in its own event-loop turn; without this the lanes would run in one endless chain of
        // microtasks and Bun would hold every socket write until the end, which no server ever sees.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await timing.time("1 rate-limit bucket", () =>
          bucket.take(`ws-send:${principal.userId}`, { capacity: 100_000, refillPerSecond: 100_000 }),
        );
        const { message } = await timing.time("2 messages.send (check, commit, emit)", () =>
          services.messages.send(principal, roomId, `message ${i} ${"x".repeat(48)}`, null),
        );
        await timing.time("3 broker accepted (settled)", () => brokerEvents.settled(roomId));
        await timing.time("4 hub delivered (whenDelivered)", async () =>
          hubs.get(roomId)?.whenDelivered(message.seq, 1000),
        );
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const deadline = performance.now() + 10_000;
  let delivered = await sinkCount();
  while (delivered < expected && performance.now() < deadline) {
    await Bun.sleep(20);
    delivered = await sinkCount();
  }
  console.log(
    JSON.stringify(
      {
        messages,
        rooms,
        socketsPerRoom,
        concurrency,
        wallMs: Number(wallMs.toFixed(1)),
        messagesPerSecond: Math.round(messages / (wallMs / 1000)),
        usPerMessage: Number(((wallMs * 1000) / messages).toFixed(1)),
        cpuUsPerMessage: Number(((cpu.user + cpu.system) / messages).toFixed(1)),
        sysUsPerMessage: Number((cpu.system / messages).toFixed(1)),
        blockedInStoreUsPerMessage: Number(((blockedMs * 1000) / messages).toFixed(1)),
        handlerStages: timing.table(messages),
        innerStages: stages.table(messages),
        topicPublishes: publishCalls,
        deliveries: delivered,
        expectedDeliveries: expected,
      },
      null,
      2,
    ),
  );
} finally {
  sink.stdin.end();
  await sink.exited;
  await hubs.close();
  server.stop(true);
  await broker.close();
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
