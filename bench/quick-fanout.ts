/**
 * Quick fan-out measurement: one room, 1,000 subscriptions, K messages; prints deliveries per second.
 *
 *   bun bench/quick-fanout.ts [sockets=1000] [subsPerSocket=1] [messages=200] [distinctIds=false]
 *
 * `distinctIds=true` gives every subscription its own id (the worst case: one topic publish per subscription);
 * otherwise all use "sub-0", as @stomp/stompjs clients do (one publish per event). Server and clients share this
 * process, so the figure includes the clients' receive work; it is a floor for the server alone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../src/config/config.ts";
import { startServer } from "../src/main.ts";

const sockets = Number(process.argv[2] ?? 1000);
const subsPerSocket = Number(process.argv[3] ?? 1);
const messages = Number(process.argv[4] ?? 200);
const distinctIds = process.argv[5] === "true";

const dataDir = await mkdtemp(join(tmpdir(), "parley-fanout-"));
const config = loadConfig(
  {},
  {
    host: "127.0.0.1",
    port: 0,
    dataDir,
    jwtSecret: "bench-secret-bench-secret-bench-secret-0123",
    argon2MemoryKib: 1024,
    argon2TimeCost: 1,
    logLevel: "silent",
    wsMaxConnectionsPerUser: 10_000,
    wsMaxSubscriptions: Math.max(200, subsPerSocket),
    wsHeartbeatMs: 0,
    wsSendBurst: 100_000,
    wsSendRatePerSecond: 100_000,
  },
);
const server = await startServer(config, { logger: pino({ level: "silent" }) });
const wsUrl = `${server.url.replace(/^http/, "ws")}/ws`;

try {
  const { services } = server;
  const signup = await services.auth.signup(
    { username: "fanout", email: "fanout@example.test", password: "a long enough password" },
    { ip: null, userAgent: null },
  );
  const token = signup.tokens.accessToken;
  const principal = await services.auth.authenticate(token);
  const room = await services.rooms.create(principal, { name: "Fan-out" });

  let delivered = 0;
  let lastAt = 0;
  const MESSAGE = "MESSAGE\n";
  const open: WebSocket[] = [];
  for (let s = 0; s < sockets; s++) {
    const ws = new WebSocket(wsUrl, ["v12.stomp"]);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("socket failed"));
    });
    let ready = false;
    const receipt = `ready-${s}`;
    await new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        const text = String(e.data);
        if (!ready) {
          if (text.includes(`receipt-id:${receipt}`)) {
            ready = true;
            resolve();
          }
          return;
        }
        // Frames arrive one per WebSocket message; presence events (no seq) are not counted.
        if (text.startsWith(MESSAGE) && text.includes("\nseq:")) {
          delivered++;
          lastAt = performance.now();
        }
      };
      let frames = `CONNECT\naccept-version:1.2\npasscode:${token}\n\n\0`;
      for (let k = 0; k < subsPerSocket; k++) {
        const id = distinctIds ? `s${s}-${k}` : `sub-${k}`;
        const extra = k === subsPerSocket - 1 ? `receipt:${receipt}\n` : "";
        frames += `SUBSCRIBE\ndestination:/sub/chat/room/${room.id}\nid:${id}\n${extra}\n\0`;
      }
      ws.send(frames);
    });
    open.push(ws);
  }

  const expected = messages * sockets * subsPerSocket;
  const started = performance.now();
  // Eight senders in parallel keep the store busy without one commit waiting for the previous fan-out.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < messages) {
        next++;
        await services.messages.send(principal, room.id, `message ${next}`, null);
      }
    }),
  );
  const deadline = performance.now() + 60_000;
  while (delivered < expected && performance.now() < deadline) await Bun.sleep(5);
  const seconds = (lastAt - started) / 1000;
  console.log(
    JSON.stringify({
      sockets,
      subscriptionsPerSocket: subsPerSocket,
      distinctSubscriptionIds: distinctIds,
      messages,
      deliveries: delivered,
      expected,
      seconds: Number(seconds.toFixed(3)),
      deliveriesPerSecond: Math.round(delivered / seconds),
    }),
  );
  for (const ws of open) ws.close();
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
