/**
 * What members typing costs a large room: one Parley process on SQLite, or `--processes` of them on PostgreSQL +
 * Redis (the bench's fixtures; the servers pinned to cpu 0), with one room of `--members` members, each connected
 * over STOMP and subscribed to the room from this process (on cpu 1); `--typers` of them send `/pub/typing` once
 * per 1.6 s each (just over the server's 1.5 s throttle, staggered over the interval) for `--seconds`. For each
 * `--limits` value of PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS in turn (0 = no limit, what every room did before the
 * setting existed) it prints the servers' CPU (summed over their processes), PostgreSQL's and Redis's (every
 * process of that name, from /proc, so run it where nothing else uses them), and the typing frames and bytes the
 * members received, per second.
 *
 *   bun bench/profile/typing-room.ts [--members 3000] [--typers 300] [--seconds 10] [--limits 0,1000] [--processes 1]
 */
import { parseArgs } from "node:util";
import { cpuSecondsOf, pidsNamed } from "../metrics/proc-stats.ts";
import { pin } from "../runner/cpus.ts";
import { roomsOf } from "../scenarios/common.ts";
import { startParley } from "../targets/parley.ts";
import { DEFAULT_PG_URL, DEFAULT_REDIS_URL, startParleyCluster } from "../targets/parley-cluster.ts";

const { values } = parseArgs({
  options: {
    members: { type: "string", default: "3000" },
    typers: { type: "string", default: "300" },
    seconds: { type: "string", default: "10" },
    limits: { type: "string", default: "0,1000" },
    processes: { type: "string", default: "1" },
  },
});
const members = Number(values.members);
const typers = Number(values.typers);
const seconds = Number(values.seconds);
const limits = values.limits.split(",").map(Number);
const processes = Number(values.processes);
const TYPING_EVERY_MS = 1600;

await pin(process.pid, "1");
const layout = roomsOf(1, members);

function frame(command: string, headers: [string, string][], body = ""): string {
  return `${command}\n${headers.map(([k, v]) => `${k}:${v}`).join("\n")}\n\n${body}\0`;
}

for (const limit of limits) {
  const env = { PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS: String(limit) };
  const target =
    processes > 1
      ? await startParleyCluster({
          processes,
          cpus: "0",
          pgUrl: DEFAULT_PG_URL,
          redisUrl: DEFAULT_REDIS_URL,
          env,
        })
      : await startParley(layout, { cpus: "0", env });
  try {
    const { roomIds, tokens } = await target.prepare(layout, () => {});
    const roomId = roomIds[0] ?? "";
    let typingFrames = 0;
    let bytes = 0;
    let subscribed = 0;
    const sockets: WebSocket[] = [];
    await new Promise<void>((resolve, reject) => {
      for (let i = 0; i < members; i++) {
        const ws = new WebSocket(`ws://${target.host}:${target.port}/ws`, "v12.stomp");
        sockets.push(ws);
        ws.onopen = () =>
          ws.send(
            frame("CONNECT", [
              ["accept-version", "1.2"],
              ["host", "parley"],
              ["heart-beat", "0,0"],
              ["Authorization", `Bearer ${tokens?.[i] ?? ""}`],
            ]),
          );
        ws.onmessage = (e: MessageEvent) => {
          const text = String(e.data);
          bytes += text.length;
          if (text.startsWith("CONNECTED")) {
            ws.send(
              frame("SUBSCRIBE", [
                ["id", "s"],
                ["destination", `/sub/chat/room/${roomId}`],
                ["receipt", "r"],
              ]),
            );
          } else if (text.startsWith("RECEIPT") && text.includes("receipt-id:r")) {
            if (++subscribed === members) resolve();
          } else {
            for (
              let at = text.indexOf('"type":"typing"');
              at !== -1;
              at = text.indexOf('"type":"typing"', at + 1)
            )
              typingFrames++;
          }
        };
        ws.onerror = () => reject(new Error(`socket ${i} failed`));
      }
    });
    await Bun.sleep(2000);
    const cpus = () => cpuSecondsOf(target.pids);
    const cpu0 = cpus();
    const pg0 = cpuSecondsOf(pidsNamed("postgres"));
    const redis0 = cpuSecondsOf(pidsNamed("redis-server"));
    const frames0 = typingFrames;
    const bytes0 = bytes;
    const t0 = performance.now();
    const timers = Array.from({ length: typers }, (_, i) =>
      setTimeout(
        () => {
          const typer = sockets[i];
          const type = () =>
            typer?.send(frame("SEND", [["destination", "/pub/typing"]], JSON.stringify({ roomId })));
          type();
          timers[i] = setInterval(type, TYPING_EVERY_MS);
        },
        (i * TYPING_EVERY_MS) / typers,
      ),
    );
    await Bun.sleep(seconds * 1000);
    for (const t of timers) clearInterval(t);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = (cpus() - cpu0) / elapsed;
    const pg = (cpuSecondsOf(pidsNamed("postgres")) - pg0) / elapsed;
    const redis = (cpuSecondsOf(pidsNamed("redis-server")) - redis0) / elapsed;
    console.log(
      `PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS=${limit}, ${processes} process${processes > 1 ? "es on PostgreSQL + Redis" : " on SQLite"}: ${members.toLocaleString("en")} members, ${typers} typing every ${TYPING_EVERY_MS / 1000} s: servers ${cpu.toFixed(2)} core, PostgreSQL ${pg.toFixed(2)}, Redis ${redis.toFixed(2)}, ${Math.round((typingFrames - frames0) / elapsed).toLocaleString("en")} typing frames and ${((bytes - bytes0) / elapsed / 2 ** 20).toFixed(1)} MiB received a second by the members`,
    );
    for (const ws of sockets) ws.close();
  } finally {
    await target.stop();
  }
}
