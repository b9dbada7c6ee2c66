/** The comparison peers as targets: bare STOMP on Bun, Socket.IO on Node, RabbitMQ Web-STOMP. */
import { join } from "node:path";
import { pin } from "../runner/cpus.ts";
import { spawnChild } from "../runner/child.ts";
import type { Layout, Prepared, Target } from "./target.ts";

const PEERS = join(import.meta.dir, "../peers");
const LISTENING = /listening (\d+)/;

function roomNames(layout: Layout): Prepared {
  return { roomIds: Array.from({ length: layout.rooms }, (_, i) => `room-${i}`) };
}

export async function startBarePeer(cpus: string | null): Promise<Target> {
  const child = await spawnChild([process.execPath, join(PEERS, "bare-stomp.ts")], LISTENING);
  await pin(child.pid, cpus);
  return {
    name: "bare",
    dialect: "bare",
    host: "127.0.0.1",
    port: child.port,
    pids: [child.pid],
    placement: cpus === null ? "not pinned" : `cpus ${cpus}`,
    prepare: async (layout) => roomNames(layout),
    stop: () => child.stop(),
  };
}

export async function startSocketIoPeer(cpus: string | null): Promise<Target> {
  const node = Bun.which("node");
  if (!node) throw new Error("node is not on PATH");
  const child = await spawnChild([node, join(PEERS, "socketio-server.mjs")], LISTENING);
  await pin(child.pid, cpus);
  return {
    name: "socketio",
    dialect: "socketio",
    host: "127.0.0.1",
    port: child.port,
    pids: [child.pid],
    placement: cpus === null ? "not pinned" : `cpus ${cpus}`,
    prepare: async (layout) => roomNames(layout),
    stop: () => child.stop(),
  };
}

export async function startBlastPeer(cpus: string | null, messageSize: number): Promise<Target> {
  const child = await spawnChild(
    [process.execPath, join(PEERS, "blast-server.ts"), "0", String(messageSize)],
    LISTENING,
  );
  await pin(child.pid, cpus);
  return {
    name: "blast",
    dialect: "bare",
    host: "127.0.0.1",
    port: child.port,
    pids: [child.pid],
    placement: cpus === null ? "not pinned" : `cpus ${cpus}`,
    prepare: async (layout) => roomNames(layout),
    stop: () => child.stop(),
  };
}

async function run(cmd: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, out: out + err };
}

async function listenerPid(port: number): Promise<number | null> {
  const { out } = await run(["ss", "-ltnpH", `sport = :${port}`]);
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : null;
}

async function portOpen(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * RabbitMQ runs as a system service: its Web-STOMP plugin is enabled if needed (it listens on 15674 `/ws`), and the
 * broker is neither started nor pinned by the bench. Throws a one-line reason when it cannot be used.
 */
export async function startRabbitPeer(): Promise<Target> {
  const port = 15674;
  if (!(await portOpen(port))) {
    if (!Bun.which("rabbitmq-plugins")) throw new Error("RabbitMQ Web-STOMP: rabbitmq-plugins not found");
    const r = await run(["rabbitmq-plugins", "enable", "rabbitmq_web_stomp"]);
    if (r.code !== 0)
      throw new Error(`RabbitMQ Web-STOMP: enabling the plugin failed: ${r.out.trim().split("\n").pop()}`);
    for (let i = 0; i < 30 && !(await portOpen(port)); i++) await Bun.sleep(500);
    if (!(await portOpen(port))) throw new Error("RabbitMQ Web-STOMP: port 15674 did not open");
  }
  const pid = await listenerPid(port);
  const limit = pid === null ? null : await openFilesLimit(pid);
  return {
    name: "rabbitmq",
    dialect: "rabbit",
    host: "127.0.0.1",
    port,
    pids: pid === null ? [] : [pid],
    placement: "system service, not pinned",
    prepare: async (layout) => {
      // Running out of descriptors does not just refuse connections: it kills the broker's memory monitor, and
      // every later subscription fails until its application is restarted. Refuse the run instead.
      if (limit !== null && layout.connRooms.length + RABBIT_FD_MARGIN > limit) {
        throw new Error(
          `RabbitMQ Web-STOMP: its open-files limit is ${limit}, too low for ${layout.connRooms.length} connections (restart the broker with a higher one, as root: ${RABBIT_RESTART}; or run with --connections ${Math.max(0, limit - RABBIT_FD_MARGIN)} or fewer)`,
        );
      }
      return roomNames(layout);
    },
    stop: async () => {},
  };
}

/**
 * How to give the broker more descriptors. Its limit is read once, when it boots, so it takes a restart; and started
 * through `su` by root, Debian's wrapper lets PAM reset the soft limit to 1,024, so the raise runs as the broker's
 * own user, up to its hard limit (20,000 on these machines). The bench does not restart a system service itself.
 */
const RABBIT_RESTART = `rabbitmqctl stop && su rabbitmq -s /bin/sh -c 'ulimit -n 20000 && rabbitmq-server -detached'`;

/** Descriptors the broker needs besides the bench's WebSockets (its own files, listeners, distribution). */
const RABBIT_FD_MARGIN = 150;

/** The soft "Max open files" of a process, from /proc/<pid>/limits; null when it cannot be read. */
async function openFilesLimit(pid: number): Promise<number | null> {
  try {
    const text = await Bun.file(`/proc/${pid}/limits`).text();
    const m = /^Max open files\s+(\d+)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
