/**
 * One generator connection: raw TCP (Bun.connect) → WebSocket upgrade → dialect login and joins → deliveries.
 * The receive path scans bytes in place and touches only counters; the send path patches a pre-built masked frame
 * (send time and sender seq) and writes it, queueing only what the kernel did not take.
 */
import { Buffer } from "node:buffer";
import type { Socket, SocketHandler } from "bun";
import type { Histogram } from "../metrics/histogram.ts";
import { type Dialect, READY_ACK } from "../protocol/dialect.ts";
import { MARKER_PREFIX, probeText, SEQ_DIGITS, SEQ_OFFSET, TIME_DIGITS } from "../protocol/marker.ts";
import type { ScanSink } from "../protocol/scan-sink.ts";
import {
  MaskedFrame,
  maskedFrame,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  upgradeRequest,
  WsReader,
} from "../protocol/ws-frames.ts";
import type { ConnSpec, WorkerPlan } from "./messages.ts";

export interface Counters {
  opened: number;
  failed: number;
  ready: number;
  closed: number;
  sent: number;
  rejected: number;
  received: number;
  duplicates: number;
  expected: number;
  noProbe: number;
  notifications: number;
  /**
   * Of `notifications`, those that arrived on a connection's socket after a reconnect: only the fresh SUBSCRIBE
   * sent on that socket can bring them, so this shows a resubscription works.
   */
  notificationsAfterReconnect: number;
  /** Seqs missing inside one subscription's stream (a hole between two events it received), for room-seq dialects. */
  gaps: number;
  /** `reset` events: a resume the server could not replay. */
  resets: number;
  /** Connections that dropped and came back with every room resubscribed (since-seq), and the time that took. */
  resumed: number;
  readonly resumeLatency: Histogram;
  /** Wall-clock ms of the latest completed resume. */
  lastResumeAt: number;
  readonly latency: Histogram;
  failures: string[];
}

export interface ConnContext {
  readonly plan: WorkerPlan;
  readonly dialect: Dialect;
  readonly counters: Counters;
  /** Receive time (µs) of the chunk being processed: one clock read per chunk, not per delivery. */
  now: number;
  /** Called once per attempt when the connection is ready or has failed, to pace opening. */
  settled(conn: GenConnection): void;
  /** Queues a new TCP connection for `conn` (after a deliberate drop), paced like the first opening. */
  reconnect(conn: GenConnection): void;
}

const HEADER_END = Buffer.from("\r\n\r\n");

export class GenConnection implements ScanSink {
  socket: Socket<GenConnection> | null = null;
  private upgraded = false;
  private head: Buffer | null = null;
  isReady = false;
  isSettled = false;
  private isFailed = false;
  private reader: WsReader;
  /** Last room seq received per subscribed room (-1 before the first): the `since-seq` of a resume. */
  readonly lastSeq: Float64Array;
  /** Set by `drop()` until the resubscription's receipt arrives. */
  private resuming = false;
  /** Set by `drop()` until the dropped socket's close arrives, which starts the reconnect. */
  private dropping = false;
  /** Set once the connection has reconnected: what arrives from then on comes on a socket of a reconnect. */
  private reconnected = false;
  private droppedAt = 0;
  private pending: Uint8Array[] | null = null;
  private sendFrame: MaskedFrame | null = null;
  private sendTimeAt = 0;
  private sendSeq = 0;
  openedAt = Date.now();

  constructor(
    readonly spec: ConnSpec,
    readonly index: number,
    private readonly ctx: ConnContext,
  ) {
    this.lastSeq = new Float64Array(spec.rooms.length).fill(-1);
    this.reader = this.newReader();
  }

  private newReader(): WsReader {
    const ctx = this.ctx;
    return new WsReader((opcode, buf, start, end) => {
      if (opcode === OP_TEXT || opcode === 0x2) ctx.dialect.scan(buf, start, end, this);
      else if (opcode === OP_PING) this.write(maskedFrame(OP_PONG, buf.subarray(start, end)));
      else if (opcode === OP_CLOSE)
        this.failed(`websocket close ${end - start >= 2 ? buf.readUInt16BE(start) : ""}`);
    });
  }

