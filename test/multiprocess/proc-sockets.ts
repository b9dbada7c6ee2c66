/**
 * Which TCP connections belong to which process, read from Linux's /proc. The multi-process tests use it to
 * find a server process's own Redis connections (whatever names they carry) and to tell which of several
 * processes sharing one port (SO_REUSEPORT) accepted a given WebSocket, without trusting anything the server
 * says about itself.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface TcpSocket {
  readonly localPort: number;
  readonly remotePort: number;
  /** Kernel state: "01" established, "0A" listening. */
  readonly state: string;
  readonly inode: string;
}

const ESTABLISHED = "01";
const LISTEN = "0A";

/** Inodes of the sockets `pid` holds open; empty once the process is gone. */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      // The descriptor closed while we listed them.
    }
  }
  return inodes;
}

/** Every IPv4 and IPv6 TCP socket of this network namespace. */
export function tcpSockets(): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const remote = cols[2];
      const state = cols[3];
      const inode = cols[9];
      if (local === undefined || remote === undefined || state === undefined || inode === undefined) continue;
      out.push({ localPort: portOf(local), remotePort: portOf(remote), state, inode });
    }
  }
  return out;
}

function portOf(address: string): number {
  return Number.parseInt(address.slice(address.lastIndexOf(":") + 1), 16);
}

/** Local ports of `pid`'s established connections to `remotePort` (e.g. its Redis connections). */
export function outgoingPorts(pid: number, remotePort: number): number[] {
  const mine = socketInodes(pid);
  return tcpSockets()
    .filter((s) => s.state === ESTABLISHED && s.remotePort === remotePort && mine.has(s.inode))
    .map((s) => s.localPort);
}

/**
 * Connections `pid` has accepted on `localPort`, keyed by the peer's port: a connection that appears here after
 * a client connected is the one this process accepted.
 */
export function acceptedPeers(pid: number, localPort: number): Set<number> {
  const mine = socketInodes(pid);
  return new Set(
    tcpSockets()
      .filter((s) => s.state === ESTABLISHED && s.localPort === localPort && mine.has(s.inode))
      .map((s) => s.remotePort),
  );
}

/** Whether `pid` has a listening socket on `port`. */
export function isListening(pid: number, port: number): boolean {
  const mine = socketInodes(pid);
  return tcpSockets().some((s) => s.state === LISTEN && s.localPort === port && mine.has(s.inode));
}
