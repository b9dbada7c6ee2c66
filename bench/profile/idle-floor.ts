/**
 * The memory floor under the `idle` scenario: a bare `Bun.serve` WebSocket server holding N idle sockets, with the
 * same websocket options as Parley's gateway and nothing of Parley's own. Whatever this measures per connection is
 * Bun's, uWebSockets' and the allocator's; the rest of the `idle` figure is Parley's per-connection state.
 *
 *   bun bench/profile/idle-floor.ts [--connections 19000] [--room-size 100] [--mode topic|plain]
 *
 * `plain`: each socket sends one text frame after the upgrade and gets one back. `topic` (the default, like the
 * scenario's clients): the reply comes after the socket subscribed to its room's topic, one topic per
 * `--room-size` sockets. The server runs in a child process (`--serve`); this process is the client, over raw TCP
 * (Bun.connect) so it costs little, and reads the child's RSS from /proc before and after the connections, then
 * again after a full collection in the child (what the JavaScript heap retains is then live data, not garbage).
 */
import type { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import type { ServerWebSocket, Socket } from "bun";
import { maskedFrame, OP_TEXT, upgradeRequest } from "../protocol/ws-frames.ts";

interface Args {
  readonly serve: boolean;
  readonly connections: number;
  readonly roomSize: number;
  readonly mode: "topic" | "plain";
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const mode = value("mode") ?? "topic";
  if (mode !== "topic" && mode !== "plain") throw new Error("--mode must be topic or plain");
  return {
    serve: argv.includes("--serve"),
    connections: Number(value("connections") ?? 19_000),
    roomSize: Math.max(1, Number(value("room-size") ?? 100)),
    mode,
  };
}

/** The child: Bun.serve with the gateway's websocket options and no per-socket data beyond a room number. */
function serve(args: Args): void {
  let next = 0;
  const server = Bun.serve<{ room: number }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const room = Math.floor(next++ / args.roomSize);
      return srv.upgrade(req, { data: { room }, headers: { "Sec-WebSocket-Protocol": "v12.stomp" } })
        ? undefined
        : new Response("websocket only", { status: 400 });
    },
    websocket: {
      maxPayloadLength: 2 * 65_536 + 1024,
      backpressureLimit: 2 * 1024 * 1024 + 8 * 1024 * 1024,
      closeOnBackpressureLimit: true,
      idleTimeout: 960,
      sendPings: true,
      perMessageDeflate: false,
      message(ws: ServerWebSocket<{ room: number }>) {
        if (args.mode === "topic") ws.subscribe(`room:${ws.data.room}`);
        ws.sendText("ok");
      },
    },
  });
  console.log(`listening ${server.port}`);
  // "stats" on stdin: a full collection, then the RSS and the JavaScript heap as one JSON line.
  const reader = Bun.stdin.stream().getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) process.exit(0);
      if (!decoder.decode(value).includes("stats")) continue;
      Bun.gc(true);
      const { heapStats } = await import("bun:jsc");
      const heap = heapStats();
      console.log(
        JSON.stringify({
          rss: process.memoryUsage().rss,
          heapSize: heap.heapSize,
          heapCapacity: heap.heapCapacity,
        }),
      );
    }
  })();
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Reads the child's stdout line by line. */
function lines(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return async () => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { done, value } = await reader.read();
      if (done) throw new Error("server exited");
      buffered += decoder.decode(value);
    }
  };
}

/** Opens `count` sockets, at most `parallel` in flight; resolves when each has had its reply. */
async function openAll(port: number, count: number, parallel: number, keep: Socket[]): Promise<void> {
  const upgrade = upgradeRequest("127.0.0.1", port, "/ws", "v12.stomp");
  const hello = maskedFrame(OP_TEXT, "CONNECT\naccept-version:1.2\n\n\0");
  let started = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      let upgraded = false;
      void Bun.connect<undefined>({
        hostname: "127.0.0.1",
        port,
        socket: {
          open(s) {
            s.write(upgrade);
          },
          data(s, chunk: Buffer) {
            if (!upgraded) {
              if (!chunk.toString("latin1").startsWith("HTTP/1.1 101")) reject(new Error("upgrade refused"));
              upgraded = true;
              s.write(hello);
              // The 101 and the reply may arrive in one read.
              if (chunk.indexOf("ok") < 0) return;
            }
            resolve();
          },
          error(_s, err) {
            reject(err);
          },
        },
      }).then((s) => keep.push(s), reject);
    });
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (started < count) {
        started++;
        await one();
      }
    }),
  );
}

async function main(args: Args): Promise<void> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--serve", ...process.argv.slice(2)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const next = lines(child.stdout);
  const port = Number((await next()).split(" ")[1]);
  const stats = async (): Promise<{ rss: number; heapSize: number; heapCapacity: number }> => {
    child.stdin.write("stats\n");
    await child.stdin.flush();
    return JSON.parse(await next());
  };
  const before = await stats();
  const rssBefore = rssOf(child.pid);
  const sockets: Socket[] = [];
  const t0 = performance.now();
  await openAll(port, args.connections, 64, sockets);
  const openSeconds = (performance.now() - t0) / 1000;
  await Bun.sleep(500);
  const rssOpen = rssOf(child.pid);
  const after = await stats();
  const n = sockets.length;
  const per = (bytes: number) => Math.round(bytes / n).toLocaleString("en");
  console.log(
    `mode ${args.mode}, ${n.toLocaleString("en")} idle sockets open in ${openSeconds.toFixed(1)} s`,
  );
  console.log(`server RSS per connection: ${per(rssOpen - rssBefore)} B (as the idle scenario measures it)`);
  console.log(
    `after a full collection: RSS ${per(after.rss - before.rss)} B, JS heap ${per(after.heapSize - before.heapSize)} B per connection`,
  );
  for (const s of sockets) s.end();
  child.stdin.end();
  child.kill();
  await child.exited;
}

const args = parseArgs(process.argv.slice(2));
if (args.serve) serve(args);
else await main(args);