  /**
   * Drops the connection on purpose (client close) and reconnects at once through the worker's pacing; once
   * connected it resubscribes every room with `since-seq` = the last seq it received there. `reset` aborts the
   * socket (TCP RST, as a network failure looks to the server); otherwise it is closed (TCP FIN), which leaves the
   * old socket in TIME_WAIT here, so the reconnect's bind to the same source address must find another free port.
   */
  drop(reset: boolean): void {
    if (!this.isReady || !this.socket || this.resuming) return;
    this.resuming = true;
    this.dropping = true;
    this.isReady = false;
    this.droppedAt = performance.timeOrigin + performance.now();
    if (reset) this.socket.terminate();
    else this.socket.end();
  }

  private restart(): void {
    this.socket = null;
    this.upgraded = false;
    this.head = null;
    this.pending = null;
    this.reader = this.newReader();
    this.isSettled = false;
    this.isFailed = false;
    this.openedAt = Date.now();
    this.reconnected = true;
    this.ctx.reconnect(this);
  }

  get sending(): boolean {
    return this.spec.sendRoom >= 0;
  }

  onOpen(socket: Socket<GenConnection>): void {
    this.socket = socket;
    // Sends are small and frequent: Nagle plus the server's delayed ACK would add tens of ms of fake latency.
    socket.setNoDelay(true);
    const { plan, dialect } = this.ctx;
    socket.write(upgradeRequest(plan.host, plan.port, dialect.path, dialect.subprotocol));
  }

  onData(chunk: Buffer): void {
    if (this.upgraded) {
      this.ctx.now = performance.timeOrigin * 1000 + performance.now() * 1000;
      this.reader.push(chunk);
      return;
    }
    const head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    const end = head.indexOf(HEADER_END);
    if (end < 0) {
      this.head = Buffer.from(head);
      return;
    }
    this.head = null;
    const status = head.toString("latin1", 0, Math.min(end, 64));
    if (!status.startsWith("HTTP/1.1 101")) {
      this.failed(`upgrade refused: ${status.split("\r\n")[0]}`);
      return;
    }
    this.upgraded = true;
    this.ctx.counters.opened++;
    for (const f of this.ctx.dialect.hello(this.spec.token)) this.sendMessage(f);
    if (end + 4 < head.length) this.onData(Buffer.from(head.subarray(end + 4)));
  }

  onDrain(): void {
    const q = this.pending;
    if (!q || !this.socket) return;
    while (q.length > 0) {
      const b = q[0]!;
      const n = this.socket.write(b);
      if (n < b.length) {
        q[0] = b.subarray(Math.max(0, n));
        return;
      }
      q.shift();
    }
    this.pending = null;
  }

  onClose(socket: Socket<GenConnection>, reason: string): void {
    // A late close or error of a socket this connection already replaced (or already handled) changes nothing.
    if (socket !== this.socket) return;
    if (this.dropping) {
      this.dropping = false;
      this.restart();
      return;
    }
    if (this.isReady) this.ctx.counters.closed++;
    else this.failed(reason);
    this.isReady = false;
    this.socket = null;
  }

  private write(bytes: Uint8Array): void {
    if (!this.socket) return;
    if (this.pending) {
      this.pending.push(bytes.slice());
      return;
    }
    const n = this.socket.write(bytes);
    if (n < bytes.length) this.pending = [bytes.slice(Math.max(0, n))];
  }

  private sendMessage(payload: Uint8Array): void {
    this.write(maskedFrame(this.ctx.dialect.opcode, payload));
  }

  /** Sends one probe-carrying message to this connection's room. */
  sendProbe(): void {
    if (!this.isReady || !this.socket) return;
    let f = this.sendFrame;
    if (!f) {
      const { plan, dialect } = this.ctx;
      const room = this.spec.sendRoom;
      const payload = dialect.sendPayload(room, plan.roomIds[room] ?? "", probeText(plan.messageSize));
      const at = Buffer.from(payload).indexOf(MARKER_PREFIX) + MARKER_PREFIX.length;
      f = new MaskedFrame(dialect.opcode, payload);
      this.sendFrame = f;
      this.sendTimeAt = at;
    }
    this.sendSeq++;
    f.patchDigits(
      this.sendTimeAt,
      Math.round((performance.timeOrigin + performance.now()) * 1000),
      TIME_DIGITS,
    );
    f.patchDigits(this.sendTimeAt + SEQ_OFFSET, this.sendSeq, SEQ_DIGITS);
    this.write(f.bytes);
    const c = this.ctx.counters;
    c.sent++;
    c.expected += this.ctx.plan.roomSize[this.spec.sendRoom] ?? 0;
  }

