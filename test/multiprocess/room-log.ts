/**
 * Everything one logical subscriber received for one room, in arrival order, across however many connections
 * (and processes) it used. The tests compare it with the stored sequence, so any loss, duplicate, reordering or
 * unexplained reset shows up as a difference.
 */
import type { StompHeaders } from "@stomp/stompjs";

export interface Delivered {
  readonly seq: number;
  readonly type: string;
  readonly id: string | null;
  readonly message: string | null;
  /** Label of the process whose connection delivered it. */
  readonly via: string;
}

interface WireEvent {
  readonly type?: unknown;
  readonly seq?: unknown;
  readonly id?: unknown;
  readonly roomId?: unknown;
  readonly message?: unknown;
  readonly latestSeq?: unknown;
}

export class RoomLog {
  readonly events: Delivered[] = [];
  /** latestSeq of every reset event: none may occur while the gap is within the replay backlog. */
  readonly resets: number[] = [];
  /** Frames that contradict the wire contract (header and body seq differ, wrong room, not JSON). */
  readonly anomalies: string[] = [];

  constructor(
    readonly roomId: string,
    readonly label: string,
  ) {}

  record(headers: StompHeaders, body: string, via: string): void {
    let event: WireEvent;
    try {
      event = JSON.parse(body) as WireEvent;
    } catch {
      this.anomalies.push(`${via}: body is not JSON: ${body.slice(0, 200)}`);
      return;
    }
    if (event.type === "reset") {
      this.resets.push(Number(event.latestSeq));
      return;
    }
    // Ephemeral events (typing, presence) carry no seq and are not part of the stream.
    if (typeof event.seq !== "number") return;
    if (headers.seq !== String(event.seq)) {
      this.anomalies.push(`${via}: header seq ${headers.seq} but body seq ${event.seq}`);
    }
    if (event.roomId !== this.roomId) this.anomalies.push(`${via}: event of room ${String(event.roomId)}`);
    this.events.push({
      seq: event.seq,
      type: String(event.type),
      id: typeof event.id === "string" ? event.id : null,
      message: typeof event.message === "string" ? event.message : null,
      via,
    });
  }

  /** The seq of the last event received, 0 before the first: what a resuming client sends as since-seq. */
  lastSeq(): number {
    return this.events[this.events.length - 1]?.seq ?? 0;
  }

  /** Waits until an event with `seq` or later has arrived; false if the deadline passed first. */
  async waitForSeq(seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastSeq() < seq) {
      if (Date.now() >= deadline) return false;
      await Bun.sleep(10);
    }
    return true;
  }

  /** One line per event, for exact comparison with the expected stream. */
  lines(): string[] {
    return this.events.map((e) => `${e.seq} ${e.type} ${e.id} ${e.message}`);
  }
}