  /** Ends the connection at the end of a run with a TCP RST (see the worker's `close`). */
  abort(): void {
    this.socket?.terminate();
  }

  private settle(): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.ctx.settled(this);
  }

  private becomeReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    const c = this.ctx.counters;
    if (this.resuming) {
      this.resuming = false;
      const now = performance.timeOrigin + performance.now();
      c.resumed++;
      c.resumeLatency.record((now - this.droppedAt) * 1000);
      c.lastResumeAt = Math.max(c.lastResumeAt, now);
    } else c.ready++;
    this.settle();
  }

  /** Follows a room's seq: counts holes and repeats; returns false for a repeat. */
  private follow(room: number, seq: number): boolean {
    const rooms = this.spec.rooms;
    for (let i = 0; i < rooms.length; i++) {
      if (rooms[i] !== room) continue;
      const last = this.lastSeq[i]!;
      if (seq <= last) return false;
      if (last >= 0 && seq > last + 1 && this.ctx.dialect.roomSeq) this.ctx.counters.gaps += seq - last - 1;
      this.lastSeq[i] = seq;
      return true;
    }
    return true;
  }

  // ScanSink

  delivery(room: number, seq: number, sentAt: number): void {
    const c = this.ctx.counters;
    // Room events the generator did not send (membership changes, presence) are counted apart: they are not
    // deliveries of a probe and must not offset a lost one.
    if (Number.isNaN(sentAt)) {
      c.noProbe++;
      // Stored events without a probe (membership) still move the room's seq, or the next probe looks like a hole.
      if (!Number.isNaN(seq)) this.follow(room, seq);
      return;
    }
    c.received++;
    c.latency.record(this.ctx.now - sentAt);
    if (!this.follow(room, seq)) c.duplicates++;
  }

  reset(room: number): void {
    this.ctx.counters.resets++;
    // The client would refetch history here; the next event starts a new baseline rather than a counted hole.
    const i = this.spec.rooms.indexOf(room);
    if (i >= 0) this.lastSeq[i] = -1;
  }

  notification(): void {
    const c = this.ctx.counters;
    c.notifications++;
    if (this.reconnected) c.notificationsAfterReconnect++;
  }

  rejected(_code: string): void {
    const c = this.ctx.counters;
    c.rejected++;
    c.expected -= this.ctx.plan.roomSize[this.spec.sendRoom] ?? 0;
  }

  connected(): void {
    if (this.spec.rooms.length === 0) {
      this.becomeReady();
      return;
    }
    const since = this.resuming ? this.lastSeq : undefined;
    const { plan, dialect } = this.ctx;
    for (const f of dialect.join(this.spec.rooms, plan.roomIds, since, plan.notifications))
      this.sendMessage(f);
  }

  acknowledged(id: string): void {
    if (id === READY_ACK) this.becomeReady();
  }

  reply(text: string): void {
    this.write(maskedFrame(OP_TEXT, text));
  }

  failed(reason: string): void {
    if (!this.isReady && !this.isFailed) {
      this.isFailed = true;
      const c = this.ctx.counters;
      c.failed++;
      if (c.failures.length < 5) c.failures.push(reason);
      this.settle();
    }
    this.socket?.end();
  }
}

export const connectionHandler: SocketHandler<GenConnection> = {
  open(socket) {
    socket.data.onOpen(socket);
  },
  data(socket, chunk) {
    socket.data.onData(chunk);
  },
  drain(socket) {
    socket.data.onDrain();
  },
  close(socket) {
    socket.data.onClose(socket, "closed by server");
  },
  error(socket, error) {
    socket.data.onClose(socket, `socket error: ${error.message}`);
  },
  connectError(socket, error) {
    socket.data.failed(`connect failed: ${error.message}`);
  },
};
